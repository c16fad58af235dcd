/**
 * The sandbox API server against the real @kubernetes/client-node 2.x over HTTPS: CRUD, status
 * codes, patch types, selectors, list pagination, watch resume, bookmarks and 410.
 */
import {
  ApiException,
  AppsV1Api,
  CoreV1Api,
  PatchStrategy,
  Watch,
  setHeaderOptions,
  type V1Pod,
} from '@kubernetes/client-node';
import { startTestApiServer, type TestApiServer } from '../../../support/apiserver.js';

let h: TestApiServer;
let core: CoreV1Api;
let apps: AppsV1Api;

beforeAll(async () => {
  h = await startTestApiServer({ bookmarkIntervalMs: 50 });
  core = h.kc.makeApiClient(CoreV1Api);
  apps = h.kc.makeApiClient(AppsV1Api);
});

afterAll(async () => {
  await h.stop();
});

function pod(name: string, labels: Record<string, string> = {}): V1Pod {
  return {
    metadata: { name, labels },
    spec: {
      containers: [
        {
          name: 'app',
          image: 'demo:1',
          ports: [{ containerPort: 8080 }],
          livenessProbe: { httpGet: { path: '/live', port: 8080 } },
        },
      ],
    },
  };
}

async function failure(p: Promise<unknown>): Promise<{ code: number; body: Record<string, unknown> }> {
  try {
    await p;
  } catch (e) {
    if (e instanceof ApiException) {
      const body = typeof e.body === 'string' ? (JSON.parse(e.body) as Record<string, unknown>) : e.body;
      return { code: e.code, body: body as Record<string, unknown> };
    }
    throw e;
  }
  throw new Error('expected the call to fail');
}

async function ensureNs(name: string): Promise<void> {
  try {
    await core.createNamespace({ body: { metadata: { name } } });
  } catch (e) {
    if (!(e instanceof ApiException && e.code === 409)) throw e;
  }
}

describe('discovery and auth', () => {
  it('serves /version, /api, /apis and resource lists', async () => {
    const res = await fetchJson('/version');
    expect(res.status).toBe(200);
    expect(res.body['major']).toBe('1');
    expect((await fetchJson('/api')).body['versions']).toEqual(['v1']);
    const apis = (await fetchJson('/apis')).body['groups'] as { name: string }[];
    expect(apis.map((g) => g.name)).toEqual(expect.arrayContaining(['apps', 'admissionregistration.k8s.io']));
    const v1 = (await fetchJson('/api/v1')).body['resources'] as { name: string }[];
    expect(v1.map((r) => r.name)).toEqual(
      expect.arrayContaining(['pods', 'pods/status', 'namespaces', 'events']),
    );
  });

  it('answers 401 Status without the bearer token', async () => {
    const res = await fetchJson('/api/v1/namespaces', false);
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ kind: 'Status', reason: 'Unauthorized', code: 401 });
  });
});

