/**
 * xDS resources → the agent's model: the production builders' output (encoded and decoded as the
 * agent receives it) is understood; what the agent cannot serve is refused with the field and value.
 */
import { LIVENESS_PROBE_PATH, STARTUP_PROBE_PATH } from '../../../../pkg/constants/index.js';
import {
  CLUSTER_TYPE_URL,
  HTTP_CONNECTION_MANAGER_TYPE_URL,
  LISTENER_TYPE_URL,
  ROUTE_CONFIGURATION_TYPE_URL,
  ROUTER_TYPE_URL,
  TCP_PROXY_TYPE_URL,
  decodeMessage,
  encodeMessage,
  packAny,
  type PlainMessage,
} from '../../../../pkg/envoy/index.js';
import { buildProxyResources } from '../../../../pkg/envoy/builders/index.js';
import {
  ConfigError,
  parseCluster,
  parseListener,
  parseRouteConfiguration,
} from '../../../../pkg/sandbox/agent/xds-config.js';
import type { ForwardAction, HttpHandlerModel } from '../../../../pkg/sandbox/agent/model.js';

/** As the agent sees a resource: encoded by the server, decoded from the wire. */
function wire(typeUrl: string, resource: object): PlainMessage {
  return decodeMessage(typeUrl, encodeMessage(typeUrl, resource as PlainMessage));
}

const resources = buildProxyResources({
  probes: [
    {
      type: 'liveness',
      http: [
        {
          container: 'app',
          matchPath: LIVENESS_PROBE_PATH,
          originalPath: '/healthz',
          port: 8080,
          headers: [
            { name: 'X-Custom', value: 'v' },
            { name: 'Host', value: 'app.local' },
          ],
          timeoutSeconds: 3,
        },
      ],
    },
    {
      type: 'startup',
      http: [
        {
          container: 'app',
          matchPath: STARTUP_PROBE_PATH,
          originalPath: 'start',
          port: 8080,
          headers: [],
          timeoutSeconds: 0,
        },
      ],
      https: { container: 'tls', port: 8443, timeoutSeconds: 2 },
    },
  ],
  inboundPorts: [{ container: 'app', port: 8080 }],
});

const byName = <T extends { name: string }>(list: T[], name: string): T => list.find((x) => x.name === name)!;

describe('the production builders output', () => {
  test('liveness listener: one HTTP chain, exact path, rewrite, host, headers, timeout', () => {
    const m = parseListener(wire(LISTENER_TYPE_URL, byName(resources.listeners, 'liveness_listener')));
    expect(m).toMatchObject({
      name: 'liveness_listener',
      configuredHost: '0.0.0.0',
      configuredPort: 15901,
      bind: true,
      tlsInspector: false,
      rdsNames: [],
    });
    expect(m.chains).toHaveLength(1);
    const h = m.chains[0]!.handler as HttpHandlerModel;
    expect(h.kind).toBe('http');
    const rc = 'inline' in h.routes ? h.routes.inline : undefined;
    expect(rc?.virtualHosts).toHaveLength(1);
    expect(rc!.virtualHosts[0]!.domains).toEqual(['*']);
    const r = rc!.virtualHosts[0]!.routes[0]!;
    expect(r.match).toEqual({ kind: 'path', value: LIVENESS_PROBE_PATH, caseSensitive: true });
    expect(r.action).toEqual({
      kind: 'forward',
      cluster: 'app_liveness_cluster',
      prefixRewrite: '/healthz',
      regexRewrite: undefined,
      hostRewrite: 'app.local',
      timeoutMs: 3000,
    });
    expect(r.headers).toEqual({
      add: [{ key: 'x-custom', value: 'v', action: 'OVERWRITE_IF_EXISTS_OR_ADD' }],
      remove: [],
    });
  });

  test('mixed startup listener: TLS inspector, raw_buffer HTTP chain and tls passthrough chain', () => {
    const m = parseListener(wire(LISTENER_TYPE_URL, byName(resources.listeners, 'startup_listener')));
    expect(m.tlsInspector).toBe(true);
    expect(m.chains.map((c) => [c.transportProtocol, c.handler.kind])).toEqual([
      ['raw_buffer', 'http'],
      ['tls', 'tcp'],
    ]);
    expect(m.chains[1]!.handler).toMatchObject({ kind: 'tcp', cluster: 'tls_startup_cluster' });
    const h = m.chains[0]!.handler as HttpHandlerModel;
    const action = ('inline' in h.routes ? h.routes.inline : undefined)!.virtualHosts[0]!.routes[0]!
      .action as ForwardAction;
    expect(action).toMatchObject({ prefixRewrite: '/start', timeoutMs: 1000 });
  });

  test('inbound listeners are accepted but not bound, with the reason', () => {
    const capture = parseListener(wire(LISTENER_TYPE_URL, byName(resources.listeners, 'inbound_listener')));
    expect(capture).toMatchObject({ bind: false, configuredPort: 15003 });
    expect(capture.skipReason).toContain('use_original_dst');
    const port = parseListener(wire(LISTENER_TYPE_URL, byName(resources.listeners, 'inbound_8080')));
    expect(port).toMatchObject({ bind: false });
    expect(port.skipReason).toContain('bind_to_port');
  });

  test('clusters: STATIC at 127.0.0.1 with the probe timeout as connect timeout; ORIGINAL_DST without endpoints', () => {
    expect(parseCluster(wire(CLUSTER_TYPE_URL, byName(resources.clusters, 'app_liveness_cluster')))).toEqual({
      name: 'app_liveness_cluster',
      kind: 'static',
      connectTimeoutMs: 3000,
      endpoints: [{ host: '127.0.0.1', port: 8080 }],
    });
    expect(
      parseCluster(wire(CLUSTER_TYPE_URL, byName(resources.clusters, 'inbound_passthrough_cluster'))),
    ).toMatchObject({
      kind: 'original_dst',
      endpoints: [],
    });
  });

  test('every built resource parses', () => {
    for (const l of resources.listeners)
      expect(() => parseListener(wire(LISTENER_TYPE_URL, l))).not.toThrow();
    for (const c of resources.clusters) expect(() => parseCluster(wire(CLUSTER_TYPE_URL, c))).not.toThrow();
  });
});

