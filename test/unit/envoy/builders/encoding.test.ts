/**
 * Every object the builders make must survive fsm's proto root (pkg/envoy/protos.ts) without loss:
 * encode (which rejects unknown fields) → decode → toObject must give back exactly what was built.
 * protobufjs' fromObject alone silently drops unknown or misspelled fields, so equality after the
 * round trip is the proof; the negative cases show both guards fire.
 */
import { buildInboundPassthroughCluster } from '../../../../pkg/envoy/builders/clusters.js';
import { buildProbeListener } from '../../../../pkg/envoy/builders/probe-listener.js';
import { buildProxyResources, TLS_INSPECTOR_TYPE_URL } from '../../../../pkg/envoy/builders/index.js';
import type { HttpProbeRoute, ProxyBuildInput } from '../../../../pkg/envoy/builders/index.js';
import { decodeMessage, encodeMessage, hasMessageType, messageType } from '../../../../pkg/envoy/protos.js';
import { CLUSTER_TYPE_URL, LISTENER_TYPE_URL, messageNameOf } from '../../../../pkg/envoy/type-urls.js';
import { protoIncludeDirs } from '../../../../pkg/envoy/proto-paths.js';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** Decoded the way a reader of the wire sees it: enum names, numbers, Any expanded to '@type'. */
const READ = { enums: String, longs: Number, json: true } as const;

/** What the decoder gives for what we built: a packed Any of a type outside the root keeps its bytes. */
function asDecoded(v: unknown): unknown {
  if (v instanceof Uint8Array) return Buffer.from(v);
  if (Array.isArray(v)) return v.map(asDecoded);
  if (v !== null && typeof v === 'object') {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, asDecoded(x)]));
  }
  return v;
}

function roundTrip(typeUrl: string, obj: object): unknown {
  const bytes = encodeMessage(typeUrl, obj as Record<string, unknown>);
  expect(bytes.length).toBeGreaterThan(0);
  return decodeMessage(typeUrl, bytes, READ);
}

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

const inputs: [string, ProxyBuildInput][] = [
  ['no probes, no ports', { probes: [], inboundPorts: [] }],
  [
    'one container HTTP',
    { probes: [{ type: 'liveness', http: [http('app')] }], inboundPorts: [{ container: 'app', port: 8080 }] },
  ],
  [
    'HTTPS passthrough',
    {
      probes: [{ type: 'readiness', http: [], https: { container: 'web', port: 8443, timeoutSeconds: 4 } }],
      inboundPorts: [],
    },
  ],
  [
    'HTTP and HTTPS of one type (TLS inspector)',
    {
      probes: [
        {
          type: 'startup',
          http: [http('a', { matchPath: '/fsm-startup-probe/a' })],
          https: { container: 'b', port: 443, timeoutSeconds: 1 },
        },
      ],
      inboundPorts: [],
    },
  ],
  [
    'multi-container same type, headers, Host, empty path, clamped and long timeouts',
    {
      probes: [
        {
          type: 'readiness',
          http: [
            http('web', {
              matchPath: '/fsm-readiness-probe/web',
              originalPath: '',
              headers: [
                { name: 'X-Probe', value: 'kubelet' },
                { name: 'Host', value: 'web.local' },
                { name: 'X-Empty', value: '' },
              ],
              timeoutSeconds: 0,
            }),
            http('api', {
              matchPath: '/fsm-readiness-probe/api',
              originalPath: 'status?full=1',
              port: 9000,
              timeoutSeconds: 2147483647,
            }),
          ],
        },
        { type: 'liveness', http: [http('web', { port: 65535, timeoutSeconds: 30 })] },
      ],
      inboundPorts: [
        { container: 'web', port: 80 },
        { container: 'api', port: 1 },
        { container: 'api', port: 65535 },
      ],
    },
  ],
];

describe.each(inputs)('%s: every resource round-trips through the proto root unchanged', (_name, input) => {
  const built = buildProxyResources(input);
  it.each(built.listeners.map((l) => [l.name, l] as const))('listener %s', (_n, listener) => {
    expect(roundTrip(LISTENER_TYPE_URL, listener)).toEqual(asDecoded(listener));
  });
  it.each(built.clusters.map((c) => [c.name, c] as const))('cluster %s', (_n, cluster) => {
    expect(roundTrip(CLUSTER_TYPE_URL, cluster)).toEqual(asDecoded(cluster));
  });
});

