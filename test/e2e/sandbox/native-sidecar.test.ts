/**
 * Issue 19 items 2 and 3 in the sandbox, with the real fsm-injector (reading the API server's 1.32
 * version) and fsm-controller: a native sidecar holds the app containers until its startup probe —
 * which only the controller's listeners answer — passes, while a classic sidecar starts with the app;
 * and a preStop hook, rewritten to the proxy, reaches the app because the native sidecar stops after
 * it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AppsV1Api,
  CoreV1Api,
  KubeConfig,
  PatchStrategy,
  setHeaderOptions,
  type CoreV1Event,
  type V1Pod,
} from '@kubernetes/client-node';
import {
  CONTROLLER_APP,
  MONITORED_BY_LABEL,
  NATIVE_SIDECAR_ANNOTATION,
} from '../../../pkg/constants/index.js';
import { silentLogger } from '../../../pkg/logger/index.js';
import { startSandbox, type Sandbox } from '../../../pkg/sandbox/index.js';
import { SANDBOX_IMAGES } from '../../../pkg/sandbox/workloads/index.js';
import { findKubectl, Kubectl } from '../../support/apiserver-kubectl.js';
import { eventually } from '../../support/eventually.js';

const NATIVE = 'native';
const CLASSIC = 'classic';

function app(name: string, namespace: string, extra: Partial<V1Pod['spec']> = {}): V1Pod {
  return {
    metadata: { name, namespace },
    spec: {
      containers: [
        {
          name: 'app',
          image: SANDBOX_IMAGES.http,
          ports: [{ containerPort: 14001 }],
          readinessProbe: { httpGet: { port: 14001, path: '/ready' }, periodSeconds: 1, failureThreshold: 2 },
        },
      ],
      ...extra,
    },
  };
}

describe('sandbox: native sidecars', () => {
  let dir: string;
  let sb: Sandbox;
  let core: CoreV1Api;
  let apps: AppsV1Api;

  const read = (ns: string, name: string) => core.readNamespacedPod({ name, namespace: ns });
  const ready = async (ns: string, name: string) =>
    (await read(ns, name)).status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
  const events = async (ns: string, name: string): Promise<CoreV1Event[]> =>
    (await core.listNamespacedEvent({ namespace: ns, fieldSelector: `involvedObject.name=${name}` })).items;
  const started = async (ns: string, name: string, container: string) =>
    (await events(ns, name)).find(
      (e) => e.reason === 'Started' && e.message === `Started container ${container}`,
    );

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fsm-native-'));
    const block = 100 + Math.floor(Math.random() * 100);
    sb = await startSandbox({
      dir,
      logger: silentLogger(),
      demo: false,
      restartDelayMs: 200,
      podAddressBlocks: { first: block, last: block },
    });
    const kc = new KubeConfig();
    kc.loadFromFile(sb.kubeconfigPath);
    core = kc.makeApiClient(CoreV1Api);
    apps = kc.makeApiClient(AppsV1Api);
    await core.createNamespace({
      body: { metadata: { name: NATIVE, labels: { [MONITORED_BY_LABEL]: 'fsm' } } },
    });
    await core.createNamespace({
      body: {
        metadata: {
          name: CLASSIC,
          labels: { [MONITORED_BY_LABEL]: 'fsm' },
          annotations: { [NATIVE_SIDECAR_ANNOTATION]: 'disabled' },
        },
      },
    });
    await new Promise((r) => setTimeout(r, 300)); // the injector's namespace informer sees them
  });

  afterAll(async () => {
    await sb?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('the injector gives a native sidecar on this 1.32 API server, and a classic one where the namespace says so', async () => {
    const native = await sb.createPod(app('layout', NATIVE));
    expect(native.spec!.initContainers!.map((c) => [c.name, c.restartPolicy])).toEqual([
      ['fsm-init', undefined],
      ['sidecar', 'Always'],
    ]);
    expect(native.spec!.containers.map((c) => c.name)).toEqual(['app']);
    const classic = await sb.createPod(app('layout', CLASSIC));
    expect(classic.spec!.containers.map((c) => c.name)).toEqual(['app', 'sidecar']);
    await eventually('both Ready', async () =>
      (await ready(NATIVE, 'layout')) && (await ready(CLASSIC, 'layout')) ? true : undefined,
    );
    const status = (await read(NATIVE, 'layout')).status!;
    expect(status.initContainerStatuses!.find((c) => c.name === 'sidecar')).toMatchObject({
      started: true,
      ready: true,
      state: { running: expect.anything() },
    });
  });

  it('without the controller, a native sidecar holds the app; a classic one does not; the controller back, the app starts', async () => {
    // The controller scaled to zero (kubectl scale): no proxy gets any configuration.
    const scale = (replicas: number) =>
      apps.patchNamespacedDeployment(
        { name: CONTROLLER_APP, namespace: sb.fsmNamespace, body: { spec: { replicas } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
    await scale(0);
    await eventually('no controller pod', async () =>
      (await core.listNamespacedPod({ namespace: sb.fsmNamespace, labelSelector: `app=${CONTROLLER_APP}` }))
        .items.length === 0
        ? true
        : undefined,
    );
    await sb.createPod(app('held', NATIVE));
    await sb.createPod(app('held', CLASSIC));
    // The native sidecar's startup probe fails: nothing answers the proxy-ready path without listeners.
    await eventually('the sidecar startup probe failing', async () =>
      (await events(NATIVE, 'held')).find(
        (e) =>
          e.reason === 'Unhealthy' &&
          e.involvedObject.fieldPath === 'spec.containers{sidecar}' &&
          /^Startup probe failed: Get "http:\/\/[0-9.]+:15903\/fsm-proxy-ready": dial tcp/.test(
            e.message ?? '',
          ),
      ),
    );
    // Classic: the app runs already (its readiness fails through the unconfigured proxy).
    await eventually('the classic app started', () => started(CLASSIC, 'held', 'app'));
    // Native: the app has not started, and says why.
    expect(await started(NATIVE, 'held', 'app')).toBeUndefined();
    const held = (await read(NATIVE, 'held')).status!;
    expect(held.phase).toBe('Pending');
    expect(held.conditions?.find((c) => c.type === 'Initialized')?.status).toBe('False');
    expect(held.containerStatuses![0]!.state).toEqual({ waiting: { reason: 'PodInitializing' } });

    await scale(1);
    await sb.waitForControlPlane();
    await eventually('the native app Ready', async () => ((await ready(NATIVE, 'held')) ? true : undefined));
    const sidecarStarted = await started(NATIVE, 'held', 'sidecar');
    const appStarted = await started(NATIVE, 'held', 'app');
    expect(Date.parse(String(appStarted!.firstTimestamp))).toBeGreaterThanOrEqual(
      Date.parse(String(sidecarStarted!.firstTimestamp)),
    );
    await eventually('the classic app Ready', async () =>
      (await ready(CLASSIC, 'held')) ? true : undefined,
    );
  });

  it('kubectl counts the native sidecar as a container', async () => {
    const bin = findKubectl();
    if (!bin) throw new Error('kubectl not found: `make tools` installs it (Debian kubernetes-client)');
    const get = await new Kubectl(bin, sb.kubeconfigPath, dir).run(['get', 'pods', '-n', NATIVE]);
    expect(get.stdout).toMatch(/layout\s+2\/2\s+Running/);
  });

  it('a preStop hook goes through the proxy and reaches the app: the native sidecar stops after it', async () => {
    const pod = app('drains', NATIVE);
    pod.spec!.containers[0]!.lifecycle = {
      postStart: { httpGet: { port: 14001, path: '/warm' } },
      preStop: { httpGet: { port: 14001, path: '/drain' } },
    };
    const created = await sb.createPod(pod);
    expect(created.spec!.containers[0]!.lifecycle).toEqual({
      postStart: { httpGet: { port: 15903, path: '/fsm-poststart-hook/app' } },
      preStop: { httpGet: { port: 15903, path: '/fsm-prestop-hook/app' } },
    });
    await eventually('Ready', async () => ((await ready(NATIVE, 'drains')) ? true : undefined));
    await core.deleteNamespacedPod({ name: 'drains', namespace: NATIVE });
    const runs = await eventually('the preStop hook ran', () => {
      const r = sb.node.lifecycleHookRuns(NATIVE, 'drains');
      return r.some((x) => x.hook === 'preStop') ? r : undefined;
    });
    // The app's own answers to its original paths, through the proxy's rewritten ones.
    expect(
      runs.map((r) => [r.hook, r.ok, r.url?.replace(/\/\/[0-9.]+:/, '//<pod>:'), r.status, r.body]),
    ).toEqual([
      ['postStart', true, 'http://<pod>:15903/fsm-poststart-hook/app', 200, 'app ok /warm\n'],
      ['preStop', true, 'http://<pod>:15903/fsm-prestop-hook/app', 200, 'app ok /drain\n'],
    ]);
  });
});