// ------------------------------------------------------------------------------------------------
// Refusals

const router = { name: 'envoy.filters.http.router', typed_config: packAny(ROUTER_TYPE_URL, {}) };

function route(
  extra: PlainMessage = {},
  action: PlainMessage = {},
  match: PlainMessage = { path: '/p' },
): PlainMessage {
  return { name: 'r', match, route: { cluster: 'c', ...action }, ...extra };
}

function routeConfig(routes: PlainMessage[] = [route()], vhosts?: PlainMessage[]): PlainMessage {
  return { name: 'rc', virtual_hosts: vhosts ?? [{ name: 'vh', domains: ['*'], routes }] };
}

function hcm(extra: PlainMessage = {}): PlainMessage {
  return { stat_prefix: 'p', route_config: routeConfig(), http_filters: [router], ...extra };
}

function listener(
  opts: { address?: PlainMessage; chains?: PlainMessage[]; extra?: PlainMessage } = {},
): PlainMessage {
  return {
    name: 'l',
    address: opts.address ?? { socket_address: { address: '0.0.0.0', port_value: 15901 } },
    filter_chains: opts.chains ?? [
      {
        filters: [
          {
            name: 'envoy.filters.network.http_connection_manager',
            typed_config: packAny(HTTP_CONNECTION_MANAGER_TYPE_URL, hcm()),
          },
        ],
      },
    ],
    ...opts.extra,
  };
}

function hcmChain(h: PlainMessage, match?: PlainMessage): PlainMessage {
  return {
    ...(match ? { filter_chain_match: match } : {}),
    filters: [
      {
        name: 'envoy.filters.network.http_connection_manager',
        typed_config: packAny(HTTP_CONNECTION_MANAGER_TYPE_URL, h),
      },
    ],
  };
}

function tcpChain(cfg: PlainMessage): PlainMessage {
  return {
    filters: [{ name: 'envoy.filters.network.tcp_proxy', typed_config: packAny(TCP_PROXY_TYPE_URL, cfg) }],
  };
}

function staticCluster(address: PlainMessage, extra: PlainMessage = {}): PlainMessage {
  return {
    name: 'c',
    type: 'STATIC',
    load_assignment: { cluster_name: 'c', endpoints: [{ lb_endpoints: [{ endpoint: { address } }] }] },
    ...extra,
  };
}

const sock = (address: string, port_value: number, more: PlainMessage = {}) => ({
  socket_address: { address, port_value, ...more },
});

