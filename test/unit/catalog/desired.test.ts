import { desiredProxy } from '../../../pkg/catalog/index.js';
import type { DesiredProxy } from '../../../pkg/catalog/index.js';
import type { DesiredProxyResult } from '../../../pkg/catalog/desired.js';
import type { PodLike } from '../../../pkg/catalog/pod.js';
import { ORIGINAL_PROBES_ANNOTATION, PROXY_UUID_LABEL } from '../../../pkg/constants/index.js';
import type { Listener, Route } from '../../../pkg/envoy/builders/index.js';
import { decodeMessage, encodeMessage } from '../../../pkg/envoy/index.js';
import { CLUSTER_TYPE_URL, LISTENER_TYPE_URL } from '../../../pkg/envoy/index.js';
import {
  annotationValue,
  appPod,
  grpc,
  http,
  https,
  injectedPod,
  originalProbesFor,
  tcp,
} from '../../support/pods.js';
import type { ContainerSpec, InjectedPodOptions } from '../../support/pods.js';

/** The decoder's view of what we built: packed Any bytes come back as a Buffer. */
function asDecoded(v: unknown): unknown {
  if (v instanceof Uint8Array) return Buffer.from(v);
  if (Array.isArray(v)) return v.map(asDecoded);
  if (v !== null && typeof v === 'object')
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, asDecoded(x)]));
  return v;
}

function proxy(r: DesiredProxyResult): DesiredProxy {
  if (!r.isProxy) throw new Error(`expected a proxy, got: ${r.reason}`);
  return r;
}

function listener(d: DesiredProxy, name: string): Listener | undefined {
  return d.resources.listeners.find((l) => l.name === name);
}

function routesOf(l: Listener): Route[] {
  const chain = l.filter_chains.find(
    (c) => c.filters[0]!.name === 'envoy.filters.network.http_connection_manager',
  )!;
  return (chain.filters[0]!.typed_config as any).route_config.virtual_hosts[0].routes;
}

function summary(d: DesiredProxy): Record<string, unknown> {
  const routes: string[] = [];
  const passthrough: string[] = [];
  for (const l of d.resources.listeners.filter(
    (x) => x.name.endsWith('_listener') && x.name !== 'inbound_listener',
  )) {
    for (const c of l.filter_chains) {
      const f = c.filters[0]!;
      if (f.name === 'envoy.filters.network.tcp_proxy')
        passthrough.push(`${l.name} → ${f.typed_config.cluster}`);
      else
        for (const r of routesOf(l)) {
          // A redirect landing matches a path and everything under it, and forwards the path as sent.
          const match = r.match.path ?? `${r.match.path_separated_prefix}/**`;
          const rewrite = r.route.prefix_rewrite ?? '(as sent)';
          routes.push(`${l.name} ${match} → ${r.route.cluster} ${rewrite} ${r.route.timeout.seconds}s`);
        }
    }
  }
  const clusters = d.resources.clusters
    .filter((c) => c.type === 'STATIC')
    .map(
      (c) =>
        `${c.name} 127.0.0.1:${c.load_assignment!.endpoints[0]!.lb_endpoints[0]!.endpoint.address.socket_address.port_value} ${c.connect_timeout.seconds}s`,
    );
  return {
    listeners: d.resources.listeners.map((l) => l.name),
    routes,
    passthrough,
    clusters,
    problems: d.problems,
  };
}

