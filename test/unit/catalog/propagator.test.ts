/**
 * ProxyPropagator's reconcile paths, driven key by key: the informers are an in-memory
 * implementation of ResourceInformer (what a synced informer's cache holds), the snapshot cache is
 * the real one.
 */
import type { V1Namespace, V1Pod } from '@kubernetes/client-node';
import { SnapshotCache } from '../../../pkg/ads/index.js';
import { ProxyPropagator } from '../../../pkg/catalog/index.js';
import { LISTENER_TYPE_URL } from '../../../pkg/envoy/index.js';
import { MONITORED_BY_LABEL } from '../../../pkg/constants/index.js';
import { silentLogger } from '../../../pkg/logger/index.js';
import { MemoryInformer } from '../../support/memory-informer.js';
import { http, injectedPod } from '../../support/pods.js';

const NS = 'shop';

function pod(
  name: string,
  opts: { uuid?: string; path?: string; rv?: string; created?: string } = {},
): V1Pod {
  const p = injectedPod({
    name,
    namespace: NS,
    ...(opts.uuid ? { uuid: opts.uuid } : {}),
    containers: [{ name: 'app', ports: [8080], liveness: http(8080, opts.path ?? '/live') }],
  });
  p.metadata!.resourceVersion = opts.rv ?? '1';
  p.metadata!.creationTimestamp = (opts.created ?? '2026-01-01T00:00:00Z') as unknown as Date;
  return p;
}

function livenessRewrite(cache: SnapshotCache, uuid: string): string | undefined {
  const bytes = cache
    .getSnapshot(uuid)
    ?.types.get(LISTENER_TYPE_URL)
    ?.resources.get('liveness_listener')?.bytes;
  return bytes ? /\/live[a-z0-9-]*/.exec(Buffer.from(bytes).toString('latin1'))?.[0] : undefined;
}

describe('ProxyPropagator.reconcile', () => {
  let pods: MemoryInformer<V1Pod>;
  let namespaces: MemoryInformer<V1Namespace>;
  let cache: SnapshotCache;
  let outcomes: string[];
  let prop: ProxyPropagator;

  beforeEach(() => {
    pods = new MemoryInformer();
    namespaces = new MemoryInformer();
    namespaces.set({ metadata: { name: NS, labels: { [MONITORED_BY_LABEL]: 'fsm' } } });
    cache = new SnapshotCache();
    outcomes = [];
    prop = new ProxyPropagator({
      pods,
      namespaces,
      cache,
      meshName: 'fsm',
      logger: silentLogger(),
      onReconciled: (key, outcome) => outcomes.push(`${key} ${outcome}`),
    });
  });

  it('sets a snapshot, then skips the same pod version (resync, relist copy) without touching the cache', () => {
    const a = pod('a');
    pods.set(a);
    prop.reconcile(`${NS}/a`);
    const uuid = a.metadata!.labels!['flomesh.io/proxy-uuid']!;
    const first = cache.getSnapshot(uuid);
    expect(first).toBeDefined();
    prop.reconcile(`${NS}/a`); // resync of the same object
    pods.set(structuredClone(a)); // a relist delivers an equal copy (same uid and resourceVersion)
    prop.reconcile(`${NS}/a`);
    expect(cache.getSnapshot(uuid)).toBe(first);
    expect(outcomes).toEqual([`${NS}/a set`, `${NS}/a unchanged`, `${NS}/a unchanged`]);
  });

  it('recomputes a new pod version and one whose snapshot the cache no longer holds', () => {
    pods.set(pod('a'));
    prop.reconcile(`${NS}/a`);
    const uuid = pods.get('a', NS)!.metadata!.labels!['flomesh.io/proxy-uuid']!;
    pods.set(pod('a', { path: '/live-v2', rv: '2' }));
    prop.reconcile(`${NS}/a`);
    expect(livenessRewrite(cache, uuid)).toBe('/live-v2');
    cache.clearSnapshot(uuid);
    prop.reconcile(`${NS}/a`);
    expect(livenessRewrite(cache, uuid)).toBe('/live-v2');
    expect(outcomes.slice(1)).toEqual([`${NS}/a set`, `${NS}/a set`]);
  });

  it('a shared proxy UUID: the oldest pod owns it; when it goes, the next pod takes over with its own config', () => {
    const uuid = '11111111-2222-4333-8444-555555555555';
    pods.set(pod('original', { uuid, path: '/live-original', created: '2026-01-01T00:00:00Z' }));
    pods.set(pod('debug-copy', { uuid, path: '/live-copy', created: '2026-01-02T00:00:00Z' }));
    prop.reconcile(`${NS}/original`);
    prop.reconcile(`${NS}/debug-copy`);
    expect(livenessRewrite(cache, uuid)).toBe('/live-original');
    expect(prop.proxies().map((p) => [p.pod, p.owner])).toEqual([
      ['debug-copy', false],
      ['original', true],
    ]);
    pods.remove('original', NS);
    prop.reconcile(`${NS}/original`);
    // The handover re-queues the copy; reconciling it sets its own content.
    prop.reconcile(`${NS}/debug-copy`);
    expect(livenessRewrite(cache, uuid)).toBe('/live-copy');
    pods.remove('debug-copy', NS);
    prop.reconcile(`${NS}/debug-copy`);
    expect(cache.getSnapshot(uuid)).toBeUndefined();
  });

  it('removes the snapshot when the namespace leaves the mesh', () => {
    pods.set(pod('a'));
    prop.reconcile(`${NS}/a`);
    const uuid = pods.get('a', NS)!.metadata!.labels!['flomesh.io/proxy-uuid']!;
    namespaces.set({ metadata: { name: NS } });
    prop.reconcile(`${NS}/a`);
    expect(cache.getSnapshot(uuid)).toBeUndefined();
    expect(outcomes.at(-1)).toBe(`${NS}/a removed`);
  });

  it('the debug view recomputes the full config from the cached pod, with the versions pushed', () => {
    pods.set(pod('a'));
    prop.reconcile(`${NS}/a`);
    const view = prop.proxy(NS, 'a')!;
    expect(view.resources.listeners.map((l) => l.name)).toContain('liveness_listener');
    expect(view.versions[LISTENER_TYPE_URL]).toBe(
      cache.getSnapshot(view.proxy.uuid)!.types.get(LISTENER_TYPE_URL)!.version,
    );
    expect(prop.proxy(NS, 'nope')).toBeUndefined();
  });
});
