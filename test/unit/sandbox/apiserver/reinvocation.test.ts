/**
 * reinvocationPolicy (issue 19 item 4): as kube-apiserver, a webhook with IfNeeded whose output a
 * later webhook changed is called once more; with Never, or when nothing changed after it, it is not.
 */
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { AdmissionregistrationV1Api, CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import { createCA } from '../../../../pkg/tls/index.js';
import { startTestApiServer, type TestApiServer } from '../../../support/apiserver.js';

let h: TestApiServer;
let core: CoreV1Api;
let admission: AdmissionregistrationV1Api;
let hook: https.Server;
let base: string;
let caBundle: string;
/** Per path: the pods each call saw. */
const seen = new Map<string, V1Pod[]>();
/** What the second webhook does: add a container, or nothing. */
let secondAdds = true;

function patchFor(path: string, pod: V1Pod, calls: number): unknown[] {
  if (path === '/first') {
    // Records how many containers it saw on each call: what a second pass would rewrite.
    return [
      { op: 'add', path: `/metadata/annotations/first-${calls}`, value: String(pod.spec!.containers.length) },
    ];
  }
  return secondAdds ? [{ op: 'add', path: '/spec/containers/-', value: { name: 'added', image: 'x' } }] : [];
}

beforeAll(async () => {
  h = await startTestApiServer();
  core = h.kc.makeApiClient(CoreV1Api);
  admission = h.kc.makeApiClient(AdmissionregistrationV1Api);
  h.server.enableWebhookAdmission();
  const ca = await createCA('reinvocation-ca');
  const cert = await ca.issue({ commonName: 'hook', ipAddresses: ['127.0.0.1'] });
  caBundle = Buffer.from(ca.certPem).toString('base64');
  hook = https.createServer({ key: cert.keyPem, cert: cert.certPem }, (req, res) => {
    let data = '';
    req.on('data', (c: Buffer) => (data += c.toString()));
    req.on('end', () => {
      const review = JSON.parse(data) as { request: { uid: string; object: V1Pod } };
      const path = req.url ?? '';
      const list = seen.get(path) ?? [];
      list.push(review.request.object);
      seen.set(path, list);
      const ops = patchFor(path, review.request.object, list.length);
      const response = {
        uid: review.request.uid,
        allowed: true,
        ...(ops.length > 0
          ? { patchType: 'JSONPatch', patch: Buffer.from(JSON.stringify(ops)).toString('base64') }
          : {}),
      };
      res.setHeader('Content-Type', 'application/json');
      res.end(JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response }));
    });
  });
  await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
  base = `https://127.0.0.1:${(hook.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((r) => hook.close(r));
  await h.stop();
});

async function configure(policy: 'IfNeeded' | 'Never'): Promise<void> {
  for (const name of ['a-first', 'b-second']) {
    try {
      await admission.deleteMutatingWebhookConfiguration({ name });
    } catch {
      // not there yet
    }
  }
  const webhook = (name: string, path: string, reinvocationPolicy: string) => ({
    name,
    clientConfig: { url: `${base}${path}`, caBundle },
    rules: [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['pods'] }],
    sideEffects: 'None',
    admissionReviewVersions: ['v1'],
    reinvocationPolicy,
  });
  // Configurations run in name order: a-first, then b-second.
  await admission.createMutatingWebhookConfiguration({
    body: { metadata: { name: 'a-first' }, webhooks: [webhook('first.test', '/first', policy)] } as never,
  });
  await admission.createMutatingWebhookConfiguration({
    body: { metadata: { name: 'b-second' }, webhooks: [webhook('second.test', '/second', 'Never')] } as never,
  });
  seen.clear();
}

async function create(name: string): Promise<V1Pod> {
  return core.createNamespacedPod({
    namespace: 'default',
    body: { metadata: { name, annotations: {} }, spec: { containers: [{ name: 'app', image: 'a' }] } },
  });
}

it('IfNeeded: called again after a later webhook changed the pod, and sees the change', async () => {
  secondAdds = true;
  await configure('IfNeeded');
  const pod = await create('reinvoked');
  expect(seen.get('/first')?.map((p) => p.spec!.containers.map((c) => c.name))).toEqual([
    ['app'],
    ['app', 'added'],
  ]);
  expect(seen.get('/second')).toHaveLength(1);
  expect(pod.metadata!.annotations).toEqual({ 'first-1': '1', 'first-2': '2' });
});

it('IfNeeded: not called again when nothing changed after it', async () => {
  secondAdds = false;
  await configure('IfNeeded');
  await create('unchanged');
  expect(seen.get('/first')).toHaveLength(1);
});

it('Never: not called again', async () => {
  secondAdds = true;
  await configure('Never');
  const pod = await create('never');
  expect(seen.get('/first')).toHaveLength(1);
  expect(pod.spec!.containers.map((c) => c.name)).toEqual(['app', 'added']);
});
