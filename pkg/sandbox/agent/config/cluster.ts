/**
 * envoy.config.cluster.v3.Cluster → ClusterModel: STATIC clusters with socket-address endpoints,
 * and ORIGINAL_DST (accepted, never reachable in the sandbox). Everything else is a problem.
 */
import type { ClusterModel, Endpoint } from '../model.js';
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
      if (e) endpoints.push(e);
    });
  });
  if (entries === 0) p.add(lap, 'a STATIC cluster needs at least one endpoint');
  return endpoints;
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
  refuse(p, c, ['transport_socket_matches', 'eds_cluster_config'], path);
  const tls = parseTransportSocket(p, c.transport_socket, `${path}.transport_socket`);
  if (type === 'ORIGINAL_DST') {
    return { name, kind: 'original_dst', connectTimeoutMs, endpoints: [] };
  }
  if (type !== 'STATIC') {
    return p.add(`${path}.type`, `cluster type ${show(type)} is not supported (STATIC or ORIGINAL_DST)`);
  }
  const endpoints = parseEndpoints(p, c.load_assignment, path);
  return { name, kind: 'static', connectTimeoutMs, endpoints, ...(tls ? { tls } : {}) };
}

export const CLUSTER_RESOURCE: ResourceType<ClusterModel> = {
  kind: 'Cluster',
  parse: (message, problems) => parseCluster(problems, message),
};
