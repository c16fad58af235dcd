/**
 * The agent's data plane without ADS: a ListenerSet fed with parsed resources, real sockets on a
 * loopback pod address, real upstream apps. Covers what the builders do not emit but Envoy
 * configs may: header mutations at every level, direct responses, regex rewrites, unknown
 * clusters, endpoints round robin, default filter chains, upstream resets.
 */
import net from 'node:net';
import { silentLogger } from '../../../../pkg/logger/index.js';
import {
  HTTP_CONNECTION_MANAGER_TYPE_URL,
  LISTENER_TYPE_URL,
  ROUTER_TYPE_URL,
  TCP_PROXY_TYPE_URL,
  decodeMessage,
  encodeMessage,
  packAny,
  type PlainMessage,
} from '../../../../pkg/envoy/index.js';
import { EndpointPicker, type DataPlaneContext } from '../../../../pkg/sandbox/agent/upstream.js';
import { ListenerSet } from '../../../../pkg/sandbox/agent/listeners.js';
import { parseListener } from '../../../../pkg/sandbox/agent/xds-config.js';
import type { ClusterModel, ListenerModel, RouteConfigModel } from '../../../../pkg/sandbox/agent/model.js';
import { httpRequest } from '../../../support/net.js';
import { startHttpApp, type RecordingApp } from '../../../support/agent.js';

const POD = '127.0.64.1';
const router = { name: 'envoy.filters.http.router', typed_config: packAny(ROUTER_TYPE_URL, {}) };

function model(resource: PlainMessage): ListenerModel {
  return parseListener(decodeMessage(LISTENER_TYPE_URL, encodeMessage(LISTENER_TYPE_URL, resource)));
}

function httpListener(
  name: string,
  port: number,
  hcmFields: PlainMessage,
  chainExtra: PlainMessage = {},
): PlainMessage {
  return {
    name,
    address: { socket_address: { address: '0.0.0.0', port_value: port } },
    filter_chains: [
      {
        ...chainExtra,
        filters: [
          {
            name: 'envoy.filters.network.http_connection_manager',
            typed_config: packAny(HTTP_CONNECTION_MANAGER_TYPE_URL, {
              stat_prefix: name,
              http_filters: [router],
              ...hcmFields,
            }),
          },
        ],
      },
    ],
  };
}

let clusters: Map<string, ClusterModel>;
let routes: Map<string, RouteConfigModel>;
let set: ListenerSet;
let apps: RecordingApp[];

function staticCluster(name: string, ...ports: number[]): ClusterModel {
  return {
    name,
    kind: 'static',
    connectTimeoutMs: 1000,
    endpoints: ports.map((port) => ({ host: '127.0.0.1', port })),
  };
}

beforeEach(async () => {
  clusters = new Map();
  routes = new Map();
  apps = [await startHttpApp(), await startHttpApp()];
  const picker = new EndpointPicker({});
  const context: DataPlaneContext = {
    logger: silentLogger(),
    cluster: (n) => clusters.get(n),
    routeConfig: (n) => routes.get(n),
    pickEndpoint: (c) => picker.pick(c),
    secret: () => undefined,
    accessLog: () => undefined,
  };
  set = new ListenerSet({
    podAddress: POD,
    portMap: { 15970: 0, 15971: 0, 15972: 0 },
    context,
    logger: silentLogger(),
  });
});

afterEach(async () => {
  await set.closeAll();
  for (const a of apps) await a.close();
});

const url = (listener: string, path: string) => `http://${POD}:${set.boundPort(listener)!}${path}`;

