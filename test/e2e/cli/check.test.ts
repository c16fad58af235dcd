/**
 * `fsm check probes` against our API server and a real HTTP stand-in for the controller's debug
 * endpoint: a healthy pod, a pod whose probes were not rewritten, a TCP pod without the
 * fsm-healthcheck container, failing probes (events), a pod outside the mesh, an unreachable
 * controller and an injected control-plane namespace. Output compared with golden files.
 */
import { AppsV1Api, CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import { parse as parseYaml } from 'yaml';
import {
  APP_LABEL,
  CONTROLLER_APP,
  HEALTHCHECK_CONTAINER_NAME,
  INJECTOR_APP,
  MONITORED_BY_LABEL,
  PROBE_REWRITE_ANNOTATION,
  PROXY_UUID_LABEL,
  SIDECAR_CONTAINER_NAME,
  SIDECAR_INJECTION_ANNOTATION,
} from '../../../pkg/constants/index.js';
import { desiredProxy, type DesiredProxy } from '../../../pkg/catalog/index.js';
import type { ProbeCheckReport } from '../../../pkg/cli/index.js';
import { startTestApiServer, type TestApiServer } from '../../support/apiserver.js';
import {
  createMeshController,
  createPodWithStatus,
  ensureNamespace,
  golden,
  runFsm,
  startDebugEndpoint,
  startHangUpEndpoint,
} from '../../support/cli.js';
import { appPod, fixtureUuid, http, injectedPod, tcp } from '../../support/pods.js';

let h: TestApiServer;
let core: CoreV1Api;
let apps: AppsV1Api;
let debug: Awaited<ReturnType<typeof startDebugEndpoint>>;
const configs = new Map<string, unknown>();

function desired(pod: V1Pod): DesiredProxy {
  const d = desiredProxy(pod);
  if (!d.isProxy) throw new Error(d.reason);
  return JSON.parse(JSON.stringify(d)) as DesiredProxy;
}

async function controlPlanePod(name: string, app: string, injected: boolean): Promise<void> {
  const labels: Record<string, string> = { [APP_LABEL]: app };
  if (injected) labels[PROXY_UUID_LABEL] = fixtureUuid('fsm-system', name);
  const containers = [{ name: app, image: `flomesh/${app}:test` }];
  if (injected) containers.push({ name: SIDECAR_CONTAINER_NAME, image: 'envoyproxy/envoy:v1.32.3' });
  await core.createNamespacedPod({
    namespace: 'fsm-system',
    body: { metadata: { name, labels }, spec: { containers } },
  });
}

async function probeEvent(pod: string, reason: string, message: string, count: number): Promise<void> {
  const p = await core.readNamespacedPod({ name: pod, namespace: 'bookstore' });
  const now = new Date();
  await core.createNamespacedEvent({
    namespace: 'bookstore',
    body: {
      metadata: { name: `${pod}.${reason.toLowerCase()}` },
      involvedObject: { kind: 'Pod', name: pod, namespace: 'bookstore', uid: p.metadata?.uid },
      reason,
      type: reason === 'Unhealthy' ? 'Warning' : 'Normal',
      message,
      count,
      firstTimestamp: now,
      lastTimestamp: now,
    },
  });
}

function check(pod: string, ...more: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return runFsm(['check', 'probes', pod, '-n', 'bookstore', '--controller-url', debug.url, ...more], h.kc);
}

beforeAll(async () => {
  h = await startTestApiServer();
  core = h.kc.makeApiClient(CoreV1Api);
  apps = h.kc.makeApiClient(AppsV1Api);
  debug = await startDebugEndpoint(configs);
  await ensureNamespace(core, 'fsm-system');
  await createMeshController(apps, { mesh: 'fsm', namespace: 'fsm-system', version: 'v0.1.0' });
  await controlPlanePod('fsm-controller-0', CONTROLLER_APP, false);
  await controlPlanePod('fsm-injector-0', INJECTOR_APP, false);
  await ensureNamespace(
    core,
    'bookstore',
    { [MONITORED_BY_LABEL]: 'fsm' },
    { [SIDECAR_INJECTION_ANNOTATION]: 'enabled' },
  );
  await ensureNamespace(core, 'outside');

  const healthy = injectedPod({
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
  await createPodWithStatus(core, healthy, true);
  configs.set('bookstore/bookstore-v1', desired(healthy));

  // Injected (sidecar and proxy label) but opted out of the probe rewrite: kubelet still calls the app.
  const legacy = appPod({
    name: 'legacy',
    namespace: 'bookstore',
    labels: { [PROXY_UUID_LABEL]: fixtureUuid('bookstore', 'legacy') },
    annotations: { [PROBE_REWRITE_ANNOTATION]: 'disabled' },
    containers: [{ name: 'app', ports: [8080], liveness: http(8080, '/healthz'), readiness: tcp(8080) }],
  });
  legacy.spec!.containers.push({ name: SIDECAR_CONTAINER_NAME, image: 'envoyproxy/envoy:v1.32.3' });
  await createPodWithStatus(core, legacy, true);
  configs.set('bookstore/legacy', desired(legacy));

  // A TCP-probed pod whose fsm-healthcheck container was removed.
  const tcpPod = injectedPod({
    name: 'tcp-app',
    namespace: 'bookstore',
    containers: [{ name: 'server', ports: [9000], liveness: tcp(9000) }],
  });
  tcpPod.spec!.containers = tcpPod.spec!.containers.filter((c) => c.name !== HEALTHCHECK_CONTAINER_NAME);
  await createPodWithStatus(core, tcpPod, true);
  configs.set('bookstore/tcp-app', desired(tcpPod));

  // Failing probes, and a controller config that lacks the readiness listener.
  const flaky = injectedPod({
    name: 'flaky',
    namespace: 'bookstore',
    containers: [
      { name: 'app', ports: [8080], liveness: http(8080, '/live'), readiness: http(8080, '/ready') },
    ],
  });
  await createPodWithStatus(core, flaky, true);
  const flakyConfig = desired(flaky);
  flakyConfig.resources.listeners = flakyConfig.resources.listeners.filter(
    (l) => l.name !== 'readiness_listener',
  );
  configs.set('bookstore/flaky', flakyConfig);
  await probeEvent('flaky', 'Unhealthy', 'Liveness probe failed: HTTP probe failed with statuscode: 503', 3);
  await probeEvent('flaky', 'Killing', 'Container app failed liveness probe, will be restarted', 1);

  // A pod with a TCP probe whose fsm-healthcheck container is not running.
  const waiting = injectedPod({
    name: 'waiting',
    namespace: 'bookstore',
    containers: [{ name: 'server', ports: [9000], readiness: tcp(9000) }],
  });
  await createPodWithStatus(core, waiting, false);
  configs.set('bookstore/waiting', desired(waiting));

  await createPodWithStatus(
    core,
    appPod({
      name: 'loner',
      namespace: 'outside',
      containers: [{ name: 'app', ports: [80], liveness: http(80) }],
    }),
    true,
  );
});

afterAll(async () => {
  await debug.close();
  await h.stop();
});

describe('fsm check probes', () => {
  it('passes every check on a healthy pod (exit 0)', async () => {
    const r = await check('bookstore-v1');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(golden('check-healthy', r.stdout));
  });

  it('reports probes that were not rewritten, with the expected rewrite and the fix (exit 1)', async () => {
    const r = await check('legacy');
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(golden('check-not-rewritten', r.stdout));
  });

  it('reports a TCP probe without the fsm-healthcheck container', async () => {
    const r = await check('tcp-app');
    expect(r.code).toBe(1);
    expect(r.stdout).toBe(golden('check-tcp-no-healthcheck', r.stdout));
  });

  it('reports a fsm-healthcheck container that is not running', async () => {
    const r = await check('waiting');
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('✗ fsm-healthcheck container present and running for TCP and gRPC probes');
    expect(r.stdout).toContain('container fsm-healthcheck is waiting (ContainerCreating); restarts: 0');
    expect(r.stdout).toContain('fix: kubectl -n bookstore logs waiting -c fsm-healthcheck');
  });

  it('reports recent Unhealthy/Killing events and a listener missing from the controller config', async () => {
    const r = await check('flaky');
    expect(r.code).toBe(1);
    expect(r.stdout).toBe(golden('check-failing-probes', r.stdout));
    // Events older than --events-since do not count.
    const later = await runFsm(
      ['check', 'probes', 'flaky', '-n', 'bookstore', '--controller-url', debug.url, '--events-since', '1h'],
      h.kc,
      { now: () => new Date(Date.now() + 2 * 3600_000) },
    );
    expect(later.stdout).toContain('✓ No recent Unhealthy or Killing events (last 1h)');
  });

  it('explains a pod outside the mesh and skips what does not apply', async () => {
    const r = await runFsm(
      ['check', 'probes', 'loner', '-n', 'outside', '--controller-url', debug.url],
      h.kc,
    );
    expect(r.code).toBe(1);
    expect(r.stdout).toBe(golden('check-not-injected', r.stdout));
  });

  it('reports an unreachable controller as a failed check, not a crash', async () => {
    // No --controller-url: through the API server's service proxy, which our API server does not serve.
    const r = await runFsm(['check', 'probes', 'bookstore-v1', '-n', 'bookstore'], h.kc);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(golden('check-controller-unreachable', r.stdout));
    const broken = await startHangUpEndpoint();
    try {
      const reset = await runFsm(
        ['check', 'probes', 'bookstore-v1', '-n', 'bookstore', '--controller-url', broken.url],
        h.kc,
      );
      expect(reset.code).toBe(1);
      expect(reset.stdout).toContain(
        `✗ Proxy config has a listener for each rewritten probe\n    cannot read the proxy config from the controller: ${broken.url}: GET /debug/proxies/bookstore/bookstore-v1: `,
      );
      expect(reset.stdout).toMatch(/ECONNRESET|socket hang up/);
    } finally {
      await broken.close();
    }
  });

  it('prints JSON and YAML reports', async () => {
    const j = await check('tcp-app', '-o', 'json');
    expect(j.code).toBe(1);
    const report = JSON.parse(j.stdout) as ProbeCheckReport;
    expect(report).toMatchObject({ namespace: 'bookstore', pod: 'tcp-app', mesh: 'fsm', failed: 1 });
    expect(report.checks.map((c) => [c.id, c.status])).toEqual([
      ['sidecar', 'pass'],
      ['probes-rewritten', 'pass'],
      ['proxy-listeners', 'pass'],
      ['healthcheck', 'fail'],
      ['events', 'pass'],
      ['control-plane', 'pass'],
    ]);
    expect(parseYaml((await check('tcp-app', '-o', 'yaml')).stdout)).toEqual(report);
  });

  it('names a missing pod on stderr (exit 1) and rejects bad flags (exit 2)', async () => {
    expect(await check('ghost')).toEqual({
      code: 1,
      stdout: '',
      stderr: 'Error: pod bookstore/ghost not found\n',
    });
    const bad = await check('flaky', '--events-since', 'soon');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("option '--events-since <duration>' argument 'soon' is invalid");
    expect((await runFsm(['check', 'probes'], h.kc)).code).toBe(2);
  });

  describe('with an injected control plane', () => {
    beforeAll(async () => {
      await core.patchNamespace({
        name: 'fsm-system',
        body: [{ op: 'add', path: '/metadata/labels/flomesh.io~1monitored-by', value: 'fsm' }],
      });
      await controlPlanePod('fsm-controller-1', CONTROLLER_APP, true);
    });

    it('fails the control-plane check and says how to take it out of the mesh', async () => {
      const r = await check('bookstore-v1');
      expect(r.code).toBe(1);
      expect(r.stdout).toBe(golden('check-control-plane-injected', r.stdout));
    });

    it('checks the namespace given by --fsm-namespace', async () => {
      const r = await check('bookstore-v1', '--fsm-namespace', 'fsm-elsewhere');
      expect(r.stdout).toContain(
        '✗ Control plane not injected (namespace fsm-elsewhere)\n    control-plane namespace fsm-elsewhere not found',
      );
    });
  });
});
