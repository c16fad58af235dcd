/**
 * envoy.config.cluster.v3.Cluster → ClusterModel: STATIC clusters with socket-address endpoints,
 * EDS clusters (their ClusterLoadAssignment over the ADS, load-assignment.ts) and ORIGINAL_DST
 * (the connection's original destination). Everything else is a problem.
 */
import type { ClusterModel, Endpoint } from '../model.js';
import { isObj } from './fields.js';
import { durationMs, list, obj, optObj, refuse, show, socketAddress, str } from './fields.js';
import type { Problems } from './problems.js';
import type { ResourceType } from './resource-type.js';
import { parseTransportSocket } from './transport-socket.js';

/** Envoy's default cluster connect_timeout. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 5000;

function parseEndpoints(p: Problems, la: unknown, path: string): Endpoint[] {
  const lap = `${path}.load_assignment`;
  const assignment = optObj(p, la, lap);
  if (!assignment) {
    if (la === undefined || la === null) p.add(lap, 'a STATIC cluster needs a load_assignment');
    return [];
  }
  const { endpoints, entries } = parseLocalityEndpoints(p, assignment, lap);
  if (entries === 0) p.add(lap, 'a STATIC cluster needs at least one endpoint');
  return endpoints;
}

/**
 * The endpoints of a ClusterLoadAssignment (a STATIC cluster's load_assignment or an EDS
 * resource): socket addresses; endpoints reported UNHEALTHY, DRAINING or TIMEOUT are left out.
 */
export function parseLocalityEndpoints(
  p: Problems,
  assignment: Record<string, unknown>,
  lap: string,
): { endpoints: Endpoint[]; entries: number } {
  const endpoints: Endpoint[] = [];
  let entries = 0;
  list(p, assignment.endpoints, `${lap}.endpoints`)?.forEach((le, i) => {
    const lp = `${lap}.endpoints[${i}]`;
    const locality = obj(p, le, lp);
    if (!locality) return;
    list(p, locality.lb_endpoints, `${lp}.lb_endpoints`)?.forEach((lb, j) => {
      entries++;
      const bp = `${lp}.lb_endpoints[${j}]`;
      const lbe = obj(p, lb, bp);
      if (!lbe) return;
      const ep = optObj(p, lbe.endpoint, `${bp}.endpoint`);
      if (!ep) {
        if (lbe.endpoint === undefined || lbe.endpoint === null) {
          p.add(`${bp}.endpoint`, 'missing (named endpoints are not supported)');
        }
        return;
      }
      const e = socketAddress(p, ep.address, `${bp}.endpoint.address`, false);
      const health = str(p, lbe.health_status, `${bp}.health_status`, 'UNKNOWN');
      if (e && (health === 'UNKNOWN' || health === 'HEALTHY' || health === 'DEGRADED')) endpoints.push(e);
    });
  });
  return { endpoints, entries };
}

/** eds_cluster_config: its endpoints come over the ADS, under service_name (else the cluster's name). */
function parseEdsConfig(p: Problems, v: unknown, path: string, name: string): string {
  const ep = `${path}.eds_cluster_config`;
  const cfg = optObj(p, v, ep);
  if (!cfg) {
    p.add(ep, 'an EDS cluster needs eds_cluster_config with an ads eds_config');
    return name;
  }
  const src = optObj(p, cfg.eds_config, `${ep}.eds_config`);
  if (!src || !isObj(src.ads)) {
    p.add(`${ep}.eds_config`, 'only ads config sources are supported (the agent has one ADS stream)');
  }
  const service = str(p, cfg.service_name, `${ep}.service_name`, '');
  return service || name;
}

function parseCluster(p: Problems, v: unknown): ClusterModel | undefined {
  const c = obj(p, v, 'Cluster');
  if (!c) return undefined;
  const name = str(p, c.name, 'Cluster.name', '');
  if (!name) p.add('Cluster.name', 'must not be empty');
  const path = name ? `Cluster ${show(name)}` : 'Cluster';
  if (c.cluster_type !== undefined && c.cluster_type !== null) {
    p.add(`${path}.cluster_type`, `custom cluster types are not supported`);
  }
  const type = str(p, c.type, `${path}.type`, 'STATIC');
  const connectTimeoutMs = durationMs(
    p,
    c.connect_timeout,
    `${path}.connect_timeout`,
    DEFAULT_CONNECT_TIMEOUT_MS,
  );
  refuse(p, c, ['transport_socket_matches'], path);
  const tls = parseTransportSocket(p, c.transport_socket, `${path}.transport_socket`);
  if (type !== 'EDS')
    refuse(p, c, ['eds_cluster_config'], path, `only EDS clusters take it (this one is ${type})`);
  if (type === 'ORIGINAL_DST') {
    if (tls)
      p.add(`${path}.transport_socket`, 'an ORIGINAL_DST passthrough is not encrypted by the probe agent');
    return { name, kind: 'original_dst', connectTimeoutMs, endpoints: [] };
  }
  if (type === 'EDS') {
    const lb = str(p, c.lb_policy, `${path}.lb_policy`, 'ROUND_ROBIN');
    if (lb !== 'ROUND_ROBIN') p.add(`${path}.lb_policy`, `only ROUND_ROBIN is supported, got ${show(lb)}`);
    if (c.load_assignment !== undefined && c.load_assignment !== null) {
      p.add(`${path}.load_assignment`, 'an EDS cluster gets its endpoints over the ADS, not inline');
    }
    const edsName = parseEdsConfig(p, c.eds_cluster_config, path, name);
    return { name, kind: 'eds', connectTimeoutMs, endpoints: [], edsName, ...(tls ? { tls } : {}) };
  }
  if (type !== 'STATIC') {
    return p.add(`${path}.type`, `cluster type ${show(type)} is not supported (STATIC, EDS or ORIGINAL_DST)`);
  }
  const endpoints = parseEndpoints(p, c.load_assignment, path);
  return { name, kind: 'static', connectTimeoutMs, endpoints, ...(tls ? { tls } : {}) };
}

export const CLUSTER_RESOURCE: ResourceType<ClusterModel> = {
  kind: 'Cluster',
  parse: (message, problems) => parseCluster(problems, message),
};
