/**
 * Inbound listeners: traffic into the app. fsm-init redirects every inbound connection to the
 * proxy's capture port; the capture listener (`use_original_dst`) hands each connection to the
 * listener of its original destination — `inbound_<port>` on `<pod IP>:<port>`, one per declared
 * container port, not bound itself (the app owns that port) — which proxies it to the app on
 * 127.0.0.1:<port>.
 * Connections to a port no container declares are passed through to their original destination.
 *
 * Every `inbound_<port>` requires mTLS from the mesh (mesh-tls.ts): its chain terminates TLS with the
 * pod's workload certificate and admits only clients presenting a workload certificate of the mesh.
 * `strict` (the default) has no other chain, so a plaintext connection fails the TLS handshake and is
 * closed; `permissive` adds a TLS inspector and a `raw_buffer` chain to the same app (the Istio/OSM
 * shape: the mTLS chain matches transport protocol `tls`). An HTTP port (its container port
 * name says so, see pkg/catalog ports.ts) runs an HTTP connection manager that puts the caller's
 * SPIFFE ID in x-forwarded-client-cert (and strips any such header a caller sent); any other port
 * runs tcp_proxy. Both log each connection or request with the caller's identity.
 */
import { PROXY_INBOUND_PORT, type InboundMtlsMode } from '../../constants/index.js';
import { buildInboundCluster, buildInboundPassthroughCluster, inboundClusterName } from './clusters.js';
import { INBOUND_PASSTHROUGH_CLUSTER } from './clusters.js';
import { HTTP_CONNECTION_MANAGER_TYPE_URL, ROUTER_TYPE_URL, TCP_PROXY_TYPE_URL } from '../type-urls.js';
import {
  HTTP_CONNECTION_MANAGER_FILTER,
  address,
  LISTEN_ADDRESS,
  packedEmpty,
  ROUTER_FILTER,
  seconds,
  TCP_PROXY_FILTER,
  TLS_INSPECTOR_FILTER,
  TLS_INSPECTOR_TYPE_URL,
  typed,
} from './common.js';
import {
  INBOUND_HTTP_ACCESS_LOG_FORMAT,
  INBOUND_TCP_ACCESS_LOG_FORMAT,
  stdoutAccessLog,
} from './access-log.js';
import { inboundMtlsTransportSocket } from './mesh-tls.js';
import type { Cluster, FilterChain, Listener, NetworkFilter } from './types.js';

export const INBOUND_CAPTURE_LISTENER = 'inbound_listener';

export function inboundListenerName(port: number): string {
  return `inbound_${port}`;
}

/** One declared container port. */
export interface InboundPort {
  container: string;
  port: number;
  /** How the app speaks on it (from the container port's name); default tcp. */
  protocol?: 'http' | 'tcp';
}

/** What every inbound chain of a pod shares. */
export interface InboundOptions {
  mode: InboundMtlsMode;
  /** SPIFFE trust domain of the mesh: clients must present an identity under it. */
  trustDomain: string;
  /**
   * The pod's IP (status.podIP) once known: each `inbound_<port>` listens on `<podIP>:<port>`, so
   * only connections to the pod itself are handed to it. On 0.0.0.0 (before the IP is known) an
   * outbound connection of the app to any address on that port would be handed to it too by the
   * outbound capture listener (Envoy matches hand-offs exact address first, then the wildcard).
   */
  podIP?: string;
}

function tcpProxyFilter(statPrefix: string, cluster: string, accessLog: boolean): NetworkFilter {
  return {
    name: TCP_PROXY_FILTER,
    typed_config: typed(TCP_PROXY_TYPE_URL, {
      stat_prefix: statPrefix,
      cluster,
      ...(accessLog ? { access_log: [stdoutAccessLog(INBOUND_TCP_ACCESS_LOG_FORMAT)] } : {}),
    }),
  };
}

/**
 * The app's HTTP connection manager. Over mTLS the caller's URI SAN is set in
 * x-forwarded-client-cert (SANITIZE_SET: whatever the caller sent is replaced); over plaintext the
 * header is removed (SANITIZE), so no caller can claim an identity it did not prove.
 */
