/**
 * Issue 19 through the catalog, on pods mutated by the real injector: HTTPS probes whose TLS the
 * proxy originates, lifecycle hooks, the native sidecar's proxy-ready route, redirect landings, and
 * the injection format (outdated pods are served and counted). Every resource encodes through the
 * proto root without loss (Envoy would accept its shape).
 */
import type { V1Container, V1Namespace, V1Pod } from '@kubernetes/client-node';
import { Registry } from 'prom-client';
import { SnapshotCache } from '../../../pkg/ads/index.js';
import {
  CatalogMetrics,
  desiredProxy,
  podInjection,
  ProxyPropagator,
  type DesiredProxy,
} from '../../../pkg/catalog/index.js';
import { MONITORED_BY_LABEL, OUTDATED_INJECTION_METRIC } from '../../../pkg/constants/index.js';
import type { Cluster, Listener } from '../../../pkg/envoy/builders/index.js';
import {
  CLUSTER_TYPE_URL,
  LISTENER_TYPE_URL,
  decodeMessage,
  encodeMessage,
  UPSTREAM_TLS_CONTEXT_TYPE_URL,
} from '../../../pkg/envoy/index.js';
import { defaultInjectorConfig, mutatePod, serverSupport } from '../../../pkg/injector/index.js';
import { silentLogger } from '../../../pkg/logger/index.js';
import { MemoryInformer } from '../../support/memory-informer.js';
import { http, injectedPod } from '../../support/pods.js';

const namespaceObject: V1Namespace = { metadata: { name: 'shop', labels: { [MONITORED_BY_LABEL]: 'fsm' } } };

function inject(containers: V1Container[], native = false): V1Pod {
  const r = mutatePod({
    object: { metadata: { name: 'p', namespace: 'shop' }, spec: { containers } },
    namespace: 'shop',
    namespaceObject,
    config: defaultInjectorConfig(),
    newProxyUuid: () => '00000000-0000-4000-8000-000000000001',
    ...(native ? { server: serverSupport({ major: 1, minor: 32, gitVersion: 'v1.32.0' }) } : {}),
  });
  if (!r.desired) throw new Error(r.reason);
  return r.desired;
}

function desired(pod: V1Pod): DesiredProxy {
  const d = desiredProxy(pod);
  if (!d.isProxy) throw new Error(d.reason);
  return d;
}

function listener(d: DesiredProxy, name: string): Listener {
  return d.resources.listeners.find((l) => l.name === name)!;
}

function httpRoutes(l: Listener): any[] {
  const chain = l.filter_chains.find((c) => c.filters[0]!.name.endsWith('http_connection_manager'))!;
  return (chain.filters[0]!.typed_config as any).route_config.virtual_hosts[0].routes;
}

function cluster(d: DesiredProxy, name: string): Cluster {
  return d.resources.clusters.find((c) => c.name === name)!;
}

/** The builder's object as the decoder returns it (bytes come back as Buffers). */
function asDecoded(v: unknown): unknown {
  if (v instanceof Uint8Array) return Buffer.from(v);
  if (Array.isArray(v)) return v.map(asDecoded);
  if (v !== null && typeof v === 'object')
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, asDecoded(x)]));
  return v;
}

function decodes(d: DesiredProxy): void {
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
}

