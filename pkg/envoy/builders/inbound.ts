/**
 * Inbound listeners: traffic into the app. fsm-init redirects every inbound connection to the
 * proxy's capture port; the capture listener (`use_original_dst`) hands each connection to the
 * listener of its original destination port — `inbound_<port>`, one per declared container port,
 * not bound itself (the app owns that port) — which proxies it to the app on 127.0.0.1:<port>.
 * Connections to a port no container declares are passed through to their original destination.
 */
import { PROXY_INBOUND_PORT } from '../../constants/index.js';
import { buildInboundCluster, buildInboundPassthroughCluster, inboundClusterName } from './clusters.js';
import { INBOUND_PASSTHROUGH_CLUSTER } from './clusters.js';
import { TCP_PROXY_TYPE_URL } from '../type-urls.js';
import { address, LISTEN_ADDRESS, TCP_PROXY_FILTER, typed } from './common.js';
import type { Cluster, FilterChain, Listener } from './types.js';

export const INBOUND_CAPTURE_LISTENER = 'inbound_listener';

export function inboundListenerName(port: number): string {
  return `inbound_${port}`;
}

function tcpProxyChain(name: string, statPrefix: string, cluster: string): FilterChain {
  return {
    name,
    filters: [
      {
        name: TCP_PROXY_FILTER,
        typed_config: typed(TCP_PROXY_TYPE_URL, { stat_prefix: statPrefix, cluster }),
      },
    ],
  };
}

/** `inbound_<port>`: receives connections handed off by the capture listener. */
export function buildInboundListener(container: string, port: number): Listener {
  const name = inboundListenerName(port);
  return {
    name,
    address: address(LISTEN_ADDRESS, port),
    traffic_direction: 'INBOUND',
    bind_to_port: { value: false },
    filter_chains: [tcpProxyChain(name, name, inboundClusterName(container, port))],
  };
}

/** `inbound_listener` on the capture port: hands off by original destination, else passes through. */
export function buildInboundCaptureListener(): Listener {
  return {
    name: INBOUND_CAPTURE_LISTENER,
    address: address(LISTEN_ADDRESS, PROXY_INBOUND_PORT),
    traffic_direction: 'INBOUND',
    use_original_dst: { value: true },
    filter_chains: [tcpProxyChain('inbound_passthrough', 'inbound_passthrough', INBOUND_PASSTHROUGH_CLUSTER)],
  };
}

/** One declared container port. */
export interface InboundPort {
  container: string;
  port: number;
}

/** The capture listener, a listener and a cluster per port, and the passthrough cluster. */
export function buildInboundResources(ports: readonly InboundPort[]): {
  listeners: Listener[];
  clusters: Cluster[];
} {
  const listeners: Listener[] = [buildInboundCaptureListener()];
  const clusters: Cluster[] = [buildInboundPassthroughCluster()];
  for (const { container, port } of ports) {
    listeners.push(buildInboundListener(container, port));
    clusters.push(buildInboundCluster(container, port));
  }
  return { listeners, clusters };
}
