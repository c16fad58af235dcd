import { buildProbeListener, probeRoute } from '../../../../pkg/envoy/builders/probe-listener.js';
import { rewriteTarget, TLS_INSPECTOR_TYPE_URL } from '../../../../pkg/envoy/builders/index.js';
import {
  HTTP_CONNECTION_MANAGER_TYPE_URL,
  ROUTER_TYPE_URL,
  TCP_PROXY_TYPE_URL,
} from '../../../../pkg/envoy/type-urls.js';
import type {
  HttpProbeRoute,
  Listener,
  ProbeListenerInput,
  Route,
} from '../../../../pkg/envoy/builders/index.js';
import type { ProbeType } from '../../../../pkg/constants/index.js';

function http(container: string, over: Partial<HttpProbeRoute> = {}): HttpProbeRoute {
  return {
    container,
    matchPath: '/fsm-liveness-probe',
    originalPath: '/healthz',
    port: 8080,
    headers: [],
    timeoutSeconds: 1,
    ...over,
  };
}

function hcm(listener: Listener, chain = 0): Record<string, any> {
  const filter = listener.filter_chains[chain]!.filters[0]!;
  expect(filter.name).toBe('envoy.filters.network.http_connection_manager');
  expect(filter.typed_config['@type']).toBe(HTTP_CONNECTION_MANAGER_TYPE_URL);
  return filter.typed_config;
}

function routes(listener: Listener, chain = 0): Route[] {
  return hcm(listener, chain).route_config.virtual_hosts[0].routes as Route[];
}

describe('buildProbeListener: exact objects', () => {
  it('one container, HTTP liveness probe', () => {
    expect(buildProbeListener({ type: 'liveness', http: [http('app')] })).toEqual({
      name: 'liveness_listener',
      address: { socket_address: { protocol: 'TCP', address: '0.0.0.0', port_value: 15901 } },
      traffic_direction: 'INBOUND',
      filter_chains: [
        {
          name: 'liveness_http',
          filters: [
            {
              name: 'envoy.filters.network.http_connection_manager',
              typed_config: {
                '@type': HTTP_CONNECTION_MANAGER_TYPE_URL,
                stat_prefix: 'liveness_listener',
                codec_type: 'AUTO',
                route_config: {
                  name: 'liveness_route',
                  virtual_hosts: [
                    {
                      name: 'liveness_probes',
                      domains: ['*'],
                      routes: [
                        {
                          name: 'app_liveness_route',
                          match: { path: '/fsm-liveness-probe' },
                          route: {
                            cluster: 'app_liveness_cluster',
                            prefix_rewrite: '/healthz',
                            timeout: { seconds: 1, nanos: 0 },
                          },
                        },
                      ],
                    },
                  ],
                },
                http_filters: [
                  { name: 'envoy.filters.http.router', typed_config: { '@type': ROUTER_TYPE_URL } },
                ],
              },
            },
          ],
        },
      ],
    });
  });

  it('one container, HTTPS readiness probe: tcp_proxy passthrough, no HTTP manager', () => {
    expect(
      buildProbeListener({
        type: 'readiness',
        http: [],
        https: { container: 'web', port: 8443, timeoutSeconds: 3 },
      }),
    ).toEqual({
      name: 'readiness_listener',
      address: { socket_address: { protocol: 'TCP', address: '0.0.0.0', port_value: 15902 } },
      traffic_direction: 'INBOUND',
      filter_chains: [
        {
          name: 'readiness_https',
          filters: [
            {
              name: 'envoy.filters.network.tcp_proxy',
              typed_config: {
                '@type': TCP_PROXY_TYPE_URL,
                stat_prefix: 'readiness_listener_https',
                cluster: 'web_readiness_cluster',
              },
            },
          ],
        },
      ],
    });
  });
});

describe('buildProbeListener: per type', () => {
  it.each<[ProbeType, string, number]>([
    ['liveness', 'liveness_listener', 15901],
    ['readiness', 'readiness_listener', 15902],
    ['startup', 'startup_listener', 15903],
  ])('%s → %s on 0.0.0.0:%d', (type, name, port) => {
    const l = buildProbeListener({ type, http: [http('app', { matchPath: `/fsm-${type}-probe` })] })!;
    expect(l.name).toBe(name);
    expect(l.address.socket_address).toEqual({ protocol: 'TCP', address: '0.0.0.0', port_value: port });
    expect(hcm(l).stat_prefix).toBe(name);
    expect(routes(l)[0]!.route.cluster).toBe(`app_${type}_cluster`);
    expect(routes(l)[0]!.match).toEqual({ path: `/fsm-${type}-probe` });
  });

  it.each<ProbeListenerInput>([
    { type: 'liveness', http: [] },
    { type: 'startup', http: [] },
  ])('no HTTP or HTTPS probe of %j → no listener', (input) => {
    expect(buildProbeListener(input)).toBeUndefined();
  });
});