describe('HTTP connection manager', () => {
  test('header mutations of route, virtual host and route configuration; removals; Host rewrite', async () => {
    clusters.set('app', staticCluster('app', apps[0]!.port));
    await set.update([
      model(
        httpListener('l', 15970, {
          route_config: {
            name: 'rc',
            request_headers_to_add: [
              { header: { key: 'x-level', value: 'config' }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' },
            ],
            virtual_hosts: [
              {
                name: 'vh',
                domains: ['*'],
                request_headers_to_add: [{ header: { key: 'x-vhost', value: 'yes' } }],
                routes: [
                  {
                    match: { path: '/p' },
                    request_headers_to_add: [
                      {
                        header: { key: 'x-level', value: 'route' },
                        append_action: 'OVERWRITE_IF_EXISTS_OR_ADD',
                      },
                      { header: { key: 'x-multi', value: 'b' }, append_action: 'APPEND_IF_EXISTS_OR_ADD' },
                    ],
                    request_headers_to_remove: ['x-secret'],
                    route: { cluster: 'app', prefix_rewrite: '/q', host_rewrite_literal: 'app.internal' },
                  },
                ],
              },
            ],
          },
        }),
      ),
    ]);
    const res = await httpRequest(url('l', '/p'), {
      headers: [
        ['x-multi', 'a'],
        ['x-secret', 's'],
        ['connection', 'keep-alive, x-hop'],
        ['x-hop', '1'],
      ],
    });
    expect(res.status).toBe(200);
    const seen = apps[0]!.requests[0]!;
    expect(seen.url).toBe('/q');
    expect(seen.headers.host).toBe('app.internal');
    expect(seen.headers['x-level']).toBe('config');
    expect(seen.headers['x-vhost']).toBe('yes');
    expect(seen.headers['x-multi']).toBe('a, b');
    expect(seen.headers['x-secret']).toBeUndefined();
    expect(seen.headers['x-hop']).toBeUndefined();
    expect(seen.headers['x-forwarded-proto']).toBe('http');
  });

  test('direct responses, regex rewrites, virtual hosts by Host, unknown and unreachable clusters', async () => {
    clusters.set('app', staticCluster('app', apps[0]!.port));
    clusters.set('capture', { name: 'capture', kind: 'original_dst', connectTimeoutMs: 1000, endpoints: [] });
    await set.update([
      model(
        httpListener('l', 15970, {
          route_config: {
            name: 'rc',
            virtual_hosts: [
              {
                name: 'special',
                domains: ['special.local'],
                routes: [
                  {
                    match: { prefix: '/' },
                    direct_response: { status: 418, body: { inline_string: 'teapot' } },
                  },
                ],
              },
              {
                name: 'any',
                domains: ['*'],
                routes: [
                  {
                    match: { path: '/direct' },
                    direct_response: { status: 200, body: { inline_string: 'direct ok' } },
                  },
                  {
                    match: { safe_regex: { regex: '/v[0-9]+/.*' } },
                    route: {
                      cluster: 'app',
                      regex_rewrite: { pattern: { regex: '^/v([0-9]+)/' }, substitution: '/api/\\1/' },
                    },
                  },
                  { match: { path: '/ghost' }, route: { cluster: 'ghost' } },
                  { match: { path: '/capture' }, route: { cluster: 'capture' } },
                ],
              },
            ],
          },
        }),
      ),
    ]);
    expect(await httpRequest(url('l', '/direct'))).toMatchObject({ status: 200, body: 'direct ok' });
    expect(await httpRequest(url('l', '/anything'), { headers: { host: 'special.local' } })).toMatchObject({
      status: 418,
      body: 'teapot',
    });
    expect((await httpRequest(url('l', '/v3/health?x=1'))).status).toBe(200);
    expect(apps[0]!.requests.map((r) => r.url)).toEqual(['/api/3/health?x=1']);
    // Envoy: an unknown cluster is a 503 without body; a cluster without hosts "no healthy upstream".
    expect(await httpRequest(url('l', '/ghost'))).toMatchObject({ status: 503, body: '' });
    expect(await httpRequest(url('l', '/capture'))).toMatchObject({
      status: 503,
      body: 'no healthy upstream',
    });
    expect(await httpRequest(url('l', '/nothing'))).toMatchObject({ status: 404, body: '' });
  });

  test('RDS: routes are looked up per request; a route configuration not yet received is a 404', async () => {
    clusters.set('app', staticCluster('app', apps[0]!.port));
    await set.update([
      model(httpListener('l', 15970, { rds: { route_config_name: 'later', config_source: { ads: {} } } })),
    ]);
    expect((await httpRequest(url('l', '/p'))).status).toBe(404);
    routes.set('later', {
      name: 'later',
      headers: { add: [], remove: [] },
      virtualHosts: [
        {
          name: 'vh',
          domains: ['*'],
          headers: { add: [], remove: [] },
          routes: [
            {
              name: 'r',
              match: { kind: 'path', value: '/p', caseSensitive: true },
              action: { kind: 'forward', cluster: 'app', timeoutMs: 1000 },
              headers: { add: [], remove: [] },
            },
          ],
        },
      ],
    });
    expect((await httpRequest(url('l', '/p'))).status).toBe(200);
  });

  test('a route the upstream request cannot carry (bypassing validation) is a 503, never a crash', async () => {
    clusters.set('app', staticCluster('app', apps[0]!.port));
    await set.update([
      model(httpListener('l', 15970, { rds: { route_config_name: 'raw', config_source: { ads: {} } } })),
    ]);
    const none = { add: [], remove: [] };
    routes.set('raw', {
      name: 'raw',
      headers: none,
      virtualHosts: [
        {
          name: 'vh',
          domains: ['*'],
          headers: none,
          routes: [
            {
              name: 'r',
              match: { kind: 'path', value: '/p', caseSensitive: true },
              action: { kind: 'forward', cluster: 'app', prefixRewrite: '/a b', timeoutMs: 1000 },
              headers: none,
            },
          ],
        },
      ],
    });
    expect((await httpRequest(url('l', '/p'))).status).toBe(503);
    expect(apps[0]!.requests).toEqual([]);
    // The listener still serves.
    expect((await httpRequest(url('l', '/other'))).status).toBe(404);
  });

  test('endpoints are used round robin; the request method is forwarded', async () => {
    clusters.set('app', staticCluster('app', apps[0]!.port, apps[1]!.port));
    await set.update([
      model(
        httpListener('l', 15970, {
          route_config: {
            name: 'rc',
            virtual_hosts: [
              { name: 'v', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster: 'app' } }] },
            ],
          },
        }),
      ),
    ]);
    for (let i = 0; i < 4; i++)
      expect((await httpRequest(url('l', `/${i}`), { method: 'POST' })).status).toBe(200);
    expect(apps[0]!.requests.map((r) => r.url)).toEqual(['/0', '/2']);
    expect(apps[1]!.requests.map((r) => [r.method, r.url])).toEqual([
      ['POST', '/1'],
      ['POST', '/3'],
    ]);
  });

  test('an upstream that closes without answering: 503 connection termination', async () => {
    const rude = net.createServer((s) => s.destroy());
    await new Promise<void>((r) => rude.listen(0, '127.0.0.1', r));
    try {
      clusters.set('rude', staticCluster('rude', (rude.address() as net.AddressInfo).port));
      await set.update([
        model(
          httpListener('l', 15970, {
            route_config: {
              name: 'rc',
              virtual_hosts: [
                {
                  name: 'v',
                  domains: ['*'],
                  routes: [{ match: { prefix: '/' }, route: { cluster: 'rude' } }],
                },
              ],
            },
          }),
        ),
      ]);
      expect(await httpRequest(url('l', '/'))).toMatchObject({
        status: 503,
        body: 'upstream connect error or disconnect/reset before headers. reset reason: connection termination',
      });
    } finally {
      await new Promise<void>((r) => rude.close(() => r()));
    }
  });
});

