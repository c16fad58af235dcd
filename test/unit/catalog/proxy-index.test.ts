/**
 * Pods by proxy UUID, fed by a real pod informer on the sandbox API server: lookups by UUID and
 * namespace, the service account, deletion reported to onGone (revocation of the pod's streams).
 */
import { CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import { ProxyPodIndex } from '../../../pkg/catalog/index.js';
import { podInformer } from '../../../pkg/k8s/index.js';
import { silentLogger } from '../../../pkg/logger/index.js';
import { startTestApiServer, type TestApiServer } from '../../support/apiserver.js';
import { eventually } from '../../support/eventually.js';

let h: TestApiServer;
let core: CoreV1Api;
beforeAll(async () => {
  h = await startTestApiServer();
  core = h.kc.makeApiClient(CoreV1Api);
  for (const name of ['a', 'b']) await core.createNamespace({ body: { metadata: { name } } });
});
afterAll(() => h.stop());

const pod = (ns: string, name: string, uuid: string | undefined, sa = 'default'): V1Pod => ({
  metadata: { name, namespace: ns, labels: uuid ? { 'flomesh.io/proxy-uuid': uuid } : {} },
  spec: { serviceAccountName: sa, containers: [{ name: 'app', image: 'x' }] },
});

it('indexes proxies by UUID, reports the ones that go', async () => {
  const informer = podInformer(h.kc, silentLogger());
  const index = new ProxyPodIndex(informer);
  const gone: string[] = [];
  index.onGone((uuid, p) => gone.push(`${uuid} ${p.namespace}/${p.name}`));
  await core.createNamespacedPod({ namespace: 'a', body: pod('a', 'p1', 'u1', 'buyer') });
  await core.createNamespacedPod({ namespace: 'a', body: pod('a', 'plain', undefined) });
  void informer.start();
  await informer.waitForSync();
  expect(index.synced()).toBe(true);
  expect(index.byProxyUuid('u1')).toEqual([
    { namespace: 'a', name: 'p1', serviceAccount: 'buyer', deleting: false },
  ]);
  expect(index.pod('a', 'u1')?.name).toBe('p1');
  expect(index.pod('b', 'u1')).toBeUndefined();
  expect(index.size).toBe(1);

  await core.createNamespacedPod({ namespace: 'b', body: pod('b', 'copy', 'u1') });
  await eventually('copy indexed', () => (index.byProxyUuid('u1').length === 2 ? true : undefined));

  await core.deleteNamespacedPod({ name: 'p1', namespace: 'a' });
  await eventually('p1 gone', () => (index.pod('a', 'u1') === undefined ? true : undefined));
  expect(gone).toEqual(['u1 a/p1']);
  expect(index.byProxyUuid('u1').map((p) => p.namespace)).toEqual(['b']);
  await informer.stop();
});