describe('buildProbeListener: several containers share a type', () => {
  const l = buildProbeListener({
    type: 'readiness',
    http: [
      http('web', { matchPath: '/fsm-readiness-probe/web', originalPath: '/ready', port: 8080 }),
      http('api', { matchPath: '/fsm-readiness-probe/api', originalPath: '/status', port: 9000 }),
      http('db-proxy', { matchPath: '/fsm-readiness-probe/db-proxy', originalPath: '', port: 5000 }),
    ],
  })!;
  it.each([
    ['/fsm-readiness-probe/api', 'api_readiness_cluster', '/status'],
    ['/fsm-readiness-probe/db-proxy', 'db-proxy_readiness_cluster', '/'],
    ['/fsm-readiness-probe/web', 'web_readiness_cluster', '/ready'],
  ])('%s → %s rewritten to %s', (path, cluster, rewrite) => {
    const r = routes(l).find((x) => x.match.path === path)!;
    expect(r.route.cluster).toBe(cluster);
    expect(r.route.prefix_rewrite).toBe(rewrite);
  });
  it('one route per container, in a stable (sorted) order, one virtual host, one chain', () => {
    expect(routes(l).map((r) => r.match.path)).toEqual([
      '/fsm-readiness-probe/api',
      '/fsm-readiness-probe/db-proxy',
      '/fsm-readiness-probe/web',
    ]);
    expect(l.filter_chains).toHaveLength(1);
    expect(hcm(l).route_config.virtual_hosts).toHaveLength(1);
  });
  it('does not depend on the input order', () => {
    const reversed = buildProbeListener({
      type: 'readiness',
      http: [
        http('db-proxy', { matchPath: '/fsm-readiness-probe/db-proxy', originalPath: '', port: 5000 }),
        http('api', { matchPath: '/fsm-readiness-probe/api', originalPath: '/status', port: 9000 }),
        http('web', { matchPath: '/fsm-readiness-probe/web', originalPath: '/ready', port: 8080 }),
      ],
    });
    expect(reversed).toEqual(l);
  });
});

describe('buildProbeListener: HTTP and HTTPS probes of one type in one pod', () => {
  const l = buildProbeListener({
    type: 'liveness',
    http: [http('a', { matchPath: '/fsm-liveness-probe/a' })],
    https: { container: 'b', port: 8443, timeoutSeconds: 2 },
  })!;
  it('a TLS inspector picks the chain by transport protocol', () => {
    expect(l.listener_filters).toEqual([
      {
        name: 'envoy.filters.listener.tls_inspector',
        typed_config: { type_url: TLS_INSPECTOR_TYPE_URL, value: new Uint8Array(0) },
      },
    ]);
    expect(l.filter_chains.map((c) => [c.name, c.filter_chain_match])).toEqual([
      ['liveness_http', { transport_protocol: 'raw_buffer' }],
      ['liveness_https', { transport_protocol: 'tls' }],
    ]);
    expect(l.filter_chains[1]!.filters[0]!.typed_config.cluster).toBe('b_liveness_cluster');
    expect(routes(l)[0]!.route.cluster).toBe('a_liveness_cluster');
  });
  it('single-protocol listeners carry no inspector and no chain match', () => {
    const only = buildProbeListener({ type: 'liveness', http: [http('a')] })!;
    expect(only.listener_filters).toBeUndefined();
    expect(only.filter_chains[0]!.filter_chain_match).toBeUndefined();
  });
});

describe('route timeout = max(1 s, timeoutSeconds)', () => {
  it.each([
    [0, 1],
    [1, 1],
    [2, 2],
    [30, 30],
    [0.5, 1],
    [2.5, 3],
    [-3, 1],
    [Number.NaN, 1],
  ])('timeoutSeconds %p → %p s', (timeoutSeconds, want) => {
    expect(probeRoute('liveness', http('app', { timeoutSeconds })).route.timeout).toEqual({
      seconds: want,
      nanos: 0,
    });
  });
});

describe('rewrite target (original path)', () => {
  it.each([
    ['', '/'],
    ['/', '/'],
    ['/healthz', '/healthz'],
    ['healthz', '/healthz'],
    ['/a/b/c', '/a/b/c'],
    ['/health?verbose=1', '/health?verbose=1'],
    ['/fsm-liveness-probe', '/fsm-liveness-probe'],
  ])('%j → %j', (path, want) => {
    expect(rewriteTarget(path)).toBe(want);
    expect(probeRoute('startup', http('app', { originalPath: path })).route.prefix_rewrite).toBe(want);
  });
});

describe('original httpHeaders are kept', () => {
  it.each<[string, { name: string; value: string }[], Route['request_headers_to_add'], string | undefined]>([
    ['no headers', [], undefined, undefined],
    [
      'one named header',
      [{ name: 'X-Probe', value: 'kubelet' }],
      [{ header: { key: 'X-Probe', value: 'kubelet' }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' }],
      undefined,
    ],
    [
      'several headers, order kept, empty value allowed',
      [
        { name: 'Authorization', value: 'Bearer t' },
        { name: 'X-Empty', value: '' },
        { name: 'Accept', value: 'application/json' },
      ],
      [
        { header: { key: 'Authorization', value: 'Bearer t' }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' },
        { header: { key: 'X-Empty', value: '' }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' },
        { header: { key: 'Accept', value: 'application/json' }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' },
      ],
      undefined,
    ],
    [
      'Host becomes a host rewrite (Envoy cannot add Host)',
      [{ name: 'Host', value: 'app.local' }],
      undefined,
      'app.local',
    ],
    [
      'host in any case, first one wins, other headers kept',
      [
        { name: 'host', value: 'first.local' },
        { name: 'X-A', value: '1' },
        { name: 'HOST', value: 'second.local' },
      ],
      [{ header: { key: 'X-A', value: '1' }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' }],
      'first.local',
    ],
  ])('%s', (_name, headers, want, host) => {
    const r = probeRoute('liveness', http('app', { headers }));
    expect(r.request_headers_to_add).toEqual(want);
    expect(r.route.host_rewrite_literal).toBe(host);
  });
});
