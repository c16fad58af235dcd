/**
 * Root rotation of the mesh CA end to end: `fsm mesh ca rotate --phase stage|activate|retire`
 * against the API server, an in-process controller, and a probe agent connected over mTLS with a
 * bootstrap credential mounted the way kubelet mounts it. Between the phases the test waits for
 * what the README says to wait for. The agent's stream stays through stage and activate (it is
 * pushed the two-root bundle, then a workload certificate of the new root); after each phase a
 * controller restart proves the renewed bootstrap credential and bundle work for a new connection.
 */
import { X509Certificate } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, type V1Secret } from '@kubernetes/client-node';
import { MONITORED_BY_LABEL } from '../../../pkg/constants/index.js';
import { startController, type RunningController } from '../../../pkg/controller/index.js';
import {
  BootstrapProvisioner,
  MeshCaSource,
  bootstrapSecretName,
  decodeSecretData,
  splitPemCertificates,
} from '../../../pkg/identity/index.js';
import { silentLogger } from '../../../pkg/logger/index.js';
import { startProbeAgent, type ProbeAgent } from '../../../pkg/sandbox/agent/index.js';
import { startTestApiServer, type TestApiServer } from '../../support/apiserver.js';
import { runFsm } from '../../support/cli.js';
import { eventually } from '../../support/eventually.js';
import { http, injectedPod } from '../../support/pods.js';
import { projectSecret } from '../../support/secret-volume.js';

const NS = 'bookstore';
const FSM_NS = 'fsm-system';
let api: TestApiServer;
let core: CoreV1Api;
let ctl: RunningController;
let adsPort = 0;
let agent: ProbeAgent;
let dir: string;
let uuid: string;

async function controller(): Promise<RunningController> {
  return startController({
    kubeConfig: api.kc,
    meshName: 'fsm',
    fsmNamespace: FSM_NS,
    adsPort,
    healthPort: 0,
    bindAddress: '127.0.0.1',
    outOfSyncThresholdMs: 30_000,
    debounceMs: 5,
    workers: 2,
    adsDrainGraceMs: 0,
    version: 'test',
    bootstrapGcPeriodMs: 200,
    logger: silentLogger(),
  });
}

async function bootstrapSecret(): Promise<V1Secret> {
  return core.readNamespacedSecret({ name: bootstrapSecretName(uuid), namespace: NS });
}

/** The kubelet's volume sync: the Secret's current content into the mounted directory. */
async function remount(): Promise<void> {
  await projectSecret(dir, await bootstrapSecret());
}

const roots = (pem: string | undefined): number => splitPemCertificates(pem ?? '').length;
const agentSecret = (name: string) => agent.status().secrets.find((s) => s.name === name);

async function restartController(): Promise<void> {
  const streams = agent.status().streams;
  await ctl.stop();
  ctl = await controller();
  await eventually(
    'the agent reconnects over mTLS with its renewed credential',
    () => {
      const s = agent.status();
      return s.connected && s.streams > streams && ctl.ads.streamsOf(uuid).length === 1 ? true : undefined;
    },
    20_000,
  );
}

async function rotate(phase: string): Promise<string> {
  const r = await runFsm(['mesh', 'ca', 'rotate', '--phase', phase], api.kc);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return r.stdout;
}

beforeAll(async () => {
  api = await startTestApiServer();
  core = api.kc.makeApiClient(CoreV1Api);
  await core.createNamespace({ body: { metadata: { name: NS, labels: { [MONITORED_BY_LABEL]: 'fsm' } } } });
  await core.createNamespace({ body: { metadata: { name: FSM_NS } } });
  ctl = await controller();
  adsPort = ctl.adsPort;
  const pod = injectedPod({
    name: 'web',
    namespace: NS,
    containers: [{ name: 'app', ports: [14001], liveness: http(14001) }],
  });
  delete pod.metadata!.uid;
  uuid = pod.metadata!.labels!['flomesh.io/proxy-uuid']!;
  await core.createNamespacedPod({ namespace: NS, body: pod });
  // What the injector does at admission: the pod's bootstrap credential.
  const ca = new MeshCaSource({
    kc: api.kc,
    namespace: FSM_NS,
    meshName: 'fsm',
    logger: silentLogger(),
    create: false,
  });
  await ca.start();
  await new BootstrapProvisioner({ kc: api.kc, meshName: 'fsm', ca, logger: silentLogger() }).provision({
    proxyUuid: uuid,
    namespace: NS,
    serviceAccount: 'default',
  });
  await ca.stop();
  dir = await mkdtemp(join(tmpdir(), 'fsm-bootstrap-'));
  await remount();
  await eventually('the controller sees the pod', () => ctl.proxyPods.pod(NS, uuid));
  agent = await startProbeAgent({
    adsAddress: `127.0.0.1:${adsPort}`,
    nodeId: uuid,
    podAddress: '127.0.0.1',
    portMap: { 15901: 0, 15902: 0, 15903: 0 },
    backoff: { initialMs: 50, maxMs: 200 },
    tls: {
      certFile: join(dir, 'tls.crt'),
      keyFile: join(dir, 'tls.key'),
      caFile: join(dir, 'ca.crt'),
      serverName: `fsm-controller.${FSM_NS}.svc`,
    },
  });
  await eventually('the agent holds its secrets', () =>
    agent.status().secrets.length === 2 ? true : undefined,
  );
});

