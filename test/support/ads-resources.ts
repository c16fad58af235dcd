/** Small, distinct xDS resources for protocol tests (plain objects of the real proto types). */
import {
  CLUSTER_LOAD_ASSIGNMENT_TYPE_URL,
  CLUSTER_TYPE_URL,
  LISTENER_TYPE_URL,
  ROUTE_CONFIGURATION_TYPE_URL,
  TCP_PROXY_TYPE_URL,
  packAny,
  type PlainMessage,
} from '../../pkg/envoy/index.js';
import type { ResourceInput, SnapshotInput } from '../../pkg/ads/index.js';

export const LDS = LISTENER_TYPE_URL;
export const CDS = CLUSTER_TYPE_URL;
export const RDS = ROUTE_CONFIGURATION_TYPE_URL;
export const EDS = CLUSTER_LOAD_ASSIGNMENT_TYPE_URL;

export function cluster(name: string, port = 8080): ResourceInput {
  const resource: PlainMessage = {
    name,
    type: 'STATIC',
    connect_timeout: { seconds: 1 },
    load_assignment: {
      cluster_name: name,
      endpoints: [
        {
          lb_endpoints: [
            { endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: port } } } },
          ],
        },
      ],
    },
  };
  return { name, resource };
}

export function edsCluster(name: string): ResourceInput {
  return {
    name,
    resource: {
      name,
      type: 'EDS',
      connect_timeout: { seconds: 1 },
      eds_cluster_config: { eds_config: { ads: {}, resource_api_version: 'V3' } },
    },
  };
}

export function listener(name: string, port: number, clusterName: string): ResourceInput {
  return {
    name,
    resource: {
      name,
      address: { socket_address: { address: '0.0.0.0', port_value: port } },
      filter_chains: [
        {
          filters: [
            {
              name: 'envoy.filters.network.tcp_proxy',
              typed_config: packAny(TCP_PROXY_TYPE_URL, { stat_prefix: name, cluster: clusterName }),
            },
          ],
        },
      ],
    },
  };
}

export function route(name: string, clusterName: string, path = '/'): ResourceInput {
  return {
    name,
    resource: {
      name,
      virtual_hosts: [
        { name: 'vh', domains: ['*'], routes: [{ match: { path }, route: { cluster: clusterName } }] },
      ],
    },
  };
}

export function cla(name: string, port: number): ResourceInput {
  return {
    name,
    resource: {
      cluster_name: name,
      endpoints: [
        {
          lb_endpoints: [
            { endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: port } } } },
          ],
        },
      ],
    },
  };
}

/** Route configurations that tests subscribe to as "barriers" (see AdsStreamProbe.barrier). */
export const BARRIER_ROUTES: ResourceInput[] = Array.from({ length: 10 }, (_, i) =>
  route(`barrier-${i}`, 'c1', `/b${i}`),
);

/** Base snapshot: clusters c1, c2; listener l1 → c1; routes r1, r2; EDS e1; plus barrier routes. */
export function baseSnapshot(over: Partial<Record<string, ResourceInput[]>> = {}): SnapshotInput {
  return {
    [CDS]: [cluster('c1', 8081), cluster('c2', 8082)],
    [LDS]: [listener('l1', 10001, 'c1')],
    [RDS]: [route('r1', 'c1', '/one'), route('r2', 'c2', '/two'), ...BARRIER_ROUTES],
    [EDS]: [cla('e1', 9001)],
    ...over,
  };
}
