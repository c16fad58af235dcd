/**
 * The sandbox in namespace mode, one sandbox for the suite: every pod in its own network namespace
 * with the real fsm-init rules, the sidecar stand-in as the proxy UID, kubelet's probes from the
 * node. Each probe kind of the demo (HTTP, HTTPS, TCP, gRPC) passes through the rewrite; the seed's
 * premise, the guide's four steps: an opted-out httpGet probe meets the sidecar's mTLS (Unhealthy), an
 * opted-out tcpSocket probe on a port nothing listens on is Ready, rewritten the first is Ready and
 * the second truthfully not (503 from fsm-healthcheck), bookbuyer calls bookstore over mTLS; a failing fsm-init is Init:Error;
 * port-forward reaches localhost inside a pod; the guide's commands run in a fresh shell.
 */
import { execFile, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, KubeConfig, type V1Pod } from '@kubernetes/client-node';
import {
  HEALTHCHECK_PORT,
  INIT_CONTAINER_NAME,
  LIVENESS_PROBE_PATH,
  LIVENESS_PROBE_PORT,
  PROXY_UID,
} from '../../../../pkg/constants/index.js';
import { silentLogger } from '../../../../pkg/logger/index.js';
import { networkGuide, startSandbox, waitForDemo, type Sandbox } from '../../../../pkg/sandbox/index.js';
import { Kubectl, findKubectl } from '../../../support/apiserver-kubectl.js';
import { eventually } from '../../../support/eventually.js';
import { namespaceModeUnavailable, netnsList } from '../../../support/netns.js';

const unavailable = await namespaceModeUnavailable();
const suite = unavailable ? describe.skip : describe;

const NS = 'bookstore';
const PREMISE = 'premise';

const isReady = (p: V1Pod | undefined): boolean =>
  p?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

const run = (file: string, args: string[]): Promise<string> =>
  new Promise((resolve, reject) =>
    execFile(file, args, { timeout: 10_000 }, (err, stdout, stderr) =>
      err ? reject(new Error(`${file} ${args.join(' ')}: ${stderr}`)) : resolve(stdout),
    ),
  );