const cases: [string, InjectedPodOptions, Record<string, unknown>][] = [
  [
    'one container HTTP liveness',
    { name: 'p', containers: [{ name: 'app', ports: [8080], liveness: http(8080, '/healthz') }] },
    {
      listeners: ['inbound_8080', 'inbound_listener', 'liveness_listener'],
      routes: [
        'liveness_listener /fsm-liveness-probe → app_liveness_cluster /healthz 1s',
        'liveness_listener /healthz/** → app_liveness_cluster (as sent) 1s',
      ],
      passthrough: [],
      clusters: ['app_liveness_cluster 127.0.0.1:8080 1s', 'inbound_app_8080_cluster 127.0.0.1:8080 5s'],
      problems: [],
    },
  ],
  [
    'HTTPS readiness: passthrough, path untouched',
    { name: 'p', containers: [{ name: 'web', readiness: https(8443, '/secure', { timeoutSeconds: 3 }) }] },
    {
      listeners: ['inbound_listener', 'readiness_listener'],
      routes: [],
      passthrough: ['readiness_listener → web_readiness_cluster'],
      clusters: ['web_readiness_cluster 127.0.0.1:8443 3s'],
      problems: [],
    },
  ],
  [
    'TCP liveness: no probe listener, no probe cluster (fsm-healthcheck serves it)',
    { name: 'p', containers: [{ name: 'db', ports: [5432], liveness: tcp(5432) }] },
    {
      listeners: ['inbound_5432', 'inbound_listener'],
      routes: [],
      passthrough: [],
      clusters: ['inbound_db_5432_cluster 127.0.0.1:5432 5s'],
      problems: [],
    },
  ],
  [
    'gRPC startup: no probe listener',
    { name: 'p', containers: [{ name: 'g', startup: grpc(9000, 'health') }] },
    { listeners: ['inbound_listener'], routes: [], passthrough: [], clusters: [], problems: [] },
  ],
  [
    'multi-container same type: per-container paths to each own port',
    {
      name: 'p',
      containers: [
        { name: 'web', liveness: http(8080, '/live') },
        { name: 'api', liveness: http(9090, '/alive') },
        { name: 'side', liveness: tcp(7000) },
      ],
    },
    {
      listeners: ['inbound_listener', 'liveness_listener'],
      routes: [
        'liveness_listener /fsm-liveness-probe/api → api_liveness_cluster /alive 1s',
        'liveness_listener /fsm-liveness-probe/web → web_liveness_cluster /live 1s',
        'liveness_listener /alive/** → api_liveness_cluster (as sent) 1s',
        'liveness_listener /live/** → web_liveness_cluster (as sent) 1s',
      ],
      passthrough: [],
      clusters: ['api_liveness_cluster 127.0.0.1:9090 1s', 'web_liveness_cluster 127.0.0.1:8080 1s'],
      problems: [],
    },
  ],
  [
    'timeouts: 0 clamped to 1 s, 7 kept',
    {
      name: 'p',
      containers: [{ name: 'app', liveness: http(80, '/l'), readiness: http(80, '/r') }],
      record: {
        app: {
          liveness: {
            kind: 'http',
            scheme: 'HTTP',
            port: 80,
            path: '/l',
            timeoutSeconds: 0,
            rewritten: { port: 15901, path: '/fsm-liveness-probe' },
          },
          readiness: {
            kind: 'http',
            scheme: 'HTTP',
            port: 80,
            path: '/r',
            timeoutSeconds: 7,
            rewritten: { port: 15902, path: '/fsm-readiness-probe' },
          },
        },
      },
    },
    {
      listeners: ['inbound_listener', 'liveness_listener', 'readiness_listener'],
      routes: [
        'liveness_listener /fsm-liveness-probe → app_liveness_cluster /l 1s',
        'liveness_listener /l/** → app_liveness_cluster (as sent) 1s',
        'readiness_listener /fsm-readiness-probe → app_readiness_cluster /r 7s',
        'readiness_listener /r/** → app_readiness_cluster (as sent) 7s',
      ],
      passthrough: [],
      clusters: ['app_liveness_cluster 127.0.0.1:80 1s', 'app_readiness_cluster 127.0.0.1:80 7s'],
      problems: [],
    },
  ],
  [
    'empty path → "/"',
    { name: 'p', containers: [{ name: 'app', startup: http(8080, '') }] },
    {
      listeners: ['inbound_listener', 'startup_listener'],
      routes: ['startup_listener /fsm-startup-probe → app_startup_cluster / 1s'],
      passthrough: [],
      clusters: ['app_startup_cluster 127.0.0.1:8080 1s'],
      problems: [],
    },
  ],
  [
    'no probes at all: inbound only',
    { name: 'p', containers: [{ name: 'app', ports: [80, 443] }] },
    {
      listeners: ['inbound_443', 'inbound_80', 'inbound_listener'],
      routes: [],
      passthrough: [],
      clusters: ['inbound_app_443_cluster 127.0.0.1:443 5s', 'inbound_app_80_cluster 127.0.0.1:80 5s'],
      problems: [],
    },
  ],
  [
    'annotation absent (probe rewrite disabled): inbound only, no problem',
    { name: 'p', rawAnnotation: null, containers: [{ name: 'app', ports: [80], liveness: http(80) }] },
    {
      listeners: ['inbound_80', 'inbound_listener'],
      routes: [],
      passthrough: [],
      clusters: ['inbound_app_80_cluster 127.0.0.1:80 5s'],
      problems: [],
    },
  ],
  [
    'all kinds in one pod, HTTP and HTTPS sharing readiness',
    {
      name: 'p',
      containers: [
        { name: 'a', ports: [80], liveness: http(80, '/l'), readiness: http(80, '/r'), startup: grpc(90) },
        { name: 'b', ports: [443], readiness: https(443, '/'), liveness: tcp(443) },
      ],
    },
    {
      listeners: ['inbound_443', 'inbound_80', 'inbound_listener', 'liveness_listener', 'readiness_listener'],
      routes: [
        'liveness_listener /fsm-liveness-probe → a_liveness_cluster /l 1s',
        'liveness_listener /l/** → a_liveness_cluster (as sent) 1s',
        'readiness_listener /fsm-readiness-probe → a_readiness_cluster /r 1s',
        'readiness_listener /r/** → a_readiness_cluster (as sent) 1s',
      ],
      passthrough: ['readiness_listener → b_readiness_cluster'],
      clusters: [
        'a_liveness_cluster 127.0.0.1:80 1s',
        'a_readiness_cluster 127.0.0.1:80 1s',
        'b_readiness_cluster 127.0.0.1:443 1s',
        'inbound_a_80_cluster 127.0.0.1:80 5s',
        'inbound_b_443_cluster 127.0.0.1:443 5s',
      ],
      problems: [],
    },
  ],
];

