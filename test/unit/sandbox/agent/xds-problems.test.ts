/**
 * Every problem of a response at once: configurations with several problems, across resource
 * types and across the resources of one response, are parsed into `{ config, problems }` with each
 * problem listed under its resource and field path (and nothing else listed); a response with
 * problems is refused whole, and the text a NACK carries lists them all.
 */
import {
  CLUSTER_TYPE_URL,
  HTTP_CONNECTION_MANAGER_TYPE_URL,
  LISTENER_TYPE_URL,
  ROUTE_CONFIGURATION_TYPE_URL,
  SECRET_TYPE_URL,
  ROUTER_TYPE_URL,
  TCP_PROXY_TYPE_URL,
  decodeMessage,
  encodeMessage,
  packAny,
  type PlainMessage,
} from '../../../../pkg/envoy/index.js';
import { ConfigError } from '../../../../pkg/sandbox/agent/config/problems.js';
import {
  RESOURCE_TYPES,
  acceptResponse,
  isAgentTypeUrl,
  parseCluster,
  parseListener,
  parseResponse,
  type AgentTypeUrl,
} from '../../../../pkg/sandbox/agent/xds-config.js';

/** As the agent sees a resource: encoded by the server, decoded from the wire. */
function wire(typeUrl: string, resource: object): PlainMessage {
  return decodeMessage(typeUrl, encodeMessage(typeUrl, resource as PlainMessage));
}

const router = { name: 'envoy.filters.http.router', typed_config: packAny(ROUTER_TYPE_URL, {}) };
const cors = { name: 'envoy.filters.http.cors', typed_config: packAny(TCP_PROXY_TYPE_URL, {}) };
const sock = (address: string, port_value: number) => ({ socket_address: { address, port_value } });

function hcmChain(hcm: PlainMessage, match?: PlainMessage): PlainMessage {
  return {
    ...(match ? { filter_chain_match: match } : {}),
    filters: [
      {
        name: 'envoy.filters.network.http_connection_manager',
        typed_config: packAny(HTTP_CONNECTION_MANAGER_TYPE_URL, hcm),
      },
    ],
  };
}

function tcpChain(cfg: PlainMessage, match?: PlainMessage): PlainMessage {
  return {
    ...(match ? { filter_chain_match: match } : {}),
    filters: [{ name: 'envoy.filters.network.tcp_proxy', typed_config: packAny(TCP_PROXY_TYPE_URL, cfg) }],
  };
}

const goodRoutes = {
  name: 'rc',
  virtual_hosts: [
    { name: 'vh', domains: ['*'], routes: [{ match: { path: '/' }, route: { cluster: 'c' } }] },
  ],
};

function goodListener(name: string, port = 15901): PlainMessage {
  return {
    name,
    address: sock('0.0.0.0', port),
    filter_chains: [hcmChain({ stat_prefix: name, route_config: goodRoutes, http_filters: [router] })],
  };
}

function staticCluster(name: string, lbEndpoints: PlainMessage[]): PlainMessage {
  return {
    name,
    type: 'STATIC',
    load_assignment: { cluster_name: name, endpoints: [{ lb_endpoints: lbEndpoints }] },
  };
}

const endpoint = (address: string, port: number) => ({ endpoint: { address: sock(address, port) } });

const L = 'Listener "l"';
const HCM0 = `${L}.filter_chains[0].filters[0]<HttpConnectionManager>`;
const RC0 = `${HCM0}.route_config "rc"`;

