/**
 * All of one proxy's own resources from its probe inputs and declared ports: probe listeners,
 * inbound (mTLS) listeners and clusters. The outbound capture listener, its passthrough and the
 * listeners, clusters and load assignments of the mesh's Services are the same for every proxy and
 * built once for all of them (outbound.ts, pkg/catalog's mesh services). Pure; output sorted by name.
 */
import { DEFAULT_INBOUND_MTLS_MODE, DEFAULT_TRUST_DOMAIN } from '../../constants/index.js';
import { buildProbeCluster } from './clusters.js';
import { buildInboundResources } from './inbound.js';
import type { InboundOptions, InboundPort } from './inbound.js';
import { buildProbeListener, probeRouteCluster } from './probe-listener.js';
import { withProbeUpstreamTls } from './probe-tls.js';
import type { ProbeListenerInput } from './probe-listener.js';
import { CLUSTER_LOAD_ASSIGNMENT_TYPE_URL, CLUSTER_TYPE_URL, LISTENER_TYPE_URL } from '../type-urls.js';
import type { Cluster, Listener, ProxyResources, SharedResources } from './types.js';

export interface ProxyBuildInput {
  /** One entry per probe type with HTTP or HTTPS probes (types with none may be left out). */
  probes: readonly ProbeListenerInput[];
  /** Declared application ports, one per port number. */
  inboundPorts: readonly InboundPort[];
  /** The pod's inbound mTLS mode and the mesh's trust domain (default: strict, cluster.local). */
  inbound?: InboundOptions;
}

const DEFAULT_INBOUND: InboundOptions = {
  mode: DEFAULT_INBOUND_MTLS_MODE,
  trustDomain: DEFAULT_TRUST_DOMAIN,
};

export function buildProxyResources(input: ProxyBuildInput): ProxyResources {
  const inbound = buildInboundResources(input.inboundPorts, input.inbound ?? DEFAULT_INBOUND);
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
  return {
    [LISTENER_TYPE_URL]: resources.listeners.map(named),
    [CLUSTER_TYPE_URL]: resources.clusters.map(named),
  };
}

// The builder types are interfaces of plain JSON data; widening them to records is safe.
function named(r: Listener | Cluster): NamedResource {
  return { name: r.name, resource: r as unknown as Record<string, unknown> };
}

/** Shared resources keyed by full type URL (LDS, CDS and EDS). */
export function sharedResourcesByTypeUrl(resources: SharedResources): Record<string, NamedResource[]> {
  return {
    [LISTENER_TYPE_URL]: resources.listeners.map(named),
    [CLUSTER_TYPE_URL]: resources.clusters.map(named),
    [CLUSTER_LOAD_ASSIGNMENT_TYPE_URL]: resources.loadAssignments.map((a) => ({
      name: a.cluster_name,
      resource: a as unknown as Record<string, unknown>,
    })),
  };
}
