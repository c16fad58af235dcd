/**
 * The sidecar's Envoy v3 bootstrap, passed inline (`envoy --config-yaml <json>`): admission has no
 * side effects (no Secret or ConfigMap is created), so dryRun is safe. node.id is the proxy UUID the
 * pod also carries as a label; listeners and clusters come from the controller's ADS.
 */
import { ADS_CLUSTER_NAME, ADS_PORT, CONTROLLER_SERVICE_NAME, PROXY_ADMIN_PORT } from '../constants/index.js';

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
