/**
 * The resilient informer against the sandbox API server with the real client: every injected fault
 * (dropped socket, 410 in-stream, HTTP 410 on watch, 500 on list, 403 on watch, silent compaction,
 * clean server-side end) converges with no lost update — the state rebuilt from the handlers alone
 * equals the server's — and there is never more than one watch open.
 */
import { CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import { silentLogger } from '../../../pkg/logger/index.js';
import { podInformer, namespaceInformer } from '../../../pkg/k8s/index.js';
import type { Informer } from '../../../pkg/k8s/informer.js';
import { KubeApiError, isUnreachable } from '../../../pkg/k8s/rest.js';
import { createCA } from '../../../pkg/tls/index.js';
import { startTestApiServer, type TestApiServer } from '../../support/apiserver.js';
import { eventually } from '../../support/eventually.js';
import { closedPort } from '../../support/net.js';

let h: TestApiServer;
let core: CoreV1Api;
const fast = { backoff: { initialMs: 5, maxMs: 50 } };

beforeAll(async () => {
  h = await startTestApiServer({ bookmarkIntervalMs: 100 });
  core = h.kc.makeApiClient(CoreV1Api);
  await core.createNamespace({ body: { metadata: { name: 'inf' } } });
});

afterAll(async () => {
  await h.stop();
});

function pod(name: string, labels: Record<string, string> = {}): V1Pod {
  return { metadata: { name, labels }, spec: { containers: [{ name: 'c', image: 'img:1' }] } };
}

async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setTimeout(r, 5));
}

/** name → resourceVersion of the server's pods in namespace inf. */
function serverState(): Map<string, string> {
  return new Map(
    h.server.store
      .list('pods', 'inf')
      .map((p) => [p.metadata.name, String(p.metadata.resourceVersion)] as const),
  );
}

/** Handler-order violations (the informer swallows handler exceptions, so they are recorded). */
const violations: string[] = [];

/** A mirror fed only by the informer's handlers. */
function mirror(inf: Informer<V1Pod>): Map<string, string> {
  const m = new Map<string, string>();
  inf.on('add', (p) => {
    if (m.has(p.metadata!.name!)) violations.push(`add of known ${p.metadata!.name}`);
    m.set(p.metadata!.name!, p.metadata!.resourceVersion!);
  });
  inf.on('update', (p, old) => {
    if (m.get(old.metadata!.name!) !== old.metadata!.resourceVersion) {
      violations.push(`update of ${p.metadata!.name} from an unknown version`);
    }
    m.set(p.metadata!.name!, p.metadata!.resourceVersion!);
  });
  inf.on('delete', (p) => {
    if (!m.has(p.metadata!.name!)) violations.push(`delete of unknown ${p.metadata!.name}`);
    m.delete(p.metadata!.name!);
  });
  return m;
}

function same(a: Map<string, string>, b: Map<string, string>): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) if (b.get(k) !== v) return false;
  return true;
}

let seq = 0;
/** Creates, updates and deletes pods while the informer is recovering. */
async function churn(): Promise<void> {
  const n = ++seq;
  await core.createNamespacedPod({ namespace: 'inf', body: pod(`c${n}-a`) });
  await core.createNamespacedPod({ namespace: 'inf', body: pod(`c${n}-b`) });
  const a = await core.readNamespacedPod({ name: `c${n}-a`, namespace: 'inf' });
  a.metadata!.labels = { round: String(n) };
  await core.replaceNamespacedPod({ name: `c${n}-a`, namespace: 'inf', body: a });
  await core.deleteNamespacedPod({ name: `c${n}-b`, namespace: 'inf' });
  const existing = h.server.store.list('pods', 'inf').find((p) => p.metadata.name.startsWith('seed'));
  if (existing) await core.deleteNamespacedPod({ name: existing.metadata.name, namespace: 'inf' });
}

