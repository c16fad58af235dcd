/**
 * `fsm proxy get config` and `fsm check probes` against the real fsm-controller (pkg/controller,
 * in-process) and our API server: the CLI reads the controller's own /debug/proxies over HTTP.
 */
import { CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import { MONITORED_BY_LABEL } from '../../../pkg/constants/index.js';
import { startController, type RunningController } from '../../../pkg/controller/index.js';
import { silentLogger } from '../../../pkg/logger/index.js';
import { startTestApiServer, type TestApiServer } from '../../support/apiserver.js';
import { createPodWithStatus, ensureNamespace, golden, runFsm } from '../../support/cli.js';
import { http, injectedPod, tcp } from '../../support/pods.js';
import { eventually } from '../../support/eventually.js';

let api: TestApiServer;
let core: CoreV1Api;
let ctl: RunningController;
let url: string;

/** Polls until `get` returns a value (bounded; not a timing assertion). */

// The same pod as check.test.ts's healthy one: the real controller must give the same report.
const healthy: V1Pod = injectedPod({
  name: 'bookstore-v1',
  namespace: 'bookstore',
  containers: [
    {
      name: 'app',
      ports: [14001],
      liveness: http(14001, '/live'),
      readiness: http(14001, '/ready'),
      startup: http(14001, '/start'),
    },
    { name: 'db', ports: [5432], readiness: tcp(5432) },
  ],
});

beforeAll(async () => {
  api = await startTestApiServer();
  core = api.kc.makeApiClient(CoreV1Api);
  await ensureNamespace(core, 'fsm-system');
  await ensureNamespace(core, 'bookstore', { [MONITORED_BY_LABEL]: 'fsm' });
  await ensureNamespace(core, 'outside');
  ctl = await startController({
    kubeConfig: api.kc,
    meshName: 'fsm',
    fsmNamespace: 'fsm-system',
    adsPort: 0,
    healthPort: 0,
    bindAddress: '127.0.0.1',
    outOfSyncThresholdMs: 5000,
    debounceMs: 5,
    workers: 2,
    adsDrainGraceMs: 100,
    version: 'test',
    logger: silentLogger(),
  });
  url = `http://127.0.0.1:${ctl.healthPort}`;
  await createPodWithStatus(core, healthy, true);
  await createPodWithStatus(
    core,
    injectedPod({ name: 'stray', namespace: 'outside', containers: [{ name: 'app', liveness: http(80) }] }),
    true,
  );
  await eventually('controller knows bookstore/bookstore-v1', () =>
    ctl.propagator.proxy('bookstore', 'bookstore-v1'),
  );
});

afterAll(async () => {
  await ctl?.stop();
  await api?.stop();
});

describe('fsm with the real controller', () => {
  it('proxy get config prints what the controller serves, with the Probes view', async () => {
    const r = await runFsm(
      ['proxy', 'get', 'config', 'bookstore-v1', '-n', 'bookstore', '--controller-url', url],
      api.kc,
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const got = JSON.parse(r.stdout) as {
      proxy: { name: string };
      resources: { listeners: { name: string }[] };
      probes: {
        LivenessProbes: { listener?: string; original: unknown }[];
        ReadinessProbes: { servedBy: string }[];
      };
    };
    expect(got).toEqual(JSON.parse(JSON.stringify(ctl.propagator.proxy('bookstore', 'bookstore-v1'))));
    expect(got.proxy.name).toBe('bookstore-v1');
    expect(got.resources.listeners.map((l) => l.name)).toEqual(
      expect.arrayContaining(['liveness_listener', 'readiness_listener', 'startup_listener']),
    );
    expect(got.probes.LivenessProbes[0]).toMatchObject({
      listener: 'liveness_listener',
      original: { httpGet: { path: '/live', port: 14001, scheme: 'HTTP' } },
    });
    expect(got.probes.ReadinessProbes.map((p) => p.servedBy)).toEqual(['proxy', 'fsm-healthcheck']);
  });

  it("proxy get config passes on the controller's 404 for a pod outside the mesh", async () => {
    const r = await runFsm(
      ['proxy', 'get', 'config', 'stray', '-n', 'outside', '--controller-url', url],
      api.kc,
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^Error: the controller of mesh \[fsm\] has no config for proxy outside\/stray \(uuid [0-9a-f-]+\); is namespace outside in mesh \[fsm\]\? \(.*404 no proxy outside\/stray: the pod is not in the mesh, not injected, or not seen yet\)\n$/,
    );
  });

  it('check probes passes every check, exactly as against the stand-in endpoint', async () => {
    const r = await runFsm(
      ['check', 'probes', 'bookstore-v1', '-n', 'bookstore', '--controller-url', url],
      api.kc,
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(golden('check-healthy', r.stdout));
  });
});
