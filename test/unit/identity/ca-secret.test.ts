/**
 * The mesh CA Secret against the sandbox API server: N replicas racing create exactly one CA and
 * all use it; deleted while running → missing and not ready (never silently re-created); corrupt →
 * not ready naming the key; restored → ready again.
 */
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import {
  MeshCaSource,
  ensureMeshCaSecret,
  decodeSecretData,
  meshCaSecret,
  newMeshCaData,
} from '../../../pkg/identity/index.js';
import { silentLogger } from '../../../pkg/logger/index.js';
import { startTestApiServer, type TestApiServer } from '../../support/apiserver.js';
import { eventually } from '../../support/eventually.js';

const NS = 'fsm-system';
let h: TestApiServer;
let core: CoreV1Api;

beforeAll(async () => {
  h = await startTestApiServer();
  core = h.kc.makeApiClient(CoreV1Api);
  await core.createNamespace({ body: { metadata: { name: NS } } });
});
afterAll(() => h.stop());

/** A fresh client per replica (its own connection pool), as separate processes would have. */
function replicaClient(): CoreV1Api {
  const kc = new KubeConfig();
  kc.loadFromFile(h.kubeconfigPath);
  return kc.makeApiClient(CoreV1Api);
}

it('12 replicas starting at once (controllers and injectors) create exactly one CA and all use it', async () => {
  const ref = { namespace: NS, name: 'race-ca', meshName: 'fsm' };
  const direct = Array.from({ length: 8 }, () => ensureMeshCaSecret(replicaClient(), ref, silentLogger()));
  const sources = Array.from(
    { length: 4 },
    () => new MeshCaSource({ ...ref, kc: h.kc, logger: silentLogger() }),
  );
  const [results, states] = await Promise.all([
    Promise.all(direct),
    Promise.all(sources.map((s) => s.start())),
  ]);
  const stored = await core.readNamespacedSecret({ name: 'race-ca', namespace: NS });
  const ca = decodeSecretData(stored.data)['ca.crt'];
  expect(ca).toMatch(/BEGIN CERTIFICATE/);
  for (const r of results) expect(decodeSecretData(r.secret.data)['ca.crt']).toBe(ca);
  for (const s of states) expect(s.status).toBe('ok');
  for (const s of sources) expect(s.authority!.material.signing.certPem).toBe(ca);
  const created = results.filter((r) => r.created).length;
  expect(created).toBeLessThanOrEqual(1);
  const list = await core.listNamespacedSecret({
    namespace: NS,
    labelSelector: 'flomesh.io/identity=mesh-ca',
  });
  expect(list.items.filter((s) => s.metadata?.name === 'race-ca')).toHaveLength(1);
  await Promise.all(sources.map((s) => s.stop()));
});

it('deleted while running: missing, not ready, not re-created; corrupt: named; restored: ready', async () => {
  const ref = { namespace: NS, name: 'life-ca', meshName: 'fsm' };
  const src = new MeshCaSource({ ...ref, kc: h.kc, logger: silentLogger() });
  const changes: string[] = [];
  src.onChange((a) => changes.push(a.material.signingId));
  expect((await src.start()).status).toBe('ok');
  const ready = src.readinessCheck();
  expect(ready.check()).toEqual({ ok: true });
  const original = await core.readNamespacedSecret({ name: 'life-ca', namespace: NS });

  await core.deleteNamespacedSecret({ name: 'life-ca', namespace: NS });
  await eventually('missing', () => (src.state.status === 'missing' ? true : undefined));
  expect(src.authority).toBeUndefined();
  expect(ready.check()).toEqual({
    ok: false,
    reason: expect.stringContaining(`Secret ${NS}/life-ca is missing`),
  });
  await expect(core.readNamespacedSecret({ name: 'life-ca', namespace: NS })).rejects.toMatchObject({
    code: 404,
  });

  const data = decodeSecretData(original.data);
  await core.createNamespacedSecret({
    namespace: NS,
    body: meshCaSecret(ref, { ...data, 'ca.key': 'not a key' }),
  });
  await eventually('corrupt', () => (src.state.status === 'corrupt' ? true : undefined));
  expect(ready.check()).toEqual({
    ok: false,
    reason: expect.stringMatching(/Secret fsm-system\/life-ca key ca\.key: not a PEM private key/),
  });

  await core.replaceNamespacedSecret({ name: 'life-ca', namespace: NS, body: meshCaSecret(ref, data) });
  await eventually('ok again', () => (src.state.status === 'ok' ? true : undefined));
  expect(ready.check()).toEqual({ ok: true });
  expect(changes).toHaveLength(2);
  await src.stop();
});

it('create: false and no Secret: missing from the start', async () => {
  const src = new MeshCaSource({
    namespace: NS,
    name: 'absent-ca',
    meshName: 'fsm',
    kc: h.kc,
    logger: silentLogger(),
    create: false,
  });
  expect((await src.start()).status).toBe('missing');
  await src.stop();
});

it('a Secret that exists is never updated by ensure, even when it is corrupt', async () => {
  const ref = { namespace: NS, name: 'kept-ca', meshName: 'fsm' };
  const data = await newMeshCaData('fsm');
  await core.createNamespacedSecret({
    namespace: NS,
    body: meshCaSecret(ref, { ...data, 'ca.crt': 'garbage' }),
  });
  const r = await ensureMeshCaSecret(core, ref, silentLogger());
  expect(r.created).toBe(false);
  expect(decodeSecretData(r.secret.data)['ca.crt']).toBe('garbage');
});