describe('listeners', () => {
  test('no chain matches a plain connection (tls-only chain, no inspector): closed; the default chain catches it', async () => {
    clusters.set('app', staticCluster('app', apps[0]!.port));
    const tlsOnly = httpListener(
      'tls-only',
      15970,
      {
        route_config: {
          name: 'rc',
          virtual_hosts: [
            { name: 'v', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster: 'app' } }] },
          ],
        },
      },
      { filter_chain_match: { transport_protocol: 'tls' } },
    );
    const withDefault = {
      ...httpListener(
        'with-default',
        15971,
        { route_config: { name: 'rc', virtual_hosts: [] } },
        { filter_chain_match: { transport_protocol: 'tls' } },
      ),
      default_filter_chain: {
        filters: [
          {
            name: 'envoy.filters.network.tcp_proxy',
            typed_config: packAny(TCP_PROXY_TYPE_URL, { stat_prefix: 'd', cluster: 'app' }),
          },
        ],
      },
    };
    await set.update([model(tlsOnly), model(withDefault)]);
    await expect(httpRequest(url('tls-only', '/'))).rejects.toThrow(/socket hang up|ECONNRESET/);
    expect((await httpRequest(url('with-default', '/through-tcp'))).status).toBe(200);
    expect(apps[0]!.requests.map((r) => r.url)).toEqual(['/through-tcp']);
  });

  test('an unchanged listener keeps its socket and generation; a changed one keeps its socket; a removed one closes', async () => {
    const l1 = httpListener('a', 15970, { route_config: { name: 'rc', virtual_hosts: [] } });
    const l2 = httpListener('b', 15971, { route_config: { name: 'rc', virtual_hosts: [] } });
    const fp = (m: ListenerModel, f: string) => Object.assign(m, { fingerprint: f });
    await set.update([fp(model(l1), 'a1'), fp(model(l2), 'b1')]);
    const portA = set.boundPort('a');
    const portB = set.boundPort('b');
    await set.update([fp(model(l1), 'a1'), fp(model(l2), 'b2')]);
    const st = set.status();
    expect(st.map((s) => [s.name, s.generation, s.bound])).toEqual([
      ['a', 1, true],
      ['b', 2, true],
    ]);
    expect(set.boundPort('a')).toBe(portA);
    expect(set.boundPort('b')).toBe(portB);
    await set.update([fp(model(l1), 'a1')]);
    expect(set.boundPort('b')).toBeUndefined();
    await expect(httpRequest(`http://${POD}:${portB!}/`)).rejects.toThrow(/ECONNREFUSED/);
  });

  test('removing a listener closes connections still being inspected (nothing sent yet)', async () => {
    const inspected = {
      ...httpListener(
        'mixed',
        15970,
        { route_config: { name: 'rc', virtual_hosts: [] } },
        { filter_chain_match: { transport_protocol: 'raw_buffer' } },
      ),
      listener_filters: [{ name: 'envoy.filters.listener.tls_inspector' }],
    };
    await set.update([model(inspected)]);
    const silent = net.connect(set.boundPort('mixed')!, POD);
    silent.on('error', () => undefined);
    await new Promise<void>((r) => silent.once('connect', () => r()));
    const closed = new Promise<void>((r) => silent.once('close', () => r()));
    await set.update([]);
    await closed;
    expect(set.status()).toEqual([]);
  });

  test('two listeners on one address are refused and nothing changes', async () => {
    await set.update([model(httpListener('a', 15970, { route_config: { name: 'rc', virtual_hosts: [] } }))]);
    const before = set.status();
    const clash = [
      model(httpListener('x', 15990, { route_config: { name: 'rc', virtual_hosts: [] } })),
      model(httpListener('y', 15990, { route_config: { name: 'rc', virtual_hosts: [] } })),
    ];
    await expect(set.update(clash)).rejects.toThrow(
      `Listener "y": address ${POD}:15990 is already used by listener "x"`,
    );
    expect(set.status()).toEqual(before);
  });
});
