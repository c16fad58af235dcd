/**
 * A realistic probe-aware proxy config for ADS tests and the ADS benchmark: liveness, readiness
 * and startup listeners on 15901-15903, each an HTTP connection manager whose routes (one shared
 * route configuration, fetched over RDS) match the rewritten probe path exactly and send it to a
 * STATIC cluster at 127.0.0.1:<app port>, with the original path restored. 3 listeners, 3
 * clusters, 1 route configuration. (Production configs come from pkg/envoy/builders.)
 */
import {
  CLUSTER_TYPE_URL,
  HTTP_CONNECTION_MANAGER_TYPE_URL,
  LISTENER_TYPE_URL,
  ROUTER_TYPE_URL,
  ROUTE_CONFIGURATION_TYPE_URL,
  packAny,
  type PlainMessage,
} from '../../pkg/envoy/index.js';
import type { SnapshotInput } from '../../pkg/ads/index.js';
import { PROBE_TYPES, PROBE_TYPE_INFO, probeClusterName, type ProbeType } from '../../pkg/constants/index.js';

export const PROBE_ROUTE_CONFIG_NAME = 'fsm_probe_routes';

export interface ProbeFixtureOptions {
  /** Container name (cluster names derive from it). */
  container?: string;
  /** Original port of each probe, 127.0.0.1:<port>. */
  appPort?: number;
  /** Original path of each probe (what the rewritten path is turned back into). */
  originalPath?: string;
  /** Per-route timeout in seconds (the probe's timeoutSeconds). */
  timeoutSeconds?: number;
}

export function probeListener(type: ProbeType): PlainMessage {
  const info = PROBE_TYPE_INFO[type];
  const hcm = {
    stat_prefix: `fsm_${type}_probe`,
    codec_type: 'AUTO',
    rds: {
      route_config_name: PROBE_ROUTE_CONFIG_NAME,
      config_source: { ads: {}, resource_api_version: 'V3' },
    },
    http_filters: [{ name: 'envoy.filters.http.router', typed_config: packAny(ROUTER_TYPE_URL, {}) }],
  };
  return {
    name: info.listenerName,
    address: { socket_address: { address: '0.0.0.0', port_value: info.port } },
    filter_chains: [
      {
        filters: [
          {
            name: 'envoy.filters.network.http_connection_manager',
            typed_config: packAny(HTTP_CONNECTION_MANAGER_TYPE_URL, hcm),
          },
        ],
      },
    ],
  };
}

export function probeCluster(name: string, appPort: number): PlainMessage {
  return {
    name,
    type: 'STATIC',
    connect_timeout: { seconds: 1 },
    load_assignment: {
      cluster_name: name,
      endpoints: [
        {
          lb_endpoints: [
            { endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: appPort } } } },
          ],
        },
      ],
    },
  };
}

export function probeRouteConfig(opts: Required<ProbeFixtureOptions>): PlainMessage {
  return {
    name: PROBE_ROUTE_CONFIG_NAME,
    virtual_hosts: [
      {
        name: 'fsm_probes',
        domains: ['*'],
        routes: PROBE_TYPES.map((type) => ({
          match: { path: PROBE_TYPE_INFO[type].path },
          route: {
            cluster: probeClusterName(opts.container, type),
            prefix_rewrite: opts.originalPath,
            timeout: { seconds: opts.timeoutSeconds },
          },
        })),
      },
    ],
  };
}

/** The whole snapshot input of one proxy: 3 listeners, 3 clusters, 1 route configuration. */
export function probeSnapshotInput(options: ProbeFixtureOptions = {}): SnapshotInput {
  const opts: Required<ProbeFixtureOptions> = {
    container: options.container ?? 'app',
    appPort: options.appPort ?? 8080,
    originalPath: options.originalPath ?? '/healthz',
    timeoutSeconds: options.timeoutSeconds ?? 1,
  };
  return {
    [LISTENER_TYPE_URL]: PROBE_TYPES.map((t) => ({
      name: PROBE_TYPE_INFO[t].listenerName,
      resource: probeListener(t),
    })),
    [CLUSTER_TYPE_URL]: PROBE_TYPES.map((t) => {
      const name = probeClusterName(opts.container, t);
      return { name, resource: probeCluster(name, opts.appPort) };
    }),
    [ROUTE_CONFIGURATION_TYPE_URL]: [{ name: PROBE_ROUTE_CONFIG_NAME, resource: probeRouteConfig(opts) }],
  };
}