describe('desiredProxy: pods → resources', () => {
  it.each(cases)('%s', (_name, opts, want) => {
    const d = proxy(desiredProxy(injectedPod(opts)));
    expect(summary(d)).toEqual(want);
    expect(d.annotation).toBe(opts.rawAnnotation === null ? 'absent' : 'valid');
  });

  it.each(cases)('%s: every resource encodes through the proto root without loss', (_name, opts) => {
    const d = proxy(desiredProxy(injectedPod(opts)));
    for (const [url, items] of [
      [LISTENER_TYPE_URL, d.resources.listeners],
      [CLUSTER_TYPE_URL, d.resources.clusters],
    ] as const) {
      for (const r of items) {
        const back = decodeMessage(url, encodeMessage(url, r as any), {
          enums: String,
          longs: Number,
          json: true,
        });
        expect(back).toEqual(asDecoded(r));
      }
    }
  });
});

describe('desiredProxy: details', () => {
  it('named headers reach the route; Host becomes the host rewrite', () => {
    const d = proxy(
      desiredProxy(
        injectedPod({
          name: 'p',
          containers: [
            {
              name: 'app',
              liveness: http(8080, '/h', {
                headers: [
                  { name: 'X-Probe', value: 'kubelet' },
                  { name: 'Host', value: 'app.example' },
                ],
              }),
            },
          ],
        }),
      ),
    );
    const r = routesOf(listener(d, 'liveness_listener')!)[0]!;
    expect(r.request_headers_to_add).toEqual([
      { header: { key: 'X-Probe', value: 'kubelet' }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' },
    ]);
    expect(r.route.host_rewrite_literal).toBe('app.example');
  });

  it('identity comes with the resources', () => {
    const d = proxy(
      desiredProxy(
        injectedPod({
          name: 'p',
          namespace: 'ns',
          serviceAccount: 'sa',
          uuid: 'u-1',
          containers: [{ name: 'a' }],
        }),
      ),
    );
    expect(d.proxy).toMatchObject({ uuid: 'u-1', namespace: 'ns', name: 'p', serviceAccount: 'sa' });
  });

  it('the sidecar, healthcheck and init containers get no inbound listener', () => {
    const pod = injectedPod({
      name: 'p',
      containers: [{ name: 'app', ports: [8080], liveness: http(8080), readiness: tcp(8080) }],
    });
    const names = pod.spec!.containers.map((c) => c.name);
    expect(names).toEqual(['app', 'sidecar', 'fsm-healthcheck']);
    const d = proxy(desiredProxy(pod));
    expect(d.resources.listeners.map((l) => l.name)).toEqual([
      'inbound_8080',
      'inbound_listener',
      'liveness_listener',
    ]);
    expect(d.problems).toEqual([]);
  });

  it('is deterministic and does not modify the pod', () => {
    const pod = injectedPod({
      name: 'p',
      containers: [
        { name: 'b', liveness: http(1) },
        { name: 'a', liveness: http(2), ports: [2, 1] },
      ],
    });
    const before = JSON.stringify(pod);
    const one = desiredProxy(pod);
    expect(desiredProxy(JSON.parse(before))).toEqual(one);
    expect(JSON.stringify(pod)).toBe(before);
  });
});

describe('desiredProxy: malformed annotation → inbound only, the error as the first problem', () => {
  it.each<[string, string, string]>([
    ['not JSON', '{v:1}', 'not valid JSON'],
    [
      'unknown version',
      '{"v":2,"containers":{}}',
      'v: unsupported version 2 (this controller reads version 1)',
    ],
    [
      'bad port',
      annotationValue({
        app: {
          liveness: { ...originalProbesFor([{ name: 'app', liveness: http(1) }]).app!.liveness!, port: 0 },
        },
      }),
      'containers["app"].liveness.port: must be an integer 1-65535, got 0',
    ],
    [
      'probe listener path of the wrong type',
      annotationValue({
        app: {
          liveness: {
            ...originalProbesFor([{ name: 'app', liveness: http(1) }]).app!.liveness!,
            rewritten: { port: 15901, path: '/fsm-startup-probe' },
          },
        },
      }),
      'rewritten.path',
    ],
  ])('%s', (_name, raw, want) => {
    const d = proxy(
      desiredProxy(
        injectedPod({
          name: 'p',
          namespace: 'n',
          rawAnnotation: raw,
          containers: [{ name: 'app', ports: [8080], liveness: http(8080) }],
        }),
      ),
    );
    expect(d.annotation).toBe('invalid');
    expect(d.problems[0]).toContain(`pod n/p: annotation ${ORIGINAL_PROBES_ANNOTATION}: `);
    expect(d.problems[0]).toContain(want);
    expect(d.resources.listeners.map((l) => l.name)).toEqual(['inbound_8080', 'inbound_listener']);
    expect(d.probes).toEqual({ LivenessProbes: [], ReadinessProbes: [], StartupProbes: [] });
  });
});

describe('desiredProxy: inconsistent annotations degrade per probe, with a problem', () => {
  it('a container the pod does not run is ignored', () => {
    const raw = annotationValue(
      originalProbesFor([
        { name: 'app', liveness: http(80) },
        { name: 'gone', readiness: http(81) },
      ]),
    );
    const d = proxy(
      desiredProxy(
        injectedPod({
          name: 'p',
          namespace: 'n',
          rawAnnotation: raw,
          containers: [{ name: 'app', liveness: http(80) }],
        }),
      ),
    );
    expect(d.annotation).toBe('valid');
    expect(d.problems).toEqual([
      'pod n/p: annotation names container gone, which the pod does not run; its probes are ignored',
    ]);
    expect(d.resources.listeners.map((l) => l.name)).toEqual(['inbound_listener', 'liveness_listener']);
  });

  it('two containers on the same exact path: the first (pod order) is routed', () => {
    const rec = originalProbesFor([{ name: 'a', liveness: http(80) }]);
    const record = { b: { liveness: { ...rec.a!.liveness!, port: 81 } }, a: rec.a! };
    const d = proxy(
      desiredProxy(
        injectedPod({
          name: 'p',
          namespace: 'n',
          record,
          containers: [
            { name: 'a', liveness: http(80) },
            { name: 'b', liveness: http(81) },
          ],
        }),
      ),
    );
    // The probe route and its redirect landing (b's path is not routed at all).
    expect(routesOf(listener(d, 'liveness_listener')!).map((r) => r.route.cluster)).toEqual([
      'a_liveness_cluster',
      'a_liveness_cluster',
    ]);
    expect(d.resources.clusters.map((c) => c.name)).not.toContain('b_liveness_cluster');
    expect(d.problems).toEqual([
      "pod n/p: liveness probes of containers a and b both use path /fsm-liveness-probe; only a's is routed",
    ]);
    expect(d.probes.LivenessProbes.map((e) => [e.container, e.servedBy])).toEqual([
      ['a', 'proxy'],
      ['b', 'none'],
    ]);
  });

  it('two HTTPS probes of one type: one passthrough target, the other reported', () => {
    const rec = originalProbesFor([{ name: 'a', startup: https(443) }]);
    const record = { a: rec.a!, b: { startup: { ...rec.a!.startup!, port: 8443 } } };
    const d = proxy(
      desiredProxy(
        injectedPod({
          name: 'p',
          namespace: 'n',
          record,
          containers: [
            { name: 'a', startup: https(443) },
            { name: 'b', startup: https(8443) },
          ],
        }),
      ),
    );
    const l = listener(d, 'startup_listener')!;
    expect(l.filter_chains).toHaveLength(1);
    expect(l.filter_chains[0]!.filters[0]!.typed_config.cluster).toBe('a_startup_cluster');
    expect(d.problems[0]).toMatch(
      /startup probes of containers a and b are both HTTPS; port 15903 passes TLS through to one target only \(a\)/,
    );
  });
});

describe('desiredProxy: pod probes that differ from the recorded rewrite are reported', () => {
  const record = originalProbesFor([{ name: 'app', liveness: http(8080, '/h'), readiness: tcp(5000) }]);
  it.each<[string, ContainerSpec[], string[]]>([
    [
      'probes as injected: nothing to report',
      [{ name: 'app', liveness: http(8080, '/h'), readiness: tcp(5000) }],
      [],
    ],
    [
      'liveness probe removed from the pod',
      [{ name: 'app', readiness: tcp(5000) }],
      [
        'pod n/p: container app livenessProbe has no such probe, but the annotation records its rewrite to httpGet port 15901 path /fsm-liveness-probe',
      ],
    ],
    [
      'readiness probe became exec',
      [{ name: 'app', liveness: http(8080, '/h'), readiness: { kind: 'exec' } }],
      [
        'pod n/p: container app readinessProbe is not an httpGet probe, but the annotation records its rewrite to httpGet port 15904 path /fsm-healthcheck',
      ],
    ],
  ])('%s', (_name, containers, problems) => {
    const d = proxy(desiredProxy(injectedPod({ name: 'p', namespace: 'n', containers, record })));
    expect(d.problems).toEqual(problems);
    // The config is still built from the annotation.
    expect(listener(d, 'liveness_listener')).toBeDefined();
  });

  it('a probe edited back to its original target after injection', () => {
    const pod = injectedPod({
      name: 'p',
      namespace: 'n',
      containers: [{ name: 'app', liveness: http(8080, '/h') }],
    });
    pod.spec!.containers[0]!.livenessProbe!.httpGet = { port: 8080, path: '/h' };
    const d = proxy(desiredProxy(pod));
    expect(d.problems).toEqual([
      'pod n/p: container app livenessProbe targets httpGet port 8080 path "/h", but the annotation records its rewrite to httpGet port 15901 path /fsm-liveness-probe',
    ]);
    expect(d.probes.LivenessProbes[0]!.problem).toBe(d.problems[0]!.slice('pod n/p: '.length));
    expect(d.probes.LivenessProbes[0]!.servedBy).toBe('proxy');
  });

  it('a port written as a decimal string counts as that number', () => {
    const pod = injectedPod({
      name: 'p',
      namespace: 'n',
      containers: [{ name: 'app', liveness: http(8080, '/h') }],
    });
    pod.spec!.containers[0]!.livenessProbe!.httpGet!.port = '15901';
    expect(proxy(desiredProxy(pod)).problems).toEqual([]);
  });
});

describe('desiredProxy: not a proxy', () => {
  it.each<[string, PodLike, RegExp]>([
    [
      'user pod',
      appPod({ name: 'p', namespace: 'n', containers: [{ name: 'a', liveness: http(80) }] }),
      /no flomesh.io\/proxy-uuid label/,
    ],
    [
      'hostNetwork pod with a copied label',
      {
        metadata: { name: 'p', namespace: 'n', labels: { [PROXY_UUID_LABEL]: 'u' } },
        spec: { hostNetwork: true },
      },
      /hostNetwork/,
    ],
    ['pod without metadata', {}, /metadata.name is missing/],
    [
      'containers not an array (impossible shape)',
      {
        metadata: { name: 'p', namespace: 'n', labels: { [PROXY_UUID_LABEL]: 'u' } },
        spec: { containers: 5 as any },
      },
      /unreadable pod object/,
    ],
  ])('%s', (_name, pod, reason) => {
    const r = desiredProxy(pod);
    expect(r.isProxy).toBe(false);
    if (!r.isProxy) expect(r.reason).toMatch(reason);
  });
});
