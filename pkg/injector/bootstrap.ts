/**
 * The sidecar's Envoy v3 bootstrap, passed inline (`envoy --config-yaml <json>`). node.id is the
 * proxy UUID the pod also carries as a label; listeners, clusters and its workload certificate come
 * from the controller's ADS. The ADS cluster speaks TLS: Envoy presents the pod's bootstrap
 * certificate and checks the controller's (SAN `fsm-controller.<fsm-namespace>.svc`) against the
 * mesh trust bundle, both read from the pod's bootstrap Secret volume through SDS files that Envoy
 * re-reads when kubelet refreshes the volume (watched_directory).
 */
import {
  ADS_CLUSTER_NAME,
  ADS_PORT,
  BOOTSTRAP_CA_SECRET_NAME,
  BOOTSTRAP_CERT_SECRET_NAME,
  BOOTSTRAP_MOUNT_PATH,
  BOOTSTRAP_SDS_CA_KEY,
  BOOTSTRAP_SDS_CERT_KEY,
  CONTROLLER_SERVICE_NAME,
  PROXY_ADMIN_PORT,
} from '../constants/index.js';
import { adsTransportSocket, type TransportSocket } from '../envoy/builders/index.js';

export interface BootstrapOptions {
  proxyUuid: string;
  /** Namespace of the pod (node.cluster is `<serviceAccount>.<namespace>`). */
  namespace: string;
  serviceAccount: string;
  fsmNamespace: string;
  adsPort?: number;
  adminPort?: number;
}

/** The controller's ADS address as seen from a pod. */
export function adsAddress(fsmNamespace: string): string {
  return `${CONTROLLER_SERVICE_NAME}.${fsmNamespace}.svc`;
}

/** The UpstreamTlsContext of the ADS cluster: mTLS with the bootstrap credential. */
export function adsClusterTransportSocket(fsmNamespace: string): TransportSocket {
  return adsTransportSocket({
    certSecretName: BOOTSTRAP_CERT_SECRET_NAME,
    certFile: `${BOOTSTRAP_MOUNT_PATH}/${BOOTSTRAP_SDS_CERT_KEY}`,
    caSecretName: BOOTSTRAP_CA_SECRET_NAME,
    caFile: `${BOOTSTRAP_MOUNT_PATH}/${BOOTSTRAP_SDS_CA_KEY}`,
    directory: BOOTSTRAP_MOUNT_PATH,
    serverName: adsAddress(fsmNamespace),
  });
}

function bootstrapNode(opts: BootstrapOptions): Record<string, unknown> {
  return {
    id: opts.proxyUuid,
    cluster: `${opts.serviceAccount}.${opts.namespace}`,
    metadata: { namespace: opts.namespace, service_account: opts.serviceAccount },
  };
}

export function envoyBootstrap(opts: BootstrapOptions): Record<string, unknown> {
  const ads = { ads: {}, resource_api_version: 'V3' };
  return {
    node: bootstrapNode(opts),
    admin: {
      address: { socket_address: { address: '127.0.0.1', port_value: opts.adminPort ?? PROXY_ADMIN_PORT } },
    },
    dynamic_resources: {
      ads_config: {
        api_type: 'GRPC',
        transport_api_version: 'V3',
        grpc_services: [{ envoy_grpc: { cluster_name: ADS_CLUSTER_NAME } }],
        set_node_on_first_message_only: true,
      },
      cds_config: ads,
      lds_config: ads,
    },
    static_resources: {
      clusters: [
        {
          name: ADS_CLUSTER_NAME,
          type: 'LOGICAL_DNS',
          connect_timeout: '1s',
          transport_socket: adsClusterTransportSocket(opts.fsmNamespace),
          typed_extension_protocol_options: {
            'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
              '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
              explicit_http_config: { http2_protocol_options: {} },
            },
          },
          load_assignment: {
            cluster_name: ADS_CLUSTER_NAME,
            endpoints: [
              {
                lb_endpoints: [
                  {
                    endpoint: {
                      address: {
                        socket_address: {
                          address: adsAddress(opts.fsmNamespace),
                          port_value: opts.adsPort ?? ADS_PORT,
                        },
                      },
                    },
                  },
                ],
              },
            ],
          },
        },
      ],
    },
  };
}

const restCache = new Map<string, string>();

/**
 * The bootstrap as a compact JSON string (valid YAML for --config-yaml), equal to
 * JSON.stringify(envoyBootstrap(opts)). Everything after `node` depends only on the control plane's
 * address, so that part is serialised once per address (admission is on the hot path).
 */
export function envoyBootstrapYaml(opts: BootstrapOptions): string {
  const key = `${opts.fsmNamespace}|${opts.adsPort ?? ''}|${opts.adminPort ?? ''}`;
  let rest = restCache.get(key);
  if (rest === undefined) {
    const others: Record<string, unknown> = { ...envoyBootstrap(opts) };
    delete others['node'];
    rest = JSON.stringify(others).slice(1);
    if (restCache.size >= 64) restCache.clear();
    restCache.set(key, rest);
  }
  return `{"node":${JSON.stringify(bootstrapNode(opts))},${rest}`;
}