/** [what, type, resources, expected problems as [path, part of the message]] */
const CASES: [string, AgentTypeUrl, PlainMessage[], [string, string][]][] = [
  [
    'one listener with a problem at every level',
    LISTENER_TYPE_URL,
    [
      {
        name: 'l',
        address: sock('10.1.2.3', 15901),
        listener_filters: [{ name: 'envoy.filters.listener.proxy_protocol' }],
        filter_chains: [
          hcmChain({
            stat_prefix: 'p',
            codec_type: 'HTTP2',
            http_filters: [cors, router],
            route_config: {
              name: 'rc',
              virtual_hosts: [
                {
                  name: 'vh',
                  domains: ['a*b'],
                  routes: [{ match: { path: '/' }, redirect: { path_redirect: '/x' } }],
                },
              ],
            },
          }),
          tcpChain({ stat_prefix: 's' }, { server_names: ['a.b'] }),
          hcmChain({
            stat_prefix: 'p',
            http_filters: [router],
            rds: { route_config_name: 'x', config_source: { path_config_source: { path: '/x' } } },
          }),
        ],
      },
    ],
    [
      [`${L}.listener_filters[0]`, 'unknown listener filter "envoy.filters.listener.proxy_protocol"'],
      [`${HCM0}.codec_type`, 'only AUTO and HTTP1 are supported, got "HTTP2"'],
      [`${HCM0}.http_filters[0]`, 'unknown HTTP filter "envoy.filters.http.cors"'],
      [`${RC0}.virtual_hosts[0].domains[0]`, 'a wildcard must be a prefix or a suffix, got "a*b"'],
      [
        `${RC0}.virtual_hosts[0].routes[0]`,
        'only route and direct_response actions are supported, got redirect',
      ],
      [
        `${L}.filter_chains[1].filter_chain_match.server_names`,
        'only transport_protocol matching is supported',
      ],
      [`${L}.filter_chains[1].filters[0]<TcpProxy>.cluster`, 'must name a cluster'],
      [
        `${L}.filter_chains[2].filters[0]<HttpConnectionManager>.rds.config_source`,
        'only ads config sources',
      ],
      [`${L}.filter_chains[2].filter_chain_match`, 'matches the same connections as an earlier chain'],
      [
        `${L}.address.socket_address.address`,
        'binds only the pod\'s wildcard or loopback address, got "10.1.2.3"',
      ],
    ],
  ],
  [
    'listeners of one response: each under its own name; a nameless one; a duplicate name',
    LISTENER_TYPE_URL,
    [
      { ...goodListener('a'), address: sock('localhost', 70000) },
      { name: '', address: sock('0.0.0.0', 15902), filter_chains: [] },
      goodListener('b', 15903),
      goodListener('b', 15904),
    ],
    [
      ['Listener "a".address.socket_address.address', 'not an IP address: "localhost"'],
      ['Listener "a".address.socket_address.port_value', 'invalid port 70000'],
      ['Listener.name', 'must not be empty'],
      ['Listener.filter_chains', 'must not be empty'],
      ['Listener "b"', 'duplicate name'],
    ],
  ],
  [
    'clusters of one response: several problems each, and a duplicate name',
    CLUSTER_TYPE_URL,
    [
      {
        name: 'a',
        type: 'STRICT_DNS',
        connect_timeout: { seconds: -1 },
        transport_socket: { name: 'envoy.transport_sockets.tls' },
      },
      staticCluster('b', [endpoint('app.local', 0), {}, endpoint('127.0.0.1', 8080)]),
      { name: 'c', type: 'ORIGINAL_DST' },
      { name: 'c', type: 'ORIGINAL_DST' },
    ],
    [
      ['Cluster "a".connect_timeout', 'invalid duration'],
      ['Cluster "a".transport_socket', 'not supported by the probe agent'],
      ['Cluster "a".type', 'cluster type "STRICT_DNS" is not supported'],
      [
        'Cluster "b".load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address.address',
        'not an IP address: "app.local"',
      ],
      [
        'Cluster "b".load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address.port_value',
        'invalid port 0',
      ],
      ['Cluster "b".load_assignment.endpoints[0].lb_endpoints[1].endpoint', 'missing'],
      ['Cluster "c"', 'duplicate name'],
    ],
  ],
  [
    'route configurations of one response: matches, actions, headers, domains',
    ROUTE_CONFIGURATION_TYPE_URL,
    [
      {
        name: 'rc1',
        virtual_hosts: [
          {
            name: 'a',
            domains: ['*'],
            routes: [
              {
                match: { prefix: '/', headers: [{ name: 'x', present_match: true }] },
                route: { prefix_rewrite: 'x', host_rewrite_literal: 'a b' },
                request_headers_to_add: [
                  { header: { key: 'Host', value: 'x' } },
                  { header: { key: 'x', value: 'a\nb' } },
                ],
              },
            ],
          },
          { name: 'b', domains: ['*'] },
        ],
      },
      {
        name: 'rc2',
        virtual_hosts: [
          {
            name: 'v',
            domains: [],
            routes: [
              {
                match: { safe_regex: { regex: '(' } },
                route: { cluster: 'c', regex_rewrite: { pattern: { regex: 'a' }, substitution: 'b c' } },
              },
              { match: { path: '/d' }, direct_response: { status: 99 } },
            ],
          },
        ],
      },
    ],
    [
      [
        'RouteConfiguration "rc1".virtual_hosts[0].routes[0].match.headers',
        'not supported by the probe agent',
      ],
      [
        'RouteConfiguration "rc1".virtual_hosts[0].routes[0].request_headers_to_add[0].header.key',
        '"Host" cannot be modified',
      ],
      [
        'RouteConfiguration "rc1".virtual_hosts[0].routes[0].request_headers_to_add[1].header.value',
        'invalid header value',
      ],
      ['RouteConfiguration "rc1".virtual_hosts[0].routes[0].route.cluster', 'must name a cluster'],
      [
        'RouteConfiguration "rc1".virtual_hosts[0].routes[0].route.prefix_rewrite',
        'not a valid request path "x"',
      ],
      [
        'RouteConfiguration "rc1".virtual_hosts[0].routes[0].route.host_rewrite_literal',
        'invalid host "a b"',
      ],
      ['RouteConfiguration "rc1".virtual_hosts[1].domains', 'domain "*" is already used by virtual host "a"'],
      ['RouteConfiguration "rc2".virtual_hosts[0].domains', 'must list at least one domain'],
      [
        'RouteConfiguration "rc2".virtual_hosts[0].routes[0].match.safe_regex.regex',
        'invalid regular expression "("',
      ],
      [
        'RouteConfiguration "rc2".virtual_hosts[0].routes[0].route.regex_rewrite.substitution',
        'would put whitespace or control characters in the path',
      ],
      ['RouteConfiguration "rc2".virtual_hosts[0].routes[1].direct_response.status', 'invalid status 99'],
    ],
  ],
];