function httpFilter(listener: string, cluster: string, mtls: boolean): NetworkFilter {
  return {
    name: HTTP_CONNECTION_MANAGER_FILTER,
    typed_config: typed(HTTP_CONNECTION_MANAGER_TYPE_URL, {
      stat_prefix: listener,
      codec_type: 'AUTO',
      route_config: {
        name: `${listener}_route`,
        virtual_hosts: [
          {
            name: listener,
            domains: ['*'],
            // No route timeout: app requests may stream or take long, as they do without the mesh.
            routes: [{ name: 'app', match: { prefix: '/' }, route: { cluster, timeout: seconds(0) } }],
          },
        ],
      },
      http_filters: [{ name: ROUTER_FILTER, typed_config: typed(ROUTER_TYPE_URL) }],
      forward_client_cert_details: mtls ? 'SANITIZE_SET' : 'SANITIZE',
      ...(mtls ? { set_current_client_cert_details: { uri: true } } : {}),
      access_log: [stdoutAccessLog(INBOUND_HTTP_ACCESS_LOG_FORMAT)],
    }),
  };
}

function appFilter(p: InboundPort, listener: string, mtls: boolean): NetworkFilter {
  const cluster = inboundClusterName(p.container, p.port);
  return p.protocol === 'http'
    ? httpFilter(listener, cluster, mtls)
    : tcpProxyFilter(listener, cluster, true);
}

/**
 * `inbound_<port>`: receives connections handed off by the capture listener. Strict: one chain, TLS
 * termination requiring a mesh identity — a plaintext connection fails the handshake and is closed.
 * Permissive: a TLS inspector picks the mTLS chain for TLS and a plaintext chain for the rest.
 */
export function buildInboundListener(p: InboundPort, o: InboundOptions): Listener {
  const name = inboundListenerName(p.port);
  const permissive = o.mode === 'permissive';
  const mtls: FilterChain = {
    name: `${name}_mtls`,
    transport_socket: inboundMtlsTransportSocket(o.trustDomain),
    filters: [appFilter(p, name, true)],
  };
  const listener: Listener = {
    name,
    address: address(o.podIP ?? LISTEN_ADDRESS, p.port),
    traffic_direction: 'INBOUND',
    bind_to_port: { value: false },
    filter_chains: [mtls],
  };
  if (permissive) {
    mtls.filter_chain_match = { transport_protocol: 'tls' };
    listener.filter_chains.push({
      name: `${name}_plaintext`,
      filter_chain_match: { transport_protocol: 'raw_buffer' },
      filters: [appFilter(p, name, false)],
    });
    listener.listener_filters = [
      { name: TLS_INSPECTOR_FILTER, typed_config: packedEmpty(TLS_INSPECTOR_TYPE_URL) },
    ];
  }
  return listener;
}

/** `inbound_listener` on the capture port: hands off by original destination, else passes through. */
export function buildInboundCaptureListener(): Listener {
  return {
    name: INBOUND_CAPTURE_LISTENER,
    address: address(LISTEN_ADDRESS, PROXY_INBOUND_PORT),
    traffic_direction: 'INBOUND',
    use_original_dst: { value: true },
    filter_chains: [
      {
        name: 'inbound_passthrough',
        filters: [tcpProxyFilter('inbound_passthrough', INBOUND_PASSTHROUGH_CLUSTER, false)],
      },
    ],
  };
}

/** The capture listener, a listener and a cluster per port, and the passthrough cluster. */
export function buildInboundResources(
  ports: readonly InboundPort[],
  o: InboundOptions,
): {
  listeners: Listener[];
  clusters: Cluster[];
} {
  const listeners: Listener[] = [buildInboundCaptureListener()];
  const clusters: Cluster[] = [buildInboundPassthroughCluster()];
  for (const p of ports) {
    listeners.push(buildInboundListener(p, o));
    clusters.push(buildInboundCluster(p.container, p.port));
  }
  return { listeners, clusters };
}