describe('typed configs', () => {
  it("every expanded @type is a message fsm's root knows; the TLS inspector is packed (empty = all defaults)", () => {
    const l = buildProbeListener({
      type: 'liveness',
      http: [http('a')],
      https: { container: 'b', port: 443, timeoutSeconds: 1 },
    })!;
    const types = new Set<string>();
    const walk = (v: unknown): void => {
      if (Array.isArray(v)) v.forEach(walk);
      else if (v !== null && typeof v === 'object' && !(v instanceof Uint8Array)) {
        const t = (v as Record<string, unknown>)['@type'];
        if (typeof t === 'string') types.add(t);
        Object.values(v).forEach(walk);
      }
    };
    walk(l);
    expect(types.size).toBe(3); // HCM, router, tcp_proxy
    for (const t of types) expect(hasMessageType(t)).toBe(true);
    expect(hasMessageType(TLS_INSPECTOR_TYPE_URL)).toBe(false);
    expect(l.listener_filters![0]!.typed_config).toEqual({
      type_url: TLS_INSPECTOR_TYPE_URL,
      value: new Uint8Array(0),
    });
  });

  it('the TLS inspector type URL names a real upstream message (file in the installed Envoy API)', () => {
    const rel = 'envoy/extensions/filters/listener/tls_inspector/v3/tls_inspector.proto';
    const file = protoIncludeDirs()
      .map((d) => path.join(d, rel))
      .find((f) => existsSync(f));
    expect(file).toBeDefined();
    const text = readFileSync(file!, 'utf8');
    const name = messageNameOf(TLS_INSPECTOR_TYPE_URL);
    const pkg = name.slice(0, name.lastIndexOf('.'));
    expect(text).toContain(`package ${pkg};`);
    expect(text).toContain(`message ${name.slice(pkg.length + 1)} {`);
  });
});

describe('the guards catch loss', () => {
  const listener = buildProbeListener({
    type: 'liveness',
    http: [http('app', { headers: [{ name: 'X', value: '1' }] })],
  })!;

  it.each<[string, (l: any) => void, RegExp]>([
    ['misspelled top-level field', (l) => (l.filter_chain = l.filter_chains), /filter_chain: no such field/],
    ['camelCase field name', (l) => (l.trafficDirection = 'INBOUND'), /trafficDirection: no such field/],
    [
      'misspelled field inside the packed HTTP connection manager',
      (l) => (l.filter_chains[0].filters[0].typed_config.stat_prefx = 'x'),
      /stat_prefx: no such field/,
    ],
    [
      'misspelled route field',
      (l) =>
        (l.filter_chains[0].filters[0].typed_config.route_config.virtual_hosts[0].routes[0].route.prefix_rewite =
          '/'),
      /prefix_rewite: no such field/,
    ],
    ['unknown enum name', (l) => (l.traffic_direction = 'INBOUNDS'), /unknown TrafficDirection value/],
    [
      'Duration as a string',
      (l) =>
        (l.filter_chains[0].filters[0].typed_config.route_config.virtual_hosts[0].routes[0].route.timeout =
          '1s'),
      /timeout/,
    ],
  ])('%s → encode throws naming it', (_name, mutate, err) => {
    const bad = structuredClone(listener);
    mutate(bad);
    expect(() => encodeMessage(LISTENER_TYPE_URL, bad as any)).toThrow(err);
  });

  it('without the check, protobufjs drops an unknown field — and the round-trip comparison sees it', () => {
    const bad = { ...buildInboundPassthroughCluster(), connect_timout: { seconds: 9 } };
    const type = messageType(CLUSTER_TYPE_URL);
    const decoded = type.toObject(type.decode(type.encode(type.fromObject(bad)).finish()), READ);
    expect(decoded).not.toEqual(asDecoded(bad));
    expect(() => encodeMessage(CLUSTER_TYPE_URL, bad)).toThrow(/connect_timout: no such field/);
  });
});