describe('listeners the agent refuses (NACK), naming the field and the value', () => {
  test.each<[string, PlainMessage, string]>([
    [
      'an unknown network filter',
      listener({
        chains: [
          { filters: [{ name: 'envoy.filters.network.echo', typed_config: packAny(ROUTER_TYPE_URL, {}) }] },
        ],
      }),
      'Listener "l".filter_chains[0].filters[0]: unknown network filter "envoy.filters.network.echo"',
    ],
    [
      'two network filters',
      listener({
        chains: [
          { filters: [tcpChain({ cluster: 'c' }).filters, tcpChain({ cluster: 'c' }).filters].flat() },
        ],
      }),
      'expected exactly one network filter',
    ],
    [
      'a hostname address',
      listener({ address: sock('localhost', 15901) }),
      'Listener "l".address.socket_address.address: not an IP address: "localhost"',
    ],
    [
      'a foreign address',
      listener({ address: sock('10.1.2.3', 15901) }),
      'binds only the pod\'s wildcard or loopback address, got "10.1.2.3"',
    ],
    [
      'a pipe address',
      listener({ address: { pipe: { path: '/tmp/x' } } }),
      'only socket_address is supported, got pipe',
    ],
    [
      'UDP',
      listener({ address: sock('0.0.0.0', 15901, { protocol: 'UDP' }) }),
      'only TCP is supported, got "UDP"',
    ],
    ['port 0', listener({ address: sock('0.0.0.0', 0) }), 'a bound listener needs a port'],
    [
      'an unknown listener filter',
      listener({ extra: { listener_filters: [{ name: 'envoy.filters.listener.proxy_protocol' }] } }),
      'unknown listener filter "envoy.filters.listener.proxy_protocol"',
    ],
    [
      'SNI matching',
      listener({ chains: [hcmChain(hcm(), { server_names: ['a.b'] })] }),
      'filter_chain_match.server_names: only transport_protocol matching is supported',
    ],
    [
      'an unknown transport protocol',
      listener({ chains: [hcmChain(hcm(), { transport_protocol: 'quic' })] }),
      'expected tls or raw_buffer, got "quic"',
    ],
    [
      'two chains matching the same connections',
      listener({ chains: [hcmChain(hcm()), hcmChain(hcm())] }),
      'filter_chains[1].filter_chain_match: matches the same connections as an earlier chain',
    ],
    ['no chain', listener({ chains: [] }), 'filter_chains: must not be empty'],
    [
      'HTTP/2 only',
      listener({ chains: [hcmChain(hcm({ codec_type: 'HTTP2' }))] }),
      'codec_type: only AUTO and HTTP1 are supported, got "HTTP2"',
    ],
    [
      'an HTTP filter before the router',
      listener({
        chains: [
          hcmChain(
            hcm({
              http_filters: [
                { name: 'envoy.filters.http.cors', typed_config: packAny(TCP_PROXY_TYPE_URL, {}) },
                router,
              ],
            }),
          ),
        ],
      }),
      'unknown HTTP filter "envoy.filters.http.cors"',
    ],
    [
      'no router',
      listener({ chains: [hcmChain(hcm({ http_filters: [] }))] }),
      'must end with the router filter',
    ],
    [
      'no routes at all',
      listener({ chains: [hcmChain({ stat_prefix: 'p', http_filters: [router] })] }),
      'needs route_config or rds',
    ],
    [
      'RDS from a non-ADS source',
      listener({
        chains: [
          hcmChain({
            stat_prefix: 'p',
            http_filters: [router],
            rds: { route_config_name: 'x', config_source: { path_config_source: { path: '/x' } } },
          }),
        ],
      }),
      'only ads config sources are supported',
    ],
    [
      'a tcp_proxy without cluster',
      listener({ chains: [tcpChain({ stat_prefix: 's' })] }),
      '<TcpProxy>.cluster: must name a cluster',
    ],
    [
      'a tcp_proxy to weighted clusters',
      listener({
        chains: [tcpChain({ stat_prefix: 's', weighted_clusters: { clusters: [{ name: 'a', weight: 1 }] } })],
      }),
      'weighted_clusters: not supported by the probe agent',
    ],
    [
      'a route to weighted clusters',
      listener({
        chains: [
          hcmChain(
            hcm({
              route_config: routeConfig([
                {
                  name: 'r',
                  match: { path: '/' },
                  route: { weighted_clusters: { clusters: [{ name: 'a', weight: { value: 1 } }] } },
                },
              ]),
            }),
          ),
        ],
      }),
      'route.weighted_clusters: not supported by the probe agent',
    ],
  ])('%s', (_what, resource, message) => {
    let err: unknown;
    try {
      parseListener(wire(LISTENER_TYPE_URL, resource));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toContain(message);
  });

  test('a listener without a name', () => {
    expect(() => parseListener(wire(LISTENER_TYPE_URL, { ...listener(), name: '' }))).toThrow(
      'Listener.name: must not be empty',
    );
  });
});

describe('route configurations the agent refuses', () => {
  test.each<[string, PlainMessage, string]>([
    [
      'a redirect',
      routeConfig([{ name: 'r', match: { path: '/' }, redirect: { path_redirect: '/x' } }]),
      'only route and direct_response actions are supported, got redirect',
    ],
    [
      'header matching',
      routeConfig([route({}, {}, { path: '/', headers: [{ name: 'x', present_match: true }] })]),
      'match.headers: not supported by the probe agent',
    ],
    [
      'an invalid regex',
      routeConfig([route({}, {}, { safe_regex: { regex: '(' } })]),
      'match.safe_regex.regex: invalid regular expression "("',
    ],
    [
      'prefix_rewrite with a regex match',
      routeConfig([route({}, { prefix_rewrite: '/x' }, { safe_regex: { regex: '/a.*' } })]),
      'prefix_rewrite: cannot be used with a safe_regex match',
    ],
    [
      'prefix_rewrite and regex_rewrite',
      routeConfig([
        route({}, { prefix_rewrite: '/x', regex_rewrite: { pattern: { regex: 'a' }, substitution: 'b' } }),
      ]),
      'regex_rewrite: cannot be combined with prefix_rewrite',
    ],
    [
      'a route without cluster',
      routeConfig([{ name: 'r', match: { path: '/' }, route: { prefix_rewrite: '/x' } }]),
      'route.cluster: must name a cluster',
    ],
    [
      'a duplicate domain',
      routeConfig(
        [],
        [
          { name: 'a', domains: ['*'] },
          { name: 'b', domains: ['*'] },
        ],
      ),
      'virtual_hosts[1].domains: domain "*" is already used by virtual host "a"',
    ],
    [
      'a wildcard inside a domain',
      routeConfig([], [{ name: 'a', domains: ['a*b'] }]),
      'a wildcard must be a prefix or a suffix, got "a*b"',
    ],
    [
      'a virtual host without domains',
      routeConfig([], [{ name: 'a', domains: [] }]),
      'domains: must list at least one domain',
    ],
    [
      'setting Host through request_headers_to_add',
      routeConfig([route({ request_headers_to_add: [{ header: { key: 'Host', value: 'x' } }] })]),
      '"Host" cannot be modified through request_headers_to_add',
    ],
    [
      'an invalid header name',
      routeConfig([route({ request_headers_to_add: [{ header: { key: 'bad header', value: 'x' } }] })]),
      'invalid header name "bad header"',
    ],
    [
      'a header value with a newline',
      routeConfig([route({ request_headers_to_add: [{ header: { key: 'x', value: 'a\r\nb: c' } }] })]),
      'invalid header value',
    ],
    [
      'a prefix_rewrite that is not a path',
      routeConfig([route({}, { prefix_rewrite: 'healthz' })]),
      'route.prefix_rewrite: not a valid request path "healthz"',
    ],
    [
      'a prefix_rewrite with a space',
      routeConfig([route({}, { prefix_rewrite: '/a b' })]),
      'route.prefix_rewrite: not a valid request path "/a b"',
    ],
    [
      'a regex substitution with a space',
      routeConfig([route({}, { regex_rewrite: { pattern: { regex: 'a' }, substitution: 'b c' } })]),
      'regex_rewrite.substitution: would put whitespace or control characters in the path',
    ],
    [
      'a host rewrite with a space',
      routeConfig([route({}, { host_rewrite_literal: 'a b' })]),
      'route.host_rewrite_literal: invalid host "a b"',
    ],
    [
      'a header value with a control character',
      routeConfig([route({ request_headers_to_add: [{ header: { key: 'x', value: 'a\u0001' } }] })]),
      'invalid header value',
    ],
    [
      'a direct response with an invalid status',
      routeConfig([{ name: 'r', match: { path: '/' }, direct_response: { status: 99 } }]),
      'direct_response.status: invalid status 99',
    ],
  ])('%s', (_what, resource, message) => {
    expect(() => parseRouteConfiguration(wire(ROUTE_CONFIGURATION_TYPE_URL, resource))).toThrow(message);
  });

  test('supported forms: prefix, case-insensitive path, regex rewrite, direct response, deprecated append', () => {
    const rc = parseRouteConfiguration(
      wire(
        ROUTE_CONFIGURATION_TYPE_URL,
        routeConfig([
          route({}, { prefix_rewrite: '/n/' }, { prefix: '/o/' }),
          route({}, {}, { path: '/A', case_sensitive: { value: false } }),
          route(
            {},
            { regex_rewrite: { pattern: { regex: '^/v(\\d+)' }, substitution: '/api/\\1' } },
            { safe_regex: { regex: '/v\\d+.*' } },
          ),
          {
            name: 'd',
            match: { path: '/direct' },
            direct_response: { status: 200, body: { inline_string: 'ok' } },
          },
          route({
            request_headers_to_add: [{ header: { key: 'x', value: '1' }, append: { value: false } }],
            request_headers_to_remove: ['Cookie'],
          }),
        ]),
      ),
    );
    const routes = rc.virtualHosts[0]!.routes;
    expect(routes[0]!.match).toEqual({ kind: 'prefix', value: '/o/', caseSensitive: true });
    expect(routes[1]!.match).toEqual({ kind: 'path', value: '/A', caseSensitive: false });
    expect(routes[2]!.match.kind).toBe('regex');
    expect((routes[2]!.action as ForwardAction).regexRewrite?.substitution).toBe('/api/\\1');
    expect((routes[2]!.action as ForwardAction).timeoutMs).toBe(15_000);
    expect(routes[3]!.action).toEqual({ kind: 'direct', status: 200, body: 'ok' });
    expect(routes[4]!.headers).toEqual({
      add: [{ key: 'x', value: '1', action: 'OVERWRITE_IF_EXISTS_OR_ADD' }],
      remove: ['cookie'],
    });
  });
});

describe('clusters the agent refuses', () => {
  test.each<[string, PlainMessage, string]>([
    [
      'EDS from another config source than the ADS',
      { name: 'c', type: 'EDS', eds_cluster_config: { eds_config: { path_config_source: { path: '/x' } } } },
      'Cluster "c".eds_cluster_config.eds_config: only ads config sources are supported',
    ],
    [
      'EDS with inline endpoints',
      {
        ...staticCluster(sock('127.0.0.1', 80)),
        type: 'EDS',
        eds_cluster_config: { eds_config: { ads: {} } },
      },
      'Cluster "c".load_assignment: an EDS cluster gets its endpoints over the ADS, not inline',
    ],
    [
      'eds_cluster_config on a STATIC cluster',
      { ...staticCluster(sock('127.0.0.1', 80)), eds_cluster_config: { eds_config: { ads: {} } } },
      'Cluster "c".eds_cluster_config: only EDS clusters take it (this one is STATIC)',
    ],
    [
      'STRICT_DNS',
      { ...staticCluster(sock('127.0.0.1', 80)), type: 'STRICT_DNS' },
      'Cluster "c".type: cluster type "STRICT_DNS" is not supported',
    ],
    [
      'STATIC without load_assignment',
      { name: 'c', type: 'STATIC' },
      'a STATIC cluster needs a load_assignment',
    ],
    [
      'STATIC without endpoints',
      { name: 'c', load_assignment: { cluster_name: 'c', endpoints: [] } },
      'a STATIC cluster needs at least one endpoint',
    ],
    [
      'an endpoint hostname',
      staticCluster(sock('app.local', 80)),
      'endpoint.address.socket_address.address: not an IP address: "app.local"',
    ],
    [
      'an endpoint port 0',
      staticCluster(sock('127.0.0.1', 0)),
      'endpoint.address.socket_address.port_value: invalid port 0',
    ],
    [
      'upstream TLS',
      staticCluster(sock('127.0.0.1', 80), { transport_socket: { name: 'envoy.transport_sockets.tls' } }),
      'transport_socket: not supported by the probe agent',
    ],
    ['no name', { ...staticCluster(sock('127.0.0.1', 80)), name: '' }, 'Cluster.name: must not be empty'],
  ])('%s', (_what, resource, message) => {
    expect(() => parseCluster(wire(CLUSTER_TYPE_URL, resource))).toThrow(message);
  });

  test('defaults: type STATIC and connect_timeout 5 s when unset', () => {
    const c = staticCluster(sock('127.0.0.1', 80));
    delete c.type;
    expect(parseCluster(wire(CLUSTER_TYPE_URL, c))).toEqual({
      name: 'c',
      kind: 'static',
      connectTimeoutMs: 5000,
      endpoints: [{ host: '127.0.0.1', port: 80 }],
    });
  });
});
