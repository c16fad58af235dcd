/** All of one proxy's resources from its probe inputs and declared ports. Pure; output sorted by name. */
import { buildProbeCluster } from './clusters.js';
import { buildInboundResources } from './inbound.js';
import type { InboundPort } from './inbound.js';
import { buildProbeListener, probeRouteCluster } from './probe-listener.js';
import { withProbeUpstreamTls } from './probe-tls.js';
import type { ProbeListenerInput } from './probe-listener.js';
import { CLUSTER_TYPE_URL, LISTENER_TYPE_URL } from '../type-urls.js';
import type { Cluster, Listener, ProxyResources } from './types.js';

export interface ProxyBuildInput {
  /** One entry per probe type with HTTP or HTTPS probes (types with none may be left out). */
  probes: readonly ProbeListenerInput[];
  /** Declared application ports, one per port number. */
  inboundPorts: readonly InboundPort[];
}

export function buildProxyResources(input: ProxyBuildInput): ProxyResources {
  const inbound = buildInboundResources(input.inboundPorts);
  const listeners: Listener[] = [...inbound.listeners];
  const clusters: Cluster[] = [...inbound.clusters];
  for (const probes of input.probes) {
    const listener = buildProbeListener(probes);
    if (listener !== undefined) listeners.push(listener);
    for (const p of probes.http) {
      const cluster = buildProbeCluster(p.container, probes.type, p.port, p.timeoutSeconds);
      cluster.name = probeRouteCluster(probes.type, p);
      cluster.load_assignment!.cluster_name = cluster.name;
      clusters.push(p.tls ? withProbeUpstreamTls(cluster) : cluster);
    }
    if (probes.https !== undefined) {
      const p = probes.https;
      clusters.push(buildProbeCluster(p.container, probes.type, p.port, p.timeoutSeconds));
    }
  }
  listeners.sort(byName);
  clusters.sort(byName);
  return { listeners, clusters };
}

function byName(a: { name: string }, b: { name: string }): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/** One resource as the ADS snapshot cache takes it (pkg/ads ResourceInput). */
export interface NamedResource {
  name: string;
  resource: Record<string, unknown>;
}

/**
 * The resources keyed by full type URL (LDS and CDS; routes are inline in the listeners), the
 * shape of pkg/ads SnapshotCache.setSnapshot's input.
 */
export function resourcesByTypeUrl(resources: ProxyResources): Record<string, NamedResource[]> {
  // The builder types are interfaces of plain JSON data; widening them to records is safe.
  const named = (r: Listener | Cluster): NamedResource => ({
    name: r.name,
    resource: r as unknown as Record<string, unknown>,
  });
  return {
    [LISTENER_TYPE_URL]: resources.listeners.map(named),
    [CLUSTER_TYPE_URL]: resources.clusters.map(named),
  };
}