suite(`the sandbox in namespace mode${unavailable ? ` (skipped: ${unavailable})` : ''}`, () => {
  let dir: string;
  let sb: Sandbox;
  let core: CoreV1Api;
  let kubectl: Kubectl;

  const pod = (namespace: string, name: string) => core.readNamespacedPod({ namespace, name });
  const podOf = (app: string, namespace = NS): Promise<V1Pod> =>
    eventually(`a running pod of ${app}`, async () => {
      const pods = (await core.listNamespacedPod({ namespace, labelSelector: `app=${app}` })).items;
      return pods.find((p) => p.status?.podIP && !p.metadata?.deletionTimestamp);
    });
  const events = async (namespace: string, name: string): Promise<string[]> =>
    (await core.listNamespacedEvent({ namespace })).items
      .filter((e) => e.involvedObject.name === name)
      .map((e) => `${e.reason}: ${e.message}`);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fsm-netns-sandbox-'));
    const bin = findKubectl();
    if (!bin) throw new Error('kubectl not found: `make tools` installs it (Debian kubernetes-client)');
    sb = await startSandbox({ dir, logger: silentLogger(), restartDelayMs: 300, network: 'namespaces' });
    kubectl = new Kubectl(bin, sb.kubeconfigPath, dir);
    const kc = new KubeConfig();
    kc.loadFromFile(sb.kubeconfigPath);
    core = kc.makeApiClient(CoreV1Api);
    expect(await waitForDemo(sb.kubeconfigPath, 90_000)).toEqual([]);
  }, 180_000);

  afterAll(async () => {
    const id = sb?.network.id;
    await sb?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
    if (id) expect(netnsList().filter((n) => n.includes(id))).toEqual([]);
  }, 60_000);

  it('each pod has its own namespace and an address of the pod CIDR; the sidecar runs there as the proxy UID', async () => {
    expect(sb.network).toMatchObject({ mode: 'namespaces', nodeIP: '10.244.0.1' });
    const v1 = await podOf('bookstore-v1');
    expect(v1.status?.podIP).toMatch(/^10\.244\.0\.\d+$/);
    expect(v1.status?.hostIP).toBe('10.244.0.1');
    const netns = sb.node.podNetns(NS, v1.metadata!.name!)!;
    expect(netnsList()).toContain(netns);
    // The real rules, installed by fsm-init's own script.
    expect(await run('ip', ['netns', 'exec', netns, 'iptables-save', '-t', 'nat'])).toContain(
      `-A PROXY_OUTPUT -m owner --uid-owner ${PROXY_UID} -j RETURN`,
    );
    expect(
      v1.status?.initContainerStatuses?.find((s) => s.name === INIT_CONTAINER_NAME)?.state,
    ).toMatchObject({
      terminated: { exitCode: 0, reason: 'Completed' },
    });
    const uids = (await run('ip', ['netns', 'pids', netns]))
      .split(/\s+/)
      .filter(Boolean)
      .map((pid) => {
        const status = readFileSync(`/proc/${pid}/status`, 'utf8');
        const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
        return [/agent\/cli\.js/.test(cmd) ? 'sidecar' : 'app', Number(/^Uid:\s+(\d+)/m.exec(status)![1])];
      });
    expect(uids).toContainEqual(['sidecar', PROXY_UID]);
    expect(uids).toContainEqual(['app', 0]);
  });

  it.each([
    ['HTTP', 'bookstore-v1', 'bookstore', { httpGet: { port: 15901 } }],
    ['HTTPS', 'bookstore-secure', 'secure', { httpGet: { port: 15902, path: '/ready', scheme: 'HTTPS' } }],
    ['TCP', 'bookstore-db', 'db', { httpGet: { port: HEALTHCHECK_PORT } }],
    ['gRPC', 'bookstore-grpc', 'greeter', { httpGet: { port: HEALTHCHECK_PORT } }],
  ])(
    '%s probes pass through the rewrite from the node (%s Ready)',
    async (_kind, app, container, liveness) => {
      // (A container restarted while its pod started is Ready again within the suite's bound.)
      const p = await eventually(`${app} Ready`, async () => {
        const x = await podOf(app);
        return isReady(x) ? x : undefined;
      });
      const c = p.spec!.containers.find((x) => x.name === container)!;
      expect(c.livenessProbe ?? c.readinessProbe).toMatchObject(liveness);
      expect(p.status?.containerStatuses?.every((s) => s.ready)).toBe(true);
    },
  );

  it('an HTTP liveness probe that fails is still seen through the proxy: bookstore-broken is killed', async () => {
    const broken = await podOf('bookstore-broken');
    const ev = await eventually('the broken pod killed', async () => {
      const e = await events(NS, broken.metadata!.name!);
      return e.some((x) => x.startsWith('Killing')) ? e : undefined;
    });
    expect(ev).toContain('Unhealthy: Liveness probe failed: HTTP probe failed with statuscode: 503');
  }, 60_000);

  it('guide step 2: an opted-out tcpSocket probe on a port nothing listens on is Ready (the proxy holds every port)', async () => {
    const p = await eventually('optout-tcp Ready', async () => {
      const x = await pod(PREMISE, 'optout-tcp');
      return isReady(x) ? x : undefined;
    });
    // Not rewritten: kubelet dialed the closed port itself, and fsm-init's capture accepted it.
    expect(p.spec!.containers.find((c) => c.name === 'app')!.readinessProbe).toMatchObject({
      tcpSocket: { port: 5433 },
    });
  }, 60_000);

  it('guide step 3: rewritten, the HTTP pod is Ready and the TCP one truthfully not (503 from fsm-healthcheck)', async () => {
    await eventually(
      'rewritten-http Ready',
      async () => isReady(await pod(PREMISE, 'rewritten-http')) || undefined,
    );
    // (Until fsm-healthcheck listens, the rewritten probe is refused: wait for its own answer.)
    const answered = await eventually('a 503 from fsm-healthcheck', async () => {
      const e = await events(PREMISE, 'rewritten-tcp');
      return e.find((x) => x.includes('statuscode'));
    });
    expect(answered).toBe('Unhealthy: Readiness probe failed: HTTP probe failed with statuscode: 503');
    const p = await pod(PREMISE, 'rewritten-tcp');
    expect(isReady(p)).toBe(false);
    expect(p.spec!.containers.find((c) => c.name === 'app')!.readinessProbe).toMatchObject({
      httpGet: { port: HEALTHCHECK_PORT, path: '/fsm-healthcheck' },
    });
  }, 60_000);

  it("a failing fsm-init is the init container's failure: Init:Error, its output as its log", async () => {
    await core.createNamespacedPod({
      namespace: 'default',
      body: {
        metadata: { name: 'bad-init' },
        spec: {
          initContainers: [
            {
              name: INIT_CONTAINER_NAME,
              image: 'flomesh/fsm-init:v0.1.0',
              command: ['/bin/sh', '-c'],
              args: ['iptables-restore --noflush <<EOF\n*nat\n-A NO_SUCH_CHAIN -j RETURN\nCOMMIT\nEOF\n'],
            },
          ],
          containers: [{ name: 'app', image: 'fsm-sandbox/http-app:v1', ports: [{ containerPort: 8080 }] }],
        },
      },
    });
    const out = await eventually('Init:Error', async () => {
      const r = await kubectl.run(['get', 'pod', '-n', 'default', 'bad-init']);
      return /bad-init\s+0\/1\s+Init:(Error|CrashLoopBackOff)/.test(r.stdout) ? r.stdout : undefined;
    });
    expect(out).toMatch(/Init:(Error|CrashLoopBackOff)/);
    const log = await kubectl.run(['logs', '-n', 'default', 'bad-init', '-c', INIT_CONTAINER_NAME]);
    expect(log.stdout + log.stderr).toMatch(/iptables-restore/);
    const p = await pod('default', 'bad-init');
    expect(p.status?.containerStatuses?.[0]?.state?.running).toBeUndefined();
    await core.deleteNamespacedPod({ namespace: 'default', name: 'bad-init' });
  }, 60_000);

  it("kubectl port-forward reaches localhost inside the pod's namespace", async () => {
    const v1 = await podOf('bookstore-v1');
    const pf = kubectl.spawn(['port-forward', '-n', NS, v1.metadata!.name!, `:${LIVENESS_PROBE_PORT}`]);
    try {
      const port = await eventually('kubectl to listen', () => {
        const m = /Forwarding from 127\.0\.0\.1:(\d+)/.exec(pf.output());
        return m ? Number(m[1]) : undefined;
      });
      const body = await run('curl', ['-s', '-i', `http://127.0.0.1:${port}${LIVENESS_PROBE_PATH}`]);
      expect(body).toMatch(/^HTTP\/1\.1 200/);
    } finally {
      await pf.stop();
    }
  }, 30_000);

  it('guide step 1: an opted-out httpGet probe meets the sidecar on the app port, which requires mTLS: Unhealthy, restarts', async () => {
    const ev = await eventually('optout-http liveness failures', async () => {
      const e = await events(PREMISE, 'optout-http');
      return e.some((x) => x.startsWith('Killing')) ? e : undefined;
    });
    expect(ev.find((x) => x.startsWith('Unhealthy'))).toMatch(
      /^Unhealthy: Liveness probe failed: Get "http:\/\/10\.244\.0\.\d+:14001\/liveness": /,
    );
    // Not rewritten: kubelet's plaintext GET went to the app port itself.
    expect((await pod(PREMISE, 'optout-http')).spec!.containers[0]!.livenessProbe?.httpGet?.port).toBe(14001);
  }, 60_000);

  it('guide step 4: bookbuyer buys from the bookstore Service over mTLS through the capture', async () => {
    const bought = await eventually('bookbuyer to buy a book', async () => {
      const r = await kubectl.run(['logs', '-n', NS, 'deployment/bookbuyer', '-c', 'bookbuyer']);
      return /→ 200 bookstore ok \/books\//.test(r.stdout) ? r.stdout : undefined;
    });
    expect(bought).toMatch(/GET http:\/\/10\.96\.250\.14:14001\/books\/ → 200/);
    const sidecar = await kubectl.run(['logs', '-n', NS, 'deployment/bookstore-v1', '-c', 'sidecar']);
    expect(sidecar.stdout).toContain('peer=spiffe://cluster.local/ns/bookstore/sa/bookbuyer');
  }, 60_000);

  it("the guide's namespace-mode commands, pasted into a fresh shell, show what it says", async () => {
    const lines = networkGuide(sb)
      .filter((l) => l.startsWith('  '))
      .map((l) => l.trim().replace(/^\d\.\s+/, ''))
      .filter((l) => /^(kubectl|ip|sudo) /.test(l))
      .map((l) => l.replace(/\s+#.*$/, ''));
    expect(lines.length).toBe(8);
    const runGuide = (): Promise<string> =>
      new Promise<string>((resolve) => {
        const child = spawn('bash', ['-c', lines.join('\n')], {
          env: {
            PATH: `${join(kubectl.bin, '..')}:/usr/sbin:/usr/bin:/sbin:/bin`,
            KUBECONFIG: sb.kubeconfigPath,
            // kubectl's cache goes under $HOME/.kube: the suite's directory, not the repository.
            HOME: dir,
          },
          cwd: dir,
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let text = '';
        child.stdout.on('data', (d: Buffer) => (text += d.toString()));
        child.stderr.on('data', (d: Buffer) => (text += d.toString()));
        child.once('close', () => resolve(text));
      });
    // What the guide shows converges with the pods (a restart, an event not yet recorded): the
    // commands run again until their output says all of it, then each expectation is checked.
    const wanted = [
      'bookstore ok /liveness',
      'statuscode: 503',
      '→ 200',
      'peer=spiffe',
      'gitVersion',
      'rewritten-tcp',
      'optout-tcp',
    ];
    let out = '';
    for (let i = 0; i < 10; i++) {
      out = await runGuide();
      if (wanted.every((w) => out.includes(w)) && /rewritten-tcp\s+2\/3/.test(out)) break;
      await new Promise((r) => setTimeout(r, 1000));
    }
    // The node's curl to the rewritten liveness listener: the app's answer on its original path.
    expect(out).toContain('bookstore ok /liveness');
    expect(out).toMatch(/Liveness probe failed: Get "http:\/\/10\.244\.0\.\d+:14001\/liveness"/);
    expect(out).toMatch(/optout-tcp\s+2\/2\s+Running/);
    expect(out).toMatch(/rewritten-http\s+2\/2\s+Running/);
    expect(out).toMatch(/rewritten-tcp\s+2\/3\s+Running/);
    expect(out).toContain('Readiness probe failed: HTTP probe failed with statuscode: 503');
    expect(out).toMatch(/GET http:\/\/10\.96\.250\.14:14001\/books\/ → 200/);
    expect(out).toContain('peer=spiffe://cluster.local/ns/bookstore/sa/bookbuyer');
    // From inside bookbuyer's namespace, a non-mesh address: through the capture, passed through.
    expect(out).toContain('"gitVersion":"v1.32.0"');
  }, 60_000);
});