afterAll(async () => {
  await agent?.stop();
  await ctl?.stop();
  await api?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

it('stage → activate → retire, with what to wait for in between', async () => {
  const streams = agent.status().streams;
  const firstCert = agentSecret('fsm-workload-cert')!.serial;
  expect(agentSecret('fsm-trust-bundle')!.roots).toBe(1);

  // stage: every proxy gets the two-root bundle over SDS at once; bootstrap credentials follow.
  expect(await rotate('stage')).toMatch(/^stage: staged root .*\nNext: wait until `fsm mesh ca status`/);
  await eventually('the agent holds the two-root bundle', () =>
    agentSecret('fsm-trust-bundle')!.roots === 2 ? true : undefined,
  );
  expect(agentSecret('fsm-workload-cert')!.serial).toBe(firstCert); // not re-issued
  await eventually('the bootstrap credential carries the new bundle', async () =>
    roots(decodeSecretData((await bootstrapSecret()).data)['ca.crt']) === 2 ? true : undefined,
  );
  expect((await runFsm(['mesh', 'ca', 'status'], api.kc)).stdout).toMatch(
    /with the current trust bundle: 1\/1/,
  );
  await remount();

  // activate: workload certificates re-issued with the new root; bootstrap credentials renewed.
  await rotate('activate');
  const newRoot = await eventually('the controller signs with the new root', () => {
    const a = ctl.ca.authority;
    return a && a.material.roots.length === 2 && !a.material.next ? a.material.signingCert : undefined;
  });
  await eventually('the agent holds a workload certificate of the new root', () => {
    const held = agentSecret('fsm-workload-cert')!.serial;
    const issued = ctl.workloadCerts.certificateOf(uuid);
    return issued &&
      held !== firstCert &&
      held === new X509Certificate(issued.certPem).serialNumber &&
      new X509Certificate(issued.certPem).verify(newRoot.publicKey)
      ? true
      : undefined;
  });
  expect(agent.status().streams).toBe(streams); // pushed on the same stream, never restarted
  await eventually('the bootstrap credential is signed by the new root', async () =>
    new X509Certificate(decodeSecretData((await bootstrapSecret()).data)['tls.crt']!).verify(
      newRoot.publicKey,
    )
      ? true
      : undefined,
  );
  expect((await runFsm(['mesh', 'ca', 'status'], api.kc)).stdout).toMatch(
    /signed by the signing root: +1\/1/,
  );
  await remount();
  await restartController(); // a new connection: new serving certificate, renewed credential

  // retire: the old root leaves every bundle.
  await rotate('retire');
  await eventually('the agent holds the one-root bundle', () =>
    agentSecret('fsm-trust-bundle')!.roots === 1 ? true : undefined,
  );
  await eventually('the bootstrap credential carries the one-root bundle', async () =>
    roots(decodeSecretData((await bootstrapSecret()).data)['ca.crt']) === 1 ? true : undefined,
  );
  await remount();
  await restartController();
  expect(agent.status().nacks).toEqual({});
}, 60_000);

it('phases out of order are refused naming what to run', async () => {
  const r = await runFsm(['mesh', 'ca', 'rotate', '--phase', 'activate'], api.kc);
  expect(r.code).toBe(1);
  expect(r.stderr).toMatch(/no root is staged in Secret fsm-system\/fsm-mesh-ca: run --phase stage first/);
});
