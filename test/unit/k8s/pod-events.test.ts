/** Pod events aggregated as kubelet and client-go aggregate them, against the sandbox API server. */
import { CoreV1Api, type CoreV1Event, type V1Pod } from '@kubernetes/client-node';
import { PodEventRecorder } from '../../../pkg/k8s/index.js';
import { silentLogger } from '../../../pkg/logger/index.js';
import { startTestApiServer, type TestApiServer } from '../../support/apiserver.js';

const NS = 'events';
const pod: V1Pod = { metadata: { name: 'p1', namespace: NS, uid: 'uid-1' } };
let api: TestApiServer;
let core: CoreV1Api;

beforeAll(async () => {
  api = await startTestApiServer();
  core = api.kc.makeApiClient(CoreV1Api);
  await core.createNamespace({ body: { metadata: { name: NS } } });
});
afterAll(() => api.stop());
afterEach(() => deleteAllEvents());

const events = async (): Promise<CoreV1Event[]> => (await core.listNamespacedEvent({ namespace: NS })).items;
const recorder = (kept?: number) =>
  new PodEventRecorder({
    core,
    component: 'kubelet',
    host: 'node-1',
    instance: 'node-1',
    logger: silentLogger(),
    ...(kept ? { kept } : {}),
  });

test('the same reason and message on the same container raise one event’s count', async () => {
  const r = recorder();
  const ev = {
    type: 'Warning' as const,
    reason: 'Unhealthy',
    message: 'Liveness probe failed',
    container: 'app',
  };
  await r.record(pod, ev, new Date('2026-11-29T12:00:00Z'));
  await r.record(pod, ev, new Date('2026-11-29T12:00:10Z'));
  await r.record(pod, ev, new Date('2026-11-29T12:00:20Z'));
  const [e, ...rest] = await events();
  expect(rest).toEqual([]);
  expect(e).toMatchObject({
    reason: 'Unhealthy',
    count: 3,
    type: 'Warning',
    involvedObject: {
      kind: 'Pod',
      name: 'p1',
      namespace: NS,
      uid: 'uid-1',
      fieldPath: 'spec.containers{app}',
    },
    source: { component: 'kubelet', host: 'node-1' },
    reportingComponent: 'kubelet',
    reportingInstance: 'node-1',
  });
  expect(new Date(e!.lastTimestamp!).toISOString()).toBe('2026-11-29T12:00:20.000Z');
});

test('another message, container or pod is another event; a source of its own is kept', async () => {
  const r = recorder();
  await r.record(pod, { type: 'Normal', reason: 'Pulled', message: 'a', container: 'app' });
  await r.record(pod, { type: 'Normal', reason: 'Pulled', message: 'b', container: 'app' });
  await r.record(pod, { type: 'Normal', reason: 'Pulled', message: 'a', container: 'other' });
  await r.record(
    { metadata: { ...pod.metadata, uid: 'uid-2' } },
    { type: 'Normal', reason: 'Pulled', message: 'a' },
  );
  await r.record(pod, { type: 'Normal', reason: 'Scheduled', message: 's', source: 'default-scheduler' });
  const all = await events();
  expect(all).toHaveLength(5);
  expect(all.find((e) => e.reason === 'Scheduled')).toMatchObject({
    source: { component: 'default-scheduler' },
    reportingComponent: 'default-scheduler',
  });
});

test('an aggregated event deleted meanwhile (events expire) is created again, not lost', async () => {
  const r = recorder();
  const ev = { type: 'Warning' as const, reason: 'BackOff', message: 'restarting' };
  await r.record(pod, ev);
  await deleteAllEvents();
  await r.record(pod, ev);
  const all = await events();
  expect(all).toHaveLength(1);
  expect(all[0]!.count).toBe(1);
});

test('aggregation keys are bounded and forgotten with their pod', async () => {
  const r = recorder(2);
  for (const m of ['1', '2', '3']) await r.record(pod, { type: 'Normal', reason: 'X', message: m });
  // "1" was forgotten (bound 2): recording it again creates a new event instead of counting.
  await r.record(pod, { type: 'Normal', reason: 'X', message: '1' });
  expect((await events()).filter((e) => e.message === '1')).toHaveLength(2);
  r.forget('uid-1');
  await r.record(pod, { type: 'Normal', reason: 'X', message: '3' });
  expect((await events()).filter((e) => e.message === '3')).toHaveLength(2);
});

async function deleteAllEvents(): Promise<void> {
  for (const e of await events())
    await core.deleteNamespacedEvent({ name: e.metadata!.name!, namespace: NS });
}