describe('informer', () => {
  let inf: Informer<V1Pod>;
  let m: Map<string, string>;

  beforeAll(async () => {
    for (let i = 0; i < 12; i++) await core.createNamespacedPod({ namespace: 'inf', body: pod(`seed${i}`) });
    inf = podInformer(h.kc, silentLogger(), { namespace: 'inf', pageSize: 5, ...fast });
    m = mirror(inf);
    expect(inf.hasSynced()).toBe(false);
    await inf.start();
    await inf.waitForSync(20_000);
  });

  afterAll(async () => {
    await inf.stop();
  });

  async function converged(): Promise<void> {
    await until(() => same(m, serverState()) && h.server.watchCount('pods') === 1 && inf.outOfSyncMs() === 0);
    expect(
      same(new Map(inf.list().map((p) => [p.metadata!.name!, p.metadata!.resourceVersion!])), serverState()),
    ).toBe(true);
    expect(h.server.watchCount('pods')).toBe(1);
    expect(violations).toEqual([]);
  }

  it('lists in pages, syncs, and follows live changes', async () => {
    expect(inf.hasSynced()).toBe(true);
    expect(inf.list()).toHaveLength(12);
    expect(inf.get('seed3', 'inf')?.metadata?.name).toBe('seed3');
    expect(inf.get('seed3')).toBeUndefined();
    await churn();
    await converged();
  });

  it('a dropped watch socket: restarts with backoff and converges', async () => {
    const before = inf.restartCount();
    await until(() => h.server.watchCount('pods') === 1);
    expect(h.server.dropWatches('pods')).toBe(1);
    await churn();
    await converged();
    expect(inf.restartCount()).toBeGreaterThan(before);
  });

  it('an in-stream ERROR 410: relists and converges', async () => {
    const before = inf.restartCount();
    await until(() => h.server.watchCount('pods') === 1);
    await churn();
    expect(h.server.expireWatches('pods')).toBe(1);
    await churn();
    await converged();
    expect(inf.restartCount()).toBeGreaterThan(before);
  });

  it('HTTP 410 on the watch request: relists and converges', async () => {
    const before = inf.restartCount();
    await until(() => h.server.watchCount('pods') === 1);
    h.server.failNext({ verb: 'watch', resource: 'pods', code: 410 });
    h.server.dropWatches('pods');
    await churn();
    await converged();
    expect(inf.restartCount()).toBeGreaterThanOrEqual(before + 2);
  });

  it('500 on list (several times): keeps retrying, converges', async () => {
    const before = inf.restartCount();
    await until(() => h.server.watchCount('pods') === 1);
    h.server.failNext({ verb: 'list', resource: 'pods', code: 500, count: 3 });
    h.server.expireWatches('pods');
    await churn();
    await converged();
    expect(inf.restartCount()).toBeGreaterThanOrEqual(before + 4);
    expect(inf.stats().lastError).toContain('500');
  });

  it('403 on watch (several times): keeps retrying, converges', async () => {
    const before = inf.restartCount();
    await until(() => h.server.watchCount('pods') === 1);
    h.server.failNext({ verb: 'watch', resource: 'pods', code: 403, count: 3 });
    h.server.dropWatches('pods');
    await churn();
    await converged();
    expect(inf.restartCount()).toBeGreaterThanOrEqual(before + 4);
  });

  it('silent compaction while disconnected: the resume gets 410, the relist delivers missed deletes', async () => {
    await until(() => h.server.watchCount('pods') === 1);
    h.server.failNext({ verb: 'watch', resource: 'pods', code: 503 });
    h.server.dropWatches('pods');
    // While the informer is away: delete a pod it knows, then compact the history away.
    const victim = [...m.keys()][0]!;
    await core.deleteNamespacedPod({ name: victim, namespace: 'inf' });
    h.server.compact();
    await churn();
    await converged();
    expect(m.has(victim)).toBe(false);
  });

  it('a clean server-side end of the watch resumes without counting a restart', async () => {
    await until(() => h.server.watchCount('pods') === 1 && inf.outOfSyncMs() === 0);
    const before = inf.restartCount();
    h.server.endWatches('pods');
    await churn();
    await converged();
    expect(inf.restartCount()).toBe(before);
  });

  it('reports out-of-sync time while it cannot watch, and 0 once back', async () => {
    await until(() => h.server.watchCount('pods') === 1);
    h.server.failNext({ verb: 'watch', resource: 'pods', code: 500, count: 1_000_000 });
    h.server.dropWatches('pods');
    await until(() => inf.outOfSyncMs() > 0 && inf.restartCount() > 0);
    expect(inf.hasSynced()).toBe(true);
    expect(inf.stats().watching).toBe(false);
    h.server.faults.clear();
    await churn();
    await converged();
    expect(inf.outOfSyncMs()).toBe(0);
  });
});

