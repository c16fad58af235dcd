/**
 * The full chain, as `make run` runs it: a pod created through the API server is rewritten by the
 * real fsm-injector (webhook over HTTPS), fsm-controller pushes its proxy config, the probe agent
 * serves it, and the kubelet-like prober's results flip Ready; breaking the app makes the probe fail
 * with an Unhealthy event, fixing it makes the pod Ready again. Then a controller restart, and kubectl.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CoreV1Api,
  KubeConfig,
  PatchStrategy,
  setHeaderOptions,
  type V1Pod,
  type V1Probe,
} from '@kubernetes/client-node';
import { LISTENER_TYPE_URL } from '../../../pkg/envoy/index.js';
import {
  MONITORED_BY_LABEL,
  NATIVE_SIDECAR_ANNOTATION,
  ORIGINAL_PROBES_ANNOTATION,
} from '../../../pkg/constants/index.js';
import { silentLogger } from '../../../pkg/logger/index.js';
import { startSandbox, type Sandbox } from '../../../pkg/sandbox/index.js';
import { SANDBOX_IMAGES, UNHEALTHY_ANNOTATION } from '../../../pkg/sandbox/workloads/index.js';
import { findKubectl, Kubectl } from '../../support/apiserver-kubectl.js';
import { httpRequest } from '../../support/net.js';
import { runBinaryToExit } from '../../support/process.js';
import { eventually } from '../../support/eventually.js';

const NS = 'shop';
const fast = { periodSeconds: 1, timeoutSeconds: 1, failureThreshold: 2 } satisfies V1Probe;

function pod(name: string, image: string, port: number, readinessProbe: V1Probe): V1Pod {
  return {
    metadata: { name, namespace: NS },
    spec: { containers: [{ name: 'app', image, ports: [{ containerPort: port }], readinessProbe }] },
  };
}

/** One pod per probe kind; each readiness probe goes through the mesh once injected. */
const KINDS: { name: string; pod: V1Pod; rewritten: (p: V1Probe) => boolean }[] = [
  {
    name: 'web-http',
    pod: pod('web-http', SANDBOX_IMAGES.http, 14001, { httpGet: { port: 14001, path: '/ready' }, ...fast }),
    rewritten: (p) => p.httpGet?.port === 15902 && p.httpGet.path === '/fsm-readiness-probe',
  },
  {
    name: 'db-tcp',
    pod: pod('db-tcp', SANDBOX_IMAGES.tcp, 5432, { tcpSocket: { port: 5432 }, ...fast }),
    rewritten: (p) =>
      p.httpGet?.port === 15904 && p.httpGet.httpHeaders?.[0]?.name === 'Original-Tcp-Port' && !p.tcpSocket,
  },
  {
    name: 'api-https',
    pod: pod('api-https', SANDBOX_IMAGES.https, 8443, {
      httpGet: { port: 8443, path: '/ready', scheme: 'HTTPS' },
      ...fast,
    }),
    rewritten: (p) =>
      p.httpGet?.port === 15902 && p.httpGet.path === '/ready' && p.httpGet.scheme === 'HTTPS',
  },
  {
    name: 'rpc-grpc',
    pod: pod('rpc-grpc', SANDBOX_IMAGES.grpc, 9000, { grpc: { port: 9000 }, ...fast }),
    rewritten: (p) => p.httpGet?.port === 15904 && !p.grpc,
  },
];

