/**
 * Outbound: what the app dials. fsm-init redirects every outbound TCP connection (but the proxy's
 * own and loopback) to the capture listener `outbound_listener` on 15001. It has
 * `use_original_dst`: Envoy restores the connection's original destination (the listener gets the
 * original_dst listener filter implicitly) and hands the connection to the listener bound to that
 * address — or keeps it when there is none, and its one chain passes it through, unencrypted, to
 * where the app meant to go (`outbound_passthrough_cluster`, ORIGINAL_DST).
 *
 * Per meshed Service port, Istio's shape for TCP services: a virtual listener on
 * `<ClusterIP>:<port>` with `bind_to_port: false` (it only receives hand-offs), whose tcp_proxy
 * names the cluster `<ns>/<svc>|<port>` — EDS (its ClusterLoadAssignment, named the same, over the
 * ADS), mTLS presenting the proxy's workload certificate and checking the server's SPIFFE ID.
 * Why one listener per Service port rather than one capture listener holding a filter chain per
 * destination (OSM's shape): each Service is then its own LDS resource, so a change of one Service
 * re-sends one small listener (Delta xDS) instead of a listener holding every Service of the mesh,
 * and Envoy drains only that Service's connections. Pure; every list sorted, so equal input gives
 * equal bytes (the ADS shares one encoding of each resource across every proxy).
 */
import { OUTBOUND_CONNECT_TIMEOUT_SECONDS, PROXY_OUTBOUND_PORT } from '../../constants/index.js';
import { TCP_PROXY_TYPE_URL } from '../type-urls.js';
import { address, LISTEN_ADDRESS, seconds, TCP_PROXY_FILTER, typed } from './common.js';
import { adsConfigSource, outboundMtlsTransportSocket, type ServerIdentity } from './mesh-tls.js';
import type { Cluster, ClusterLoadAssignment, Listener, SharedResources } from './types.js';

export const OUTBOUND_CAPTURE_LISTENER = 'outbound_listener';
/** Anything that is not a meshed Service goes where it was going, unencrypted, as without the mesh. */
export const OUTBOUND_PASSTHROUGH_CLUSTER = 'outbound_passthrough_cluster';

/** `<namespace>/<service>|<port>`: the cluster (and its load assignment) of one Service port. */
export function meshClusterName(namespace: string, service: string, port: number): string {
  return `${namespace}/${service}|${port}`;
}

/** `outbound_<namespace>/<service>|<port>`: the virtual listener of one Service port. */
export function meshListenerName(namespace: string, service: string, port: number): string {
  return `outbound_${meshClusterName(namespace, service, port)}`;
}

function tcpProxyChain(name: string, cluster: string): Listener['filter_chains'][number] {
  return {
    name,
    filters: [
      { name: TCP_PROXY_FILTER, typed_config: typed(TCP_PROXY_TYPE_URL, { stat_prefix: name, cluster }) },
    ],
  };
}

/** The capture listener on 15001: hand-off by original destination, else passthrough. */
export function buildOutboundCaptureListener(): Listener {
  return {
    name: OUTBOUND_CAPTURE_LISTENER,
    address: address(LISTEN_ADDRESS, PROXY_OUTBOUND_PORT),
    traffic_direction: 'OUTBOUND',
    use_original_dst: { value: true },
    filter_chains: [tcpProxyChain('outbound_passthrough', OUTBOUND_PASSTHROUGH_CLUSTER)],
  };
}

/** ORIGINAL_DST: connects to the connection's original destination. */
export function buildOutboundPassthroughCluster(): Cluster {
  return {
    name: OUTBOUND_PASSTHROUGH_CLUSTER,
    type: 'ORIGINAL_DST',
    connect_timeout: seconds(OUTBOUND_CONNECT_TIMEOUT_SECONDS),
    lb_policy: 'CLUSTER_PROVIDED',
  };
}

/** An endpoint of a Service port: a ready pod address and the port its targetPort resolved to. */
export interface MeshEndpoint {
  address: string;
  port: number;
}

export interface MeshServicePort {
  /** The Service port (what clients dial on the ClusterIP). */
  port: number;
  /** Ready endpoints of meshed pods, in any order (sorted here). */
  endpoints: readonly MeshEndpoint[];
}

/** One meshed Service as the builder needs it. */
export interface MeshServiceInput {
  namespace: string;
  name: string;
  clusterIP: string;
  ports: readonly MeshServicePort[];
  /** Who may answer for it: the SPIFFE IDs of its endpoints' service accounts. */
  server: ServerIdentity;
}

function byEndpoint(a: MeshEndpoint, b: MeshEndpoint): number {
  if (a.address !== b.address) return a.address < b.address ? -1 : 1;
  return a.port - b.port;
}

/** The ClusterLoadAssignment of one Service port: its ready endpoints, HEALTHY, in one locality. */
export function buildLoadAssignment(
  cluster: string,
  endpoints: readonly MeshEndpoint[],
): ClusterLoadAssignment {
  const sorted = [...endpoints].sort(byEndpoint);
  return {
    cluster_name: cluster,
    endpoints:
      sorted.length === 0
        ? []
        : [
            {
              lb_endpoints: sorted.map((e) => ({
                endpoint: { address: address(e.address, e.port) },
                health_status: 'HEALTHY' as const,
              })),
            },
          ],
  };
}

/** The EDS cluster of one Service port, with mTLS to its endpoints. */
export function buildMeshCluster(name: string, server: ServerIdentity): Cluster {
  return {
    name,
    type: 'EDS',
    connect_timeout: seconds(OUTBOUND_CONNECT_TIMEOUT_SECONDS),
    lb_policy: 'ROUND_ROBIN',
    eds_cluster_config: { eds_config: adsConfigSource() },
    transport_socket: outboundMtlsTransportSocket(server),
  };
}

/** The virtual listener of one Service port on its ClusterIP (receives hand-offs only). */
export function buildMeshListener(name: string, clusterIP: string, port: number, cluster: string): Listener {
  return {
    name,
    address: address(clusterIP, port),
    traffic_direction: 'OUTBOUND',
    bind_to_port: { value: false },
    filter_chains: [tcpProxyChain(name, cluster)],
  };
}

/** What every proxy of the mesh has whatever the Services: the capture listener and its passthrough. */
export function buildOutboundBase(): SharedResources {
  return {
    listeners: [buildOutboundCaptureListener()],
    clusters: [buildOutboundPassthroughCluster()],
    loadAssignments: [],
  };
}

/** Listener, cluster and load assignment of every port of one meshed Service. */
export function buildMeshServiceResources(s: MeshServiceInput): SharedResources {
  const out: SharedResources = { listeners: [], clusters: [], loadAssignments: [] };
  for (const p of [...s.ports].sort((a, b) => a.port - b.port)) {
    const cluster = meshClusterName(s.namespace, s.name, p.port);
    out.listeners.push(
      buildMeshListener(meshListenerName(s.namespace, s.name, p.port), s.clusterIP, p.port, cluster),
    );
    out.clusters.push(buildMeshCluster(cluster, s.server));
    out.loadAssignments.push(buildLoadAssignment(cluster, p.endpoints));
  }
  return out;
}