describe('informer lifecycle', () => {
  it('stop() ends the watch and no handler runs afterwards', async () => {
    const inf = namespaceInformer(h.kc, silentLogger(), fast);
    let calls = 0;
    inf.on('add', () => calls++);
    inf.on('update', () => calls++);
    await inf.start();
    await inf.waitForSync(20_000);
    expect(inf.get('inf')?.metadata?.name).toBe('inf');
    await until(() => h.server.watchCount('namespaces') === 1);
    await inf.stop();
    await until(() => h.server.watchCount('namespaces') === 0);
    const after = calls;
    await core.createNamespace({ body: { metadata: { name: 'after-stop' } } });
    await core.readNamespace({ name: 'after-stop' });
    expect(calls).toBe(after);
  });

  it('stops cleanly while backing off against an unreachable server; never synced', async () => {
    const other = await startTestApiServer();
    const kc = other.kc;
    await other.stop();
    const inf = podInformer(kc, silentLogger(), fast);
    const errors: Error[] = [];
    inf.on('error', (e) => errors.push(e));
    await inf.start();
    const synced = inf.waitForSync();
    await until(() => inf.restartCount() >= 3);
    expect(inf.hasSynced()).toBe(false);
    expect(inf.outOfSyncMs()).toBeGreaterThanOrEqual(0);
    expect(errors.length).toBeGreaterThanOrEqual(3);
    await inf.stop();
    await expect(synced).rejects.toThrow(/stopped before it synced/);
  });

  it('label selectors: objects leaving the selector are deleted from the cache', async () => {
    await core.createNamespacedPod({ namespace: 'inf', body: pod('sel-1', { tier: 'web' }) });
    const inf = podInformer(h.kc, silentLogger(), { labelSelector: 'tier=web', ...fast });
    const deleted: string[] = [];
    inf.on('delete', (p) => deleted.push(p.metadata!.name!));
    await inf.start();
    await inf.waitForSync(20_000);
    expect(inf.list().map((p) => p.metadata?.name)).toEqual(['sel-1']);
    await until(() => h.server.watchCount('pods') >= 1);
    const cur = await core.readNamespacedPod({ name: 'sel-1', namespace: 'inf' });
    cur.metadata!.labels = { tier: 'db' };
    await core.replaceNamespacedPod({ name: 'sel-1', namespace: 'inf', body: cur });
    await until(() => deleted.includes('sel-1'));
    expect(inf.list()).toEqual([]);
    await inf.stop();
  });
});

describe('informer transform (client-go SetTransform)', () => {
  it('caches and hands to every handler the transformed object: list items, ADDED, MODIFIED and DELETED', async () => {
    await core.createNamespace({ body: { metadata: { name: 'inf-tr' } } });
    await core.createNamespacedPod({ namespace: 'inf-tr', body: pod('listed') });
    const seen: string[] = [];
    const inf = podInformer(h.kc, silentLogger(), {
      namespace: 'inf-tr',
      ...fast,
      transform: (p) => {
        seen.push(p.metadata!.name!);
        return { ...p, spec: { containers: p.spec!.containers.map((c) => ({ name: c.name })) } };
      },
    });
    const handed: V1Pod[] = [];
    inf.on('add', (p) => handed.push(p));
    inf.on('update', (p, old) => handed.push(p, old));
    inf.on('delete', (p) => handed.push(p));
    await inf.start();
    await inf.waitForSync(20_000);
    expect(inf.get('listed', 'inf-tr')?.spec?.containers).toEqual([{ name: 'c' }]);
    await until(() => h.server.watchCount('pods') >= 1);
    await core.createNamespacedPod({ namespace: 'inf-tr', body: pod('watched') });
    await until(() => inf.get('watched', 'inf-tr') !== undefined);
    await core.patchNamespacedPod({
      name: 'watched',
      namespace: 'inf-tr',
      body: [{ op: 'add', path: '/metadata/labels/x', value: 'y' }],
    });
    await until(() => inf.get('watched', 'inf-tr')?.metadata?.labels?.['x'] === 'y');
    await core.deleteNamespacedPod({ name: 'watched', namespace: 'inf-tr' });
    await until(() => inf.get('watched', 'inf-tr') === undefined);
    await inf.stop();
    // add listed, add watched, update watched (new + old), delete watched
    expect(handed.map((p) => p.metadata!.name)).toEqual([
      'listed',
      'watched',
      'watched',
      'watched',
      'watched',
    ]);
    for (const p of handed) expect(p.spec!.containers).toEqual([{ name: 'c' }]);
    expect(seen).toEqual(['listed', 'watched', 'watched', 'watched']);
  });
});