describe('sandbox: the full probe chain', () => {
  let dir: string;
  let sb: Sandbox;
  let core: CoreV1Api;

  const read = (name: string) => core.readNamespacedPod({ name, namespace: NS });
  const ready = async (name: string) =>
    (await read(name)).status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
  const annotate = (name: string, value: string | null) =>
    core.patchNamespacedPod(
      { name, namespace: NS, body: { metadata: { annotations: { [UNHEALTHY_ANNOTATION]: value } } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
  const events = async (name: string) =>
    (await core.listNamespacedEvent({ namespace: NS, fieldSelector: `involvedObject.name=${name}` })).items;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fsm-sandbox-'));
    sb = await startSandbox({
      dir,
      logger: silentLogger(),
      demo: false,
      restartDelayMs: 200,
      // Its own address block: a `make run` sandbox on the same machine uses 127.0.1.x.
      podAddressBlocks: (() => {
        const block = 100 + Math.floor(Math.random() * 100);
        return { first: block, last: block };
      })(),
    });
    const kc = new KubeConfig();
    kc.loadFromFile(sb.kubeconfigPath);
    core = kc.makeApiClient(CoreV1Api);
    // Classic sidecars here (the layout these tests assert); the sandbox's API server (1.32) would
    // give native ones, covered by native-sidecar.test.ts.
    await core.createNamespace({
      body: {
        metadata: {
          name: NS,
          labels: { [MONITORED_BY_LABEL]: 'fsm' },
          annotations: { [NATIVE_SIDECAR_ANNOTATION]: 'disabled' },
        },
      },
    });
    await new Promise((r) => setTimeout(r, 300)); // the injector's namespace informer sees it
    for (const k of KINDS) await sb.createPod(structuredClone(k.pod));
  });

  afterAll(async () => {
    await sb?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it.each(KINDS.map((k) => [k.name, k] as const))(
    '%s: rewritten, Ready through the mesh, Unhealthy when broken, Ready again when fixed',
    async (name, k) => {
      const stored = await read(name);
      expect(k.rewritten(stored.spec!.containers[0]!.readinessProbe!)).toBe(true);
      expect(stored.spec!.containers.map((c) => c.name)).toContain('sidecar');
      await eventually(`${name} Ready`, async () => ((await ready(name)) ? true : undefined));

      await annotate(name, 'app');
      await eventually(`${name} not Ready`, async () => ((await ready(name)) ? undefined : true));
      // Under load an attempt may also time out first (also a kubelet event); the broken app's own
      // answer must show up as the exact 503 failure.
      const unhealthy = await eventually(`${name} Unhealthy 503 event`, async () =>
        (await events(name)).find(
          (e) =>
            e.reason === 'Unhealthy' &&
            e.message === 'Readiness probe failed: HTTP probe failed with statuscode: 503',
        ),
      );
      expect(unhealthy.type).toBe('Warning');

      await annotate(name, null);
      await eventually(`${name} Ready again`, async () => ((await ready(name)) ? true : undefined));
    },
  );

  it('every sidecar connects with its own bootstrap credential and holds its SPIFFE workload certificate and the bundle', async () => {
    for (const k of KINDS) {
      const stored = await read(k.name);
      const s = await eventually(`${k.name} secrets`, async () => {
        const st = sb.node.probeAgentStatus(NS, k.name);
        return st?.connected && st.secrets.length === 2 ? st : undefined;
      });
      const sa = stored.spec!.serviceAccountName || 'default';
      expect(s.secrets).toEqual([
        { name: 'fsm-trust-bundle', kind: 'validation_context', roots: 1 },
        {
          name: 'fsm-workload-cert',
          kind: 'tls_certificate',
          uris: [`spiffe://cluster.local/ns/${NS}/sa/${sa}`],
          serial: expect.any(String),
          notAfter: expect.any(String),
        },
      ]);
      expect(s.nacks).toEqual({});
      const volume = stored.spec!.volumes!.find((v) => v.name === 'fsm-bootstrap');
      expect(volume?.secret?.secretName).toBe(
        `fsm-bootstrap-${stored.metadata!.labels!['flomesh.io/proxy-uuid']}`,
      );
    }
  });

  it('a controller restart: probes keep passing from the last config, agents converge to the new one', async () => {
    const name = 'web-http';
    const before = sb.node.probeAgentStatus(NS, name)!;
    expect(before.connected).toBe(true);
    // Change the pod's recorded original path while the controller is down.
    const restart = sb.restartController();
    const current = await read(name);
    const record = JSON.parse(current.metadata!.annotations![ORIGINAL_PROBES_ANNOTATION]!);
    record.containers.app.readiness.path = '/ready-v2';
    current.metadata!.annotations![ORIGINAL_PROBES_ANNOTATION] = JSON.stringify(record);
    await core.replaceNamespacedPod({ name, namespace: NS, body: current });
    const ip = sb.node.podIP(NS, name)!;
    expect((await httpRequest(`http://${ip}:15902/fsm-readiness-probe`)).body).toBe('app ok /ready\n');
    await restart;
    const debug = await eventually('the new config', async () => {
      const r = await httpRequest(`${sb.controllerUrl}/debug/proxies/${NS}/${name}`);
      const d = r.status === 200 ? JSON.parse(r.body) : undefined;
      return JSON.stringify(d?.probes ?? '').includes('/ready-v2') ? d : undefined;
    });
    await eventually('the agent on the new version', async () => {
      const s = sb.node.probeAgentStatus(NS, name)!;
      return s.connected && s.versions.LDS === debug.versions[LISTENER_TYPE_URL] ? s : undefined;
    });
    expect(sb.node.probeAgentStatus(NS, name)!.streams).toBeGreaterThan(before.streams);
    expect((await httpRequest(`http://${ip}:15902/fsm-readiness-probe`)).body).toBe('app ok /ready-v2\n');
    expect(await ready(name)).toBe(true);
  });

  it('fsm proxy get config reaches the controller through the API server service proxy', async () => {
    const r = await runBinaryToExit('fsm', ['proxy', 'get', 'config', 'web-http', '-n', NS, '-o', 'json'], {
      KUBECONFIG: sb.kubeconfigPath,
    });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const config = JSON.parse(r.stdout);
    expect(config.resources.listeners.map((l: { name: string }) => l.name)).toContain('readiness_listener');
  });

  describe('kubectl against the sandbox', () => {
    let kubectl: Kubectl;
    beforeAll(() => {
      const bin = findKubectl();
      if (!bin) throw new Error('kubectl not found: `make tools` installs it (Debian kubernetes-client)');
      kubectl = new Kubectl(bin, sb.kubeconfigPath, dir);
    });

    it('get and describe show kubelet-style status and events', async () => {
      const get = await kubectl.run(['get', 'pods', '-n', NS]);
      expect(get.code).toBe(0);
      expect(get.stdout).toMatch(/web-http\s+2\/2\s+Running/);
      const describe = await kubectl.run(['describe', 'pod', '-n', NS, 'web-http']);
      expect(describe.stdout).toContain('Readiness probe failed: HTTP probe failed with statuscode: 503');
      expect(describe.stdout).toMatch(
        /Scheduled\s+.*default-scheduler\s+Successfully assigned shop\/web-http/,
      );
      expect(describe.stdout).toContain('http-get http://:15902/fsm-readiness-probe');
    });

    it('label a namespace into the mesh, apply a pod from YAML, watch it become Ready', async () => {
      expect((await kubectl.run(['create', 'namespace', 'late'])).code).toBe(0);
      expect((await kubectl.run(['label', 'namespace', 'late', `${MONITORED_BY_LABEL}=fsm`])).code).toBe(0);
      await new Promise((r) => setTimeout(r, 300));
      const watch = kubectl.spawn(['get', 'pods', '-n', 'late', '-w']);
      try {
        const yaml = [
          'apiVersion: v1',
          'kind: Pod',
          'metadata: {name: from-yaml, namespace: late}',
          'spec:',
          '  containers:',
          '  - name: app',
          `    image: ${SANDBOX_IMAGES.http}:v1`,
          '    ports: [{containerPort: 14001}]',
          '    livenessProbe: {httpGet: {port: 14001, path: /live}, periodSeconds: 1}',
        ].join('\n');
        const applied = await kubectl.run(['apply', '-f', '-'], yaml);
        expect(applied.code).toBe(0);
        expect(applied.stdout).toContain('pod/from-yaml created');
        await eventually('Ready in the watch', async () =>
          /from-yaml\s+2\/2\s+Running/.test(watch.output()) ? true : undefined,
        );
        const probe = (
          await kubectl.run([
            'get',
            'pod',
            '-n',
            'late',
            'from-yaml',
            '-o',
            'jsonpath={.spec.containers[0].livenessProbe.httpGet.port}',
          ])
        ).stdout;
        expect(probe).toBe('15901');
      } finally {
        await watch.stop();
      }
    });
  });
});