describe('two HTTPS readiness probes: one passes through, the other is originated by the proxy', () => {
  const d = desired(
    inject([
      { name: 'a', readinessProbe: { httpGet: { port: 8443, path: '/a', scheme: 'HTTPS' } } },
      { name: 'b', readinessProbe: { httpGet: { port: 9443, path: '/b', scheme: 'HTTPS' } } },
    ]),
  );
  const l = listener(d, 'readiness_listener');

  it('a TLS inspector: TLS bytes to a, plain HTTP routes for b', () => {
    expect(d.problems).toEqual([]);
    expect(l.filter_chains.map((c) => [c.name, c.filter_chain_match?.transport_protocol])).toEqual([
      ['readiness_http', 'raw_buffer'],
      ['readiness_https', 'tls'],
    ]);
    expect(l.filter_chains[1]!.filters[0]!.typed_config.cluster).toBe('a_readiness_cluster');
    expect(httpRoutes(l).map((r) => [r.match, r.route.cluster, r.route.prefix_rewrite])).toEqual([
      [{ path: '/fsm-readiness-probe/b' }, 'b_readiness_cluster', '/b'],
      [{ path_separated_prefix: '/b' }, 'b_readiness_cluster', undefined],
    ]);
  });

  it("b's cluster speaks TLS to the app without verifying it (kubelet's HTTPS probe semantics); a's does not", () => {
    expect(cluster(d, 'b_readiness_cluster').transport_socket).toEqual({
      name: 'envoy.transport_sockets.tls',
      typed_config: { '@type': UPSTREAM_TLS_CONTEXT_TYPE_URL, common_tls_context: {} },
    });
    expect(cluster(d, 'a_readiness_cluster').transport_socket).toBeUndefined();
  });

  it('the probes view says which one the proxy originates', () => {
    expect(d.probes.ReadinessProbes.map((e) => [e.container, e.servedBy, e.tls, e.httpGet.scheme])).toEqual([
      ['a', 'proxy', undefined, 'HTTPS'],
      ['b', 'proxy', 'originate', 'HTTP'],
    ]);
  });

  it('encodes through the proto root', () => decodes(d));
});

describe('lifecycle hooks on the startup listener', () => {
  const pod = inject([
    {
      name: 'app',
      ports: [{ containerPort: 8080 }],
      livenessProbe: { httpGet: { port: 8080, path: '/healthz' } },
      lifecycle: {
        postStart: { httpGet: { port: 8080, path: '/warm' } },
        preStop: { httpGet: { port: 8443, path: '/drain', scheme: 'HTTPS' } },
      },
    },
  ]);
  const d = desired(pod);

  it('each hook has its route and cluster; no redirect landing for hooks', () => {
    expect(d.problems).toEqual([]);
    expect(
      httpRoutes(listener(d, 'startup_listener')).map((r) => [
        r.name,
        r.match.path,
        r.route.cluster,
        r.route.prefix_rewrite,
        r.route.timeout.seconds,
      ]),
    ).toEqual([
      ['app_poststart_route', '/fsm-poststart-hook/app', 'app_poststart_cluster', '/warm', 30],
      ['app_prestop_route', '/fsm-prestop-hook/app', 'app_prestop_cluster', '/drain', 30],
    ]);
    expect(cluster(d, 'app_prestop_cluster').transport_socket?.name).toBe('envoy.transport_sockets.tls');
    expect(cluster(d, 'app_poststart_cluster').transport_socket).toBeUndefined();
    expect(d.hooks?.map((h) => [h.container, h.hook, h.servedBy, h.listener])).toEqual([
      ['app', 'postStart', 'proxy', 'startup_listener'],
      ['app', 'preStop', 'proxy', 'startup_listener'],
    ]);
  });

  it('a hook edited after injection is reported', () => {
    const edited = structuredClone(pod);
    edited.spec!.containers[0]!.lifecycle!.preStop!.httpGet!.path = '/other';
    expect(desired(edited).problems).toEqual([
      'pod shop/p: container app lifecycle.preStop targets httpGet port 15903 path "/other", but the annotation records its rewrite to httpGet port 15903 path /fsm-prestop-hook/app',
    ]);
  });

  it('encodes through the proto root', () => decodes(d));
});

describe('native sidecar: the startup listener answers the proxy-ready path itself', () => {
  it.each([
    ['no probes at all', [{ name: 'app' }]],
    [
      'an HTTPS startup probe (a TLS inspector then)',
      [{ name: 'app', startupProbe: { httpGet: { port: 8443, path: '/s', scheme: 'HTTPS' } } }],
    ],
  ] as [string, V1Container[]][])('%s', (_n, containers) => {
    const d = desired(inject(containers, true));
    const l = listener(d, 'startup_listener');
    expect(httpRoutes(l).find((r) => r.match.path === '/fsm-proxy-ready')).toEqual({
      name: 'proxy_ready_route',
      match: { path: '/fsm-proxy-ready' },
      direct_response: { status: 200, body: { inline_string: 'proxy configured' } },
    });
    decodes(d);
  });

  it('a classic sidecar gets no proxy-ready route', () => {
    const d = desired(inject([{ name: 'app' }]));
    expect(d.resources.listeners.map((l) => l.name)).not.toContain('startup_listener');
  });
});