describe('a response with several problems lists every one with its field path', () => {
  test.each(CASES)('%s', (_what, typeUrl, resources, expected) => {
    const { config, problems } = parseResponse(
      typeUrl,
      resources.map((r) => wire(typeUrl, r)),
    );
    expect(problems.map((p) => p.path)).toEqual(expected.map(([path]) => path));
    problems.forEach((p, i) => expect(p.message).toContain(expected[i]![1]));
    // Refused whole: what parsed cleanly is there, but acceptResponse gives none of it.
    expect(config.length).toBeLessThan(resources.length);
    let err: unknown;
    try {
      acceptResponse(
        typeUrl,
        resources.map((r) => wire(typeUrl, r)),
      );
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const text = (err as ConfigError).message;
    expect(text.split('\n')).toEqual(expected.map(([path], i) => `${path}: ${problems[i]!.message}`));
    expect((err as ConfigError).problems).toEqual(problems);
  });
});

describe('parseResponse', () => {
  test('a clean response: every model in response order, no problem', () => {
    const { config, problems } = parseResponse(LISTENER_TYPE_URL, [
      wire(LISTENER_TYPE_URL, goodListener('x', 15901)),
      wire(LISTENER_TYPE_URL, goodListener('y', 15902)),
    ]);
    expect(problems).toEqual([]);
    expect(config.map((l) => [l.name, l.configuredPort])).toEqual([
      ['x', 15901],
      ['y', 15902],
    ]);
  });

  test('good and bad resources: config holds only the good ones, problems only the bad ones', () => {
    const { config, problems } = parseResponse(CLUSTER_TYPE_URL, [
      wire(CLUSTER_TYPE_URL, staticCluster('good', [endpoint('127.0.0.1', 80)])),
      wire(CLUSTER_TYPE_URL, staticCluster('bad', [endpoint('127.0.0.1', 0)])),
      wire(CLUSTER_TYPE_URL, { name: 'also-good', type: 'ORIGINAL_DST' }),
    ]);
    expect(config.map((c) => c.name)).toEqual(['good', 'also-good']);
    expect(problems).toEqual([
      {
        path: 'Cluster "bad".load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address.port_value',
        message: 'invalid port 0',
      },
    ]);
    expect(() =>
      acceptResponse(CLUSTER_TYPE_URL, [wire(CLUSTER_TYPE_URL, staticCluster('bad', [endpoint('::1', 0)]))]),
    ).toThrow('invalid port 0');
  });

  test('an empty response is a valid (empty) configuration', () => {
    expect(parseResponse(ROUTE_CONFIGURATION_TYPE_URL, [])).toEqual({ config: [], problems: [] });
  });

  test('a resource that is not a message at all is a problem, not a crash', () => {
    expect(parseResponse(CLUSTER_TYPE_URL, [null, 'x']).problems).toEqual([
      { path: 'Cluster', message: 'expected an object, got null' },
      { path: 'Cluster', message: 'expected an object, got "x"' },
    ]);
  });

  test('the registry: the five types the agent subscribes to (SDS with its bootstrap credential, EDS for its EDS clusters), and nothing else', () => {
    expect(Object.keys(RESOURCE_TYPES).sort()).toEqual(
      [
        CLUSTER_TYPE_URL,
        LISTENER_TYPE_URL,
        ROUTE_CONFIGURATION_TYPE_URL,
        SECRET_TYPE_URL,
        'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment',
      ].sort(),
    );
    expect(isAgentTypeUrl(LISTENER_TYPE_URL)).toBe(true);
    expect(isAgentTypeUrl('type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment')).toBe(true);
    expect(isAgentTypeUrl('type.googleapis.com/envoy.config.core.v3.TypedExtensionConfig')).toBe(false);
    expect(isAgentTypeUrl('toString')).toBe(false);
  });
});

describe('the single-resource parsers list every problem of their resource', () => {
  test('parseListener', () => {
    const l = { ...goodListener('l'), address: sock('0.0.0.0', 0), listener_filters: [{ name: 'x' }] };
    let err: unknown;
    try {
      parseListener(wire(LISTENER_TYPE_URL, l));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).message).toBe(
      [
        'Listener "l".listener_filters[0]: unknown listener filter "x" ("no typed_config"): only the TLS inspector is supported',
        'Listener "l".address.socket_address.port_value: a bound listener needs a port',
      ].join('\n'),
    );
  });

  test('parseCluster', () => {
    expect(() => parseCluster(wire(CLUSTER_TYPE_URL, { name: '', type: 'LOGICAL_DNS' }))).toThrow(
      'Cluster.name: must not be empty\nCluster.type: cluster type "LOGICAL_DNS" is not supported (STATIC, EDS or ORIGINAL_DST)',
    );
  });
});
