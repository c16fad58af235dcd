/** Clusters: where the proxy sends probe and inbound traffic — always the app on 127.0.0.1. */
import { probeClusterName } from '../../constants/index.js';
import type { ProbeType } from '../../constants/index.js';
import { address, LOCALHOST, probeTimeout, seconds } from './common.js';
import type { Cluster } from './types.js';

/** Connect timeout of inbound clusters (probe clusters use the probe's own timeout). */
export const INBOUND_CONNECT_TIMEOUT_SECONDS = 5;
/** Inbound traffic to a port the pod does not declare goes to its original destination unchanged. */
export const INBOUND_PASSTHROUGH_CLUSTER = 'inbound_passthrough_cluster';

/** A STATIC cluster with one endpoint at 127.0.0.1:<port>. */
export function staticLocalCluster(name: string, port: number, connectTimeoutSeconds: number): Cluster {
  return {
    name,
    type: 'STATIC',
    connect_timeout: seconds(connectTimeoutSeconds),
    lb_policy: 'ROUND_ROBIN',
    load_assignment: {
      cluster_name: name,
      endpoints: [{ lb_endpoints: [{ endpoint: { address: address(LOCALHOST, port) } }] }],
    },
  };
}

/** `<container>_<type>_cluster`: the app's original probe port, connect timeout = the probe timeout. */
export function buildProbeCluster(
  container: string,
  type: ProbeType,
  port: number,
  timeoutSeconds: number,
): Cluster {
  const cluster = staticLocalCluster(probeClusterName(container, type), port, 1);
  cluster.connect_timeout = probeTimeout(timeoutSeconds);
  return cluster;
}

/** `inbound_<container>_<port>_cluster`: application traffic for a declared container port. */
export function inboundClusterName(container: string, port: number): string {
  return `inbound_${container}_${port}_cluster`;
}

export function buildInboundCluster(container: string, port: number): Cluster {
  return staticLocalCluster(inboundClusterName(container, port), port, INBOUND_CONNECT_TIMEOUT_SECONDS);
}

/** ORIGINAL_DST cluster: forwards a captured connection to the address it was sent to. */
export function buildInboundPassthroughCluster(): Cluster {
  return {
    name: INBOUND_PASSTHROUGH_CLUSTER,
    type: 'ORIGINAL_DST',
    connect_timeout: seconds(INBOUND_CONNECT_TIMEOUT_SECONDS),
    lb_policy: 'CLUSTER_PROVIDED',
  };
}