describe('CRUD and status codes', () => {
  beforeAll(() => ensureNs('crud'));

  it('creates with server-owned metadata and defaults, then gets it back', async () => {
    const created = await core.createNamespacedPod({ namespace: 'crud', body: pod('p1', { app: 'a' }) });
    expect(created.metadata?.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(created.metadata?.resourceVersion).toMatch(/^\d+$/);
    expect(created.metadata?.namespace).toBe('crud');
    expect(created.status?.phase).toBe('Pending');
    expect(created.spec?.containers[0]?.livenessProbe?.timeoutSeconds).toBe(1);
    expect(created.spec?.containers[0]?.livenessProbe?.httpGet?.scheme).toBe('HTTP');
    const got = await core.readNamespacedPod({ name: 'p1', namespace: 'crud' });
    expect(got.metadata?.uid).toBe(created.metadata?.uid);
    expect(got.kind).toBe('Pod');
  });

  it('404 NotFound, 409 AlreadyExists, 404 for a missing namespace', async () => {
    const nf = await failure(core.readNamespacedPod({ name: 'nope', namespace: 'crud' }));
    expect(nf.code).toBe(404);
    expect(nf.body).toMatchObject({ kind: 'Status', reason: 'NotFound', message: 'pods "nope" not found' });
    const dup = await failure(core.createNamespacedPod({ namespace: 'crud', body: pod('p1') }));
    expect(dup.code).toBe(409);
    expect(dup.body).toMatchObject({ reason: 'AlreadyExists', message: 'pods "p1" already exists' });
    const noNs = await failure(core.createNamespacedPod({ namespace: 'ghost', body: pod('x') }));
    expect(noNs.code).toBe(404);
    expect(noNs.body['message']).toBe('namespaces "ghost" not found');
  });

  it('422 Invalid names the field and value', async () => {
    const bad = await failure(core.createNamespacedPod({ namespace: 'crud', body: pod('Bad_Name') }));
    expect(bad.code).toBe(422);
    expect(bad.body['reason']).toBe('Invalid');
    expect(String(bad.body['message'])).toContain('metadata.name: Invalid value: "Bad_Name"');
    const noContainers = await failure(
      core.createNamespacedPod({
        namespace: 'crud',
        body: { metadata: { name: 'empty' }, spec: { containers: [] } },
      }),
    );
    expect(noContainers.code).toBe(422);
    expect(String(noContainers.body['message'])).toContain('spec.containers: Required value');
    const noImage = await failure(
      core.createNamespacedPod({
        namespace: 'crud',
        body: { metadata: { name: 'noimage' }, spec: { containers: [{ name: 'c', image: '' }] } },
      }),
    );
    expect(String(noImage.body['message'])).toContain('spec.containers[0].image: Required value');
  });

  it('400 on a namespace mismatch between body and URL', async () => {
    const p = pod('mismatch');
    p.metadata!.namespace = 'other';
    const res = await failure(core.createNamespacedPod({ namespace: 'crud', body: p }));
    expect(res.code).toBe(400);
    expect(res.body['reason']).toBe('BadRequest');
  });

  it('update bumps resourceVersion; a stale resourceVersion is 409 Conflict', async () => {
    const cur = await core.readNamespacedPod({ name: 'p1', namespace: 'crud' });
    const stale = structuredClone(cur);
    cur.metadata!.labels = { ...cur.metadata!.labels, v: '2' };
    const updated = await core.replaceNamespacedPod({ name: 'p1', namespace: 'crud', body: cur });
    expect(Number(updated.metadata?.resourceVersion)).toBeGreaterThan(
      Number(stale.metadata?.resourceVersion),
    );
    stale.metadata!.labels = { v: 'stale' };
    const res = await failure(core.replaceNamespacedPod({ name: 'p1', namespace: 'crud', body: stale }));
    expect(res.code).toBe(409);
    expect(res.body['reason']).toBe('Conflict');
    expect(String(res.body['message'])).toContain('the object has been modified');
  });

  it('a no-op update keeps the resourceVersion', async () => {
    const cur = await core.readNamespacedPod({ name: 'p1', namespace: 'crud' });
    const again = await core.replaceNamespacedPod({ name: 'p1', namespace: 'crud', body: cur });
    expect(again.metadata?.resourceVersion).toBe(cur.metadata?.resourceVersion);
  });

  it('pods/status changes only status; the main resource ignores status', async () => {
    const cur = await core.readNamespacedPod({ name: 'p1', namespace: 'crud' });
    cur.status = { phase: 'Running', podIP: '127.0.1.1' };
    cur.metadata!.labels = { sneaky: 'yes' };
    const st = await core.replaceNamespacedPodStatus({ name: 'p1', namespace: 'crud', body: cur });
    expect(st.status?.phase).toBe('Running');
    expect(st.metadata?.labels?.['sneaky']).toBeUndefined();
    const main = await core.patchNamespacedPod(
      { name: 'p1', namespace: 'crud', body: { status: { phase: 'Failed' } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    expect(main.status?.phase).toBe('Running');
    const patched = await core.patchNamespacedPodStatus(
      {
        name: 'p1',
        namespace: 'crud',
        body: { status: { conditions: [{ type: 'Ready', status: 'True' }] } },
      },
      setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
    );
    expect(patched.status?.conditions?.[0]?.type).toBe('Ready');
    expect(patched.status?.phase).toBe('Running');
  });

  it('merge, strategic-merge and JSON patch', async () => {
    const merge = await core.patchNamespacedPod(
      { name: 'p1', namespace: 'crud', body: { metadata: { labels: { m: '1', v: null } } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    expect(merge.metadata?.labels).toMatchObject({ m: '1' });
    expect(merge.metadata?.labels?.['v']).toBeUndefined();
    const smp = await core.patchNamespacedPod(
      {
        name: 'p1',
        namespace: 'crud',
        body: { spec: { containers: [{ name: 'app', image: 'demo:2' }] } },
      },
      setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
    );
    // Merged by container name: the port and probe stay.
    expect(smp.spec?.containers).toHaveLength(1);
    expect(smp.spec?.containers[0]?.image).toBe('demo:2');
    expect(smp.spec?.containers[0]?.ports?.[0]?.containerPort).toBe(8080);
    const jp = await core.patchNamespacedPod(
      {
        name: 'p1',
        namespace: 'crud',
        body: [{ op: 'add', path: '/metadata/annotations', value: { a: 'b' } }],
      },
      setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
    );
    expect(jp.metadata?.annotations).toEqual({ a: 'b' });
    const badJp = await failure(
      core.patchNamespacedPod(
        { name: 'p1', namespace: 'crud', body: [{ op: 'replace', path: '/nope/deeper', value: 1 }] },
        setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
      ),
    );
    expect(badJp.code).toBe(400);
    const rvPatch = await failure(
      core.patchNamespacedPod(
        { name: 'p1', namespace: 'crud', body: { metadata: { resourceVersion: '1', labels: { x: 'y' } } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      ),
    );
    expect(rvPatch.code).toBe(409);
  });

  it('deployments (apps/v1) bump generation on spec change', async () => {
    const d = await apps.createNamespacedDeployment({
      namespace: 'crud',
      body: {
        metadata: { name: 'fsm-controller', labels: { app: 'fsm-controller', meshName: 'fsm' } },
        spec: {
          selector: { matchLabels: { app: 'fsm-controller' } },
          template: { metadata: { labels: { app: 'fsm-controller' } }, spec: pod('x').spec! },
        },
      },
    });
    expect(d.metadata?.generation).toBe(1);
    expect(d.spec?.replicas).toBe(1);
    const d2 = await apps.patchNamespacedDeployment(
      { name: 'fsm-controller', namespace: 'crud', body: { spec: { replicas: 3 } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    expect(d2.metadata?.generation).toBe(2);
    const list = await apps.listDeploymentForAllNamespaces({ labelSelector: 'app=fsm-controller' });
    expect(list.items.map((x) => x.metadata?.name)).toEqual(['fsm-controller']);
    const bad = await failure(
      apps.createNamespacedDeployment({
        namespace: 'crud',
        body: {
          metadata: { name: 'mismatch' },
          spec: {
            selector: { matchLabels: { app: 'a' } },
            template: { metadata: { labels: { app: 'b' } }, spec: pod('x').spec! },
          },
        },
      }),
    );
    expect(bad.code).toBe(422);
    expect(String(bad.body['message'])).toContain('spec.template.metadata.labels');
  });

  it('services, secrets, configmaps, serviceaccounts, events', async () => {
    const svc = await core.createNamespacedService({
      namespace: 'crud',
      body: { metadata: { name: 'web' }, spec: { selector: { app: 'a' }, ports: [{ port: 80 }] } },
    });
    expect(svc.spec?.clusterIP).toMatch(/^10\.96\./);
    expect(svc.spec?.ports?.[0]?.targetPort).toBe(80);
    const sec = await core.createNamespacedSecret({
      namespace: 'crud',
      body: { metadata: { name: 's' }, stringData: { k: 'v' } },
    });
    expect(sec.data).toEqual({ k: Buffer.from('v').toString('base64') });
    await core.createNamespacedConfigMap({
      namespace: 'crud',
      body: { metadata: { name: 'c' }, data: { a: '1' } },
    });
    const sas = await core.listNamespacedServiceAccount({ namespace: 'crud' });
    expect(sas.items.map((s) => s.metadata?.name)).toContain('default');
    const p1 = await core.readNamespacedPod({ name: 'p1', namespace: 'crud' });
    await core.createNamespacedEvent({
      namespace: 'crud',
      body: {
        metadata: { name: 'p1.1' },
        involvedObject: { kind: 'Pod', name: 'p1', namespace: 'crud', uid: p1.metadata?.uid },
        reason: 'Unhealthy',
        type: 'Warning',
        message: 'Liveness probe failed',
      },
    });
    const evs = await core.listNamespacedEvent({
      namespace: 'crud',
      fieldSelector: `involvedObject.name=p1,involvedObject.namespace=crud,involvedObject.uid=${p1.metadata?.uid}`,
    });
    expect(evs.items.map((e) => e.reason)).toEqual(['Unhealthy']);
  });

  it('delete returns the object; deleting a namespace deletes its contents', async () => {
    await ensureNs('doomed');
    await core.createNamespacedPod({ namespace: 'doomed', body: pod('x') });
    const deleted = await core.deleteNamespacedPod({ name: 'x', namespace: 'doomed' });
    expect(deleted.metadata?.name).toBe('x');
    expect((await failure(core.deleteNamespacedPod({ name: 'x', namespace: 'doomed' }))).code).toBe(404);
    await core.createNamespacedPod({ namespace: 'doomed', body: pod('y') });
    await core.deleteNamespace({ name: 'doomed' });
    expect(
      (await core.listPodForAllNamespaces({ fieldSelector: 'metadata.namespace=doomed' })).items,
    ).toEqual([]);
  });
});

describe('list', () => {
  beforeAll(async () => {
    await ensureNs('sel');
    for (let i = 0; i < 7; i++) {
      await core.createNamespacedPod({
        namespace: 'sel',
        body: pod(`s${i}`, { app: i % 2 ? 'odd' : 'even', ...(i === 3 ? { special: 'yes' } : {}) }),
      });
    }
  });

  it('label selectors: =, !=, in, notin, exists, !exists', async () => {
    const names = async (labelSelector: string): Promise<string[]> =>
      (await core.listNamespacedPod({ namespace: 'sel', labelSelector })).items.map((p) => p.metadata!.name!);
    expect(await names('app=odd')).toEqual(['s1', 's3', 's5']);
    expect(await names('app!=odd')).toEqual(['s0', 's2', 's4', 's6']);
    expect(await names('app in (odd),special')).toEqual(['s3']);
    expect(await names('app notin (odd),!special')).toEqual(['s0', 's2', 's4', 's6']);
    const bad = await failure(core.listNamespacedPod({ namespace: 'sel', labelSelector: 'a in (' }));
    expect(bad.code).toBe(400);
  });

  it('field selectors on metadata.name and metadata.namespace', async () => {
    const r = await core.listPodForAllNamespaces({
      fieldSelector: 'metadata.name=s4,metadata.namespace=sel',
    });
    expect(r.items.map((p) => p.metadata?.name)).toEqual(['s4']);
  });

  it('paginates with limit/continue at one resourceVersion', async () => {
    const seen: string[] = [];
    let cont: string | undefined;
    let rv: string | undefined;
    do {
      const page = await core.listNamespacedPod({ namespace: 'sel', limit: 3, _continue: cont });
      seen.push(...page.items.map((p) => p.metadata!.name!));
      rv ??= page.metadata?.resourceVersion;
      expect(page.metadata?.resourceVersion).toBe(rv);
      cont = page.metadata?._continue;
    } while (cont);
    expect(seen).toEqual(['s0', 's1', 's2', 's3', 's4', 's5', 's6']);
  });

  it('a continue token older than the compaction is 410 Expired', async () => {
    const page = await core.listNamespacedPod({ namespace: 'sel', limit: 2 });
    await core.createNamespacedPod({ namespace: 'sel', body: pod('late') });
    h.server.compact();
    const res = await failure(
      core.listNamespacedPod({ namespace: 'sel', limit: 2, _continue: page.metadata?._continue }),
    );
    expect(res.code).toBe(410);
  });
});

interface Ev {
  type: string;
  object: {
    metadata?: { name?: string; resourceVersion?: string; annotations?: Record<string, string> };
    code?: number;
  };
}

/** Opens a watch with the client's Watch and collects events until `until` says stop. */
function collect(
  path: string,
  query: Record<string, string | number | boolean>,
  until: (events: Ev[]) => boolean,
): Promise<{ events: Ev[]; err: unknown }> {
  const events: Ev[] = [];
  return new Promise((resolve, reject) => {
    let ctl: AbortController | undefined;
    let done = false;
    const finish = (err: unknown): void => {
      if (done) return;
      done = true;
      ctl?.abort();
      resolve({ events, err });
    };
    new Watch(h.kc)
      .watch(
        path,
        query,
        (type, object) => {
          events.push({ type, object: object as Ev['object'] });
          if (until(events)) finish(null);
        },
        (err) => finish(err),
      )
      .then((c) => {
        ctl = c;
        if (done) c.abort();
      }, reject);
  });
}

describe('watch', () => {
  beforeAll(() => ensureNs('w'));

  it('rv="" sends current objects as ADDED, then live changes', async () => {
    await core.createNamespacedPod({ namespace: 'w', body: pod('w0') });
    const got = collect('/api/v1/namespaces/w/pods', {}, (evs) => evs.some((e) => e.type === 'DELETED'));
    await waitForWatches(1);
    await core.createNamespacedPod({ namespace: 'w', body: pod('w1') });
    await core.patchNamespacedPod(
      { name: 'w1', namespace: 'w', body: { metadata: { labels: { x: '1' } } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    await core.deleteNamespacedPod({ name: 'w1', namespace: 'w' });
    const { events } = await got;
    expect(events.map((e) => `${e.type} ${e.object.metadata?.name}`)).toEqual([
      'ADDED w0',
      'ADDED w1',
      'MODIFIED w1',
      'DELETED w1',
    ]);
  });

  it('resumes from a resourceVersion without replaying older events', async () => {
    const list = await core.listNamespacedPod({ namespace: 'w' });
    const rv = list.metadata!.resourceVersion!;
    await core.createNamespacedPod({ namespace: 'w', body: pod('w2') });
    await core.deleteNamespacedPod({ name: 'w2', namespace: 'w' });
    const { events } = await collect(
      '/api/v1/namespaces/w/pods',
      { resourceVersion: rv },
      (evs) => evs.length >= 2,
    );
    expect(events.map((e) => `${e.type} ${e.object.metadata?.name}`)).toEqual(['ADDED w2', 'DELETED w2']);
    expect(Number(events[1]!.object.metadata?.resourceVersion)).toBeGreaterThan(Number(rv));
  });

  it('label-selector watches see objects leave (DELETED) and enter (ADDED)', async () => {
    await core.createNamespacedPod({ namespace: 'w', body: pod('w3', { mesh: 'in' }) });
    const rv = (await core.listNamespacedPod({ namespace: 'w' })).metadata!.resourceVersion!;
    const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
    await core.patchNamespacedPod(
      { name: 'w3', namespace: 'w', body: { metadata: { labels: { mesh: 'out' } } } },
      merge,
    );
    await core.patchNamespacedPod(
      { name: 'w3', namespace: 'w', body: { metadata: { labels: { mesh: 'in' } } } },
      merge,
    );
    const { events } = await collect(
      '/api/v1/namespaces/w/pods',
      { resourceVersion: rv, labelSelector: 'mesh=in' },
      (evs) => evs.length >= 2,
    );
    expect(events.map((e) => e.type)).toEqual(['DELETED', 'ADDED']);
  });

  it('sends BOOKMARKs when allowed, carrying the current resourceVersion', async () => {
    const rv = h.server.store.resourceVersion;
    const { events } = await collect(
      '/api/v1/pods',
      { resourceVersion: String(rv), allowWatchBookmarks: true },
      (evs) => evs.some((e) => e.type === 'BOOKMARK'),
    );
    const bm = events.find((e) => e.type === 'BOOKMARK')!;
    expect(Number(bm.object.metadata?.resourceVersion)).toBeGreaterThanOrEqual(rv);
  });

  it('sendInitialEvents ends the initial objects with an annotated BOOKMARK', async () => {
    const { events } = await collect(
      '/api/v1/namespaces/w/pods',
      { sendInitialEvents: true, allowWatchBookmarks: true, resourceVersionMatch: 'NotOlderThan' },
      (evs) => evs.some((e) => e.type === 'BOOKMARK'),
    );
    const last = events[events.length - 1]!;
    expect(last.object.metadata?.annotations?.['k8s.io/initial-events-end']).toBe('true');
    expect(events.slice(0, -1).every((e) => e.type === 'ADDED')).toBe(true);
  });

  it('a compacted resourceVersion gets an in-stream ERROR 410 Expired', async () => {
    const old = String(h.server.store.resourceVersion);
    await core.createNamespacedPod({ namespace: 'w', body: pod('w4') });
    h.server.compact();
    const { events } = await collect(
      '/api/v1/namespaces/w/pods',
      { resourceVersion: old },
      (evs) => evs.length >= 1,
    );
    expect(events[0]!.type).toBe('ERROR');
    expect(events[0]!.object).toMatchObject({ kind: 'Status', code: 410, reason: 'Expired' });
  });

  it('timeoutSeconds ends the stream cleanly', async () => {
    const { events, err } = await collect(
      '/api/v1/namespaces/w/pods',
      { resourceVersion: String(h.server.store.resourceVersion), timeoutSeconds: 1 },
      () => false,
    );
    expect(events).toEqual([]);
    expect(err).toBeNull();
  });

  it('injected watch failures: 403 before the stream, dropped socket during it', async () => {
    h.server.failNext({ verb: 'watch', resource: 'pods', code: 403 });
    const denied = await collect('/api/v1/pods', {}, () => false);
    expect((denied.err as { statusCode?: number }).statusCode).toBe(403);
    const dropped = collect(
      '/api/v1/namespaces/w/pods',
      { resourceVersion: String(h.server.store.resourceVersion) },
      () => false,
    );
    await waitForWatches(1);
    expect(h.server.dropWatches('pods')).toBe(1);
    const { err } = await dropped;
    expect(err).toBeTruthy();
  });

  it('injected list failure answers a 500 Status once', async () => {
    h.server.failNext({ verb: 'list', resource: 'pods', code: 500 });
    expect((await failure(core.listPodForAllNamespaces())).code).toBe(500);
    expect((await core.listPodForAllNamespaces()).items.length).toBeGreaterThan(0);
  });
});

async function waitForWatches(n: number): Promise<void> {
  while (h.server.watchCount() < n) await new Promise((r) => setTimeout(r, 5));
}

async function fetchJson(
  path: string,
  auth = true,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const https = await import('node:https');
  return new Promise((resolve, reject) => {
    const req = https.request(
      `${h.server.url}${path}`,
      { ca: h.server.caPem, headers: auth ? { Authorization: `Bearer ${h.server.token}` } : {} },
      (res) => {
        let data = '';
        res.on('data', (c: Buffer) => (data += c.toString()));
        res.on('end', () =>
          resolve({ status: res.statusCode!, body: JSON.parse(data) as Record<string, unknown> }),
        );
      },
    );
    req.on('error', reject);
    req.end();
  });
}