describe('informer: an unreachable API server vs one that answers errors (issue 17 item 3)', () => {
  // A minute per answered-error retry: anything faster below is the unreachable rule at work.
  const slowBackoff = { backoff: { initialMs: 60_000, maxMs: 60_000 } };

  async function within<T>(what: string, ms: number, fn: () => T | undefined): Promise<T> {
    return eventually(what, fn, ms, 20);
  }

  it('probes a stopped API server at a short interval and resumes as soon as it answers again', async () => {
    const other = await startTestApiServer({ port: await closedPort(), ca: await createCA('inf-outage-ca') });
    const otherCore = other.kc.makeApiClient(CoreV1Api);
    const inf = podInformer(other.kc, silentLogger(), slowBackoff);
    try {
      await inf.start();
      await inf.waitForSync(20_000);
      await within('watching', 10_000, () => (other.server.watchCount('pods') === 1 ? true : undefined));
      // An event on the watch: its end is then a healthy watch ending, not a "very short watch".
      await otherCore.createNamespacedPod({ namespace: 'default', body: pod('before-outage') });
      await within('the event', 10_000, () => inf.get('before-outage', 'default'));
      const before = inf.restartCount();
      await other.server.stop();
      // Refused connects: several attempts although an answered error would wait a minute.
      await within('three probes', 10_000, () => (inf.restartCount() >= before + 3 ? true : undefined));
      expect(inf.stats().lastError).toMatch(/ECONNREFUSED/);
      await other.server.start();
      await otherCore.createNamespacedPod({ namespace: 'default', body: pod('after-outage') });
      await within('the change', 10_000, () => inf.get('after-outage', 'default'));
      expect(inf.outOfSyncMs()).toBe(0);
    } finally {
      await inf.stop();
      await other.stop();
    }
  });

  it('keeps the exponential backoff for an API server that answers with errors', async () => {
    const inf = podInformer(h.kc, silentLogger(), { namespace: 'inf', ...slowBackoff });
    try {
      await inf.start();
      await inf.waitForSync(20_000);
      await within('watching', 10_000, () => (h.server.watchCount('pods') >= 1 ? true : undefined));
      await core.createNamespacedPod({ namespace: 'inf', body: pod('answered-errors') });
      await within('the event', 10_000, () => inf.get('answered-errors', 'inf'));
      const before = inf.restartCount();
      h.server.failNext({ verb: 'watch', resource: 'pods', code: 500, count: 1000 });
      h.server.endWatches('pods');
      await within('the 500', 10_000, () => (inf.restartCount() > before ? true : undefined));
      await new Promise((r) => setTimeout(r, 2000));
      // One answered error, then a minute's wait: no second request within 2 s.
      expect(inf.restartCount()).toBe(before + 1);
      expect(inf.stats().lastError).toContain('500');
    } finally {
      h.server.faults.clear();
      await inf.stop();
    }
  });
});

describe('isUnreachable', () => {
  const coded = (code: string): Error => Object.assign(new Error(code), { code });
  it.each<[string, unknown, boolean]>([
    ['connection refused', coded('ECONNREFUSED'), true],
    [
      'fetch failed, caused by a refused connect',
      new TypeError('fetch failed', { cause: coded('ECONNREFUSED') }),
      true,
    ],
    [
      'every address refused (happy eyeballs)',
      new AggregateError([coded('ECONNREFUSED'), coded('EHOSTUNREACH')]),
      true,
    ],
    ['DNS failure', coded('ENOTFOUND'), true],
    ['connection reset after connecting', coded('ECONNRESET'), false],
    [
      'fetch failed, socket closed by the server',
      new TypeError('fetch failed', { cause: coded('UND_ERR_SOCKET') }),
      false,
    ],
    ['an HTTP answer', new KubeApiError(503, 'ServiceUnavailable', 'GET /api/v1/pods: 503'), false],
    ['no code at all', new Error('boom'), false],
  ])('%s → %s', (_name, err, want) => {
    expect(isUnreachable(err)).toBe(want);
  });
});
