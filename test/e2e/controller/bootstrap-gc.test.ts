/**
 * Bootstrap credentials outlive their pod by a bounded time: the controller's sweep (grace and
 * period shortened here) deletes the Secret of a deleted pod and of an admission whose pod never
 * came, and keeps the ones whose pod lives (against the sandbox API server, in-process controller).
 */
import { CoreV1Api } from '@kubernetes/client-node';
import { MONITORED_BY_LABEL } from '../../../pkg/constants/index.js';
import { startController, type RunningController } from '../../../pkg/controller/index.js';
import { BootstrapProvisioner, MeshCaSource, bootstrapSecretName } from '../../../pkg/identity/index.js';
import { silentLogger } from '../../../pkg/logger/index.js';
import { startTestApiServer, type TestApiServer } from '../../support/apiserver.js';
import { eventually } from '../../support/eventually.js';
import { http, injectedPod } from '../../support/pods.js';

const NS = 'shop';
let api: TestApiServer;
let core: CoreV1Api;
let ctl: RunningController;
let provisioner: BootstrapProvisioner;
let ca: MeshCaSource;

beforeAll(async () => {
  api = await startTestApiServer();
  core = api.kc.makeApiClient(CoreV1Api);
  await core.createNamespace({ body: { metadata: { name: NS, labels: { [MONITORED_BY_LABEL]: 'fsm' } } } });
  await core.createNamespace({ body: { metadata: { name: 'fsm-system' } } });
  ctl = await startController({
    kubeConfig: api.kc,
    meshName: 'fsm',
    fsmNamespace: 'fsm-system',
    adsPort: 0,
    healthPort: 0,
    bindAddress: '127.0.0.1',
    outOfSyncThresholdMs: 30_000,
    debounceMs: 5,
    workers: 2,
    adsDrainGraceMs: 0,
    version: 'test',
    bootstrapGcGraceMs: 500,
    bootstrapGcPeriodMs: 100,
    logger: silentLogger(),
  });
  ca = new MeshCaSource({
    kc: api.kc,
    namespace: 'fsm-system',
    meshName: 'fsm',
    logger: silentLogger(),
    create: false,
  });
  await ca.start();
  provisioner = new BootstrapProvisioner({ kc: api.kc, meshName: 'fsm', ca, logger: silentLogger() });
});

afterAll(async () => {
  await ca?.stop();
  await ctl?.stop();
  await api?.stop();
});

const exists = async (uuid: string): Promise<boolean> =>
  core.readNamespacedSecret({ name: bootstrapSecretName(uuid), namespace: NS }).then(
    () => true,
    () => false,
  );

it('deleted pod → its credential goes; a pod never created → its credential goes; a live pod keeps its own', async () => {
  const pods = ['live', 'doomed'].map((name) =>
    injectedPod({ name, namespace: NS, containers: [{ name: 'app', ports: [80], liveness: http(80) }] }),
  );
  for (const p of pods) {
    delete p.metadata!.uid;
    await core.createNamespacedPod({ namespace: NS, body: p });
    await provisioner.provision({
      proxyUuid: p.metadata!.labels!['flomesh.io/proxy-uuid']!,
      namespace: NS,
      serviceAccount: 'default',
    });
  }
  await provisioner.provision({ proxyUuid: 'never-created', namespace: NS, serviceAccount: 'default' });
  const [live, doomed] = pods.map((p) => p.metadata!.labels!['flomesh.io/proxy-uuid']!) as [string, string];
  await core.deleteNamespacedPod({ name: 'doomed', namespace: NS });
  await eventually('the orphans are collected', async () =>
    !(await exists(doomed)) && !(await exists('never-created')) ? true : undefined,
  );
  // Several sweeps later the live pod's credential is still there.
  const sweeps = await ctl.bootstrap.sweep();
  expect(sweeps.skipped).toBeUndefined();
  expect(await exists(live)).toBe(true);
});