describe('redirect landings', () => {
  it.each<[string, string[], string[]]>([
    ['a path: itself and what is under it', ['/healthz'], ['/healthz']],
    ['a trailing slash is dropped', ['/healthz/'], ['/healthz']],
    ['the query is not part of it', ['/status?full=1'], ['/status']],
    ['the root: none (it would expose the whole app)', ['/'], []],
    ['two containers, longest first', ['/a', '/a/b'], ['/a/b', '/a']],
  ])('%s', (_n, paths, prefixes) => {
    const d = desired(
      inject(
        paths.map((path, i) => ({ name: `c${i}`, livenessProbe: { httpGet: { port: 8000 + i, path } } })),
      ),
    );
    expect(
      httpRoutes(listener(d, 'liveness_listener'))
        .filter((r) => r.match.path_separated_prefix)
        .map((r) => r.match.path_separated_prefix),
    ).toEqual(prefixes);
  });

  it('a path two containers share lands nowhere (it could not tell them apart)', () => {
    const d = desired(
      inject([
        { name: 'a', livenessProbe: { httpGet: { port: 8000, path: '/healthz' } } },
        { name: 'b', livenessProbe: { httpGet: { port: 8001, path: '/healthz' } } },
      ]),
    );
    expect(httpRoutes(listener(d, 'liveness_listener')).map((r) => r.match)).toEqual([
      { path: '/fsm-liveness-probe/a' },
      { path: '/fsm-liveness-probe/b' },
    ]);
  });
});

describe('injection format: served, flagged and counted', () => {
  const current = injectedPod({
    name: 'new',
    namespace: 'shop',
    containers: [{ name: 'app', liveness: http(8080, '/h') }],
  });
  const old = injectedPod({
    name: 'old',
    namespace: 'shop',
    stamp: null,
    containers: [{ name: 'app', liveness: http(8080, '/h') }],
  });

  it('a seed-format pod is served exactly like a current one', () => {
    const a = desired(current);
    const b = desired(old);
    expect(b.problems).toEqual([]);
    expect(b.resources.listeners).toEqual(a.resources.listeners);
    expect(podInjection(current).outdated).toEqual([]);
    expect(podInjection(old).outdated).toEqual([
      'probes rewritten in format 1 by an injector that wrote no stamp (the seed); the control plane now writes format 2',
    ]);
  });

  it('a pod with neither record nor stamp says nothing about its format', () => {
    const bare = structuredClone(old);
    delete bare.metadata!.annotations!['flomesh.io/original-probes'];
    expect(podInjection(bare).outdated).toEqual([]);
  });

  it('the controller gauge counts the outdated pods of the mesh, and the debug view says why', async () => {
    const pods = new MemoryInformer<V1Pod>();
    const namespaces = new MemoryInformer<V1Namespace>();
    namespaces.set(namespaceObject);
    const registry = new Registry();
    const prop = new ProxyPropagator({
      pods,
      namespaces,
      cache: new SnapshotCache(),
      meshName: 'fsm',
      logger: silentLogger(),
      metrics: new CatalogMetrics(registry),
    });
    const gauge = async () =>
      (await registry.getSingleMetric(OUTDATED_INJECTION_METRIC)!.get()).values[0]?.value;
    pods.set(current);
    pods.set(old);
    prop.reconcile('shop/new');
    prop.reconcile('shop/old');
    expect(await gauge()).toBe(1);
    expect(prop.proxy('shop', 'old')?.injection.outdated).toHaveLength(1);
    expect(prop.proxy('shop', 'new')?.injection.outdated).toEqual([]);
    // Re-created in the current format: no longer counted.
    pods.set({
      ...old,
      metadata: { ...old.metadata!, annotations: current.metadata!.annotations!, resourceVersion: '2' },
    });
    prop.reconcile('shop/old');
    expect(await gauge()).toBe(0);
    pods.set(old);
    prop.reconcile('shop/old');
    expect(await gauge()).toBe(1);
    pods.remove('old', 'shop');
    prop.reconcile('shop/old');
    expect(await gauge()).toBe(0);
  });
});
