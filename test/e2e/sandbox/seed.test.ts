/**
 * The seed's two pages in `make run`'s sandbox, with the real kubectl (1.32; Debian's 1.20 too when
 * `make tools` could fetch it): pods, probes and logs of the demo; port-forward to a pod, a
 * deployment and a service (the seed's `kubectl port-forward -n bookstore deployment/bookstore-v1
 * 15901` then `curl -i localhost:15901/fsm-liveness-probe`, verbatim), two connections at once and a
 * refused port; the control plane as pods (its health on 9091, `fsm mesh list`, `fsm namespace`),
 * made unready (cut off from the API server) and not live (frozen); `fsm install` / `uninstall`
 * against the sandbox; and the guide's commands in a fresh shell with the machine's Node first.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { CoreV1Api, KubeConfig, PortForward, type V1Pod } from '@kubernetes/client-node';
import { controllerViaPortForward, controllerViaServiceProxy } from '../../../pkg/cli/index.js';
import { silentLogger } from '../../../pkg/logger/index.js';
import { sandboxGuide, startSandbox, waitForDemo, type Sandbox } from '../../../pkg/sandbox/index.js';
import { Kubectl, findKubectl, findKubectl120 } from '../../support/apiserver-kubectl.js';
import { eventually } from '../../support/eventually.js';
import { repoRoot, runBinaryToExit } from '../../support/process.js';

const NS = 'bookstore';
const FSM_NS = 'fsm-system';

let dir: string;
let sb: Sandbox;
let kubectl: Kubectl;
let core: CoreV1Api;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fsm-seed-'));
  const bin = findKubectl();
  if (!bin) throw new Error('kubectl not found: `make tools` installs it (Debian kubernetes-client)');
  const block = 100 + Math.floor(Math.random() * 100);
  sb = await startSandbox({
    dir,
    logger: silentLogger(),
    restartDelayMs: 300,
    podAddressBlocks: { first: block, last: block },
    // A short out-of-sync threshold (an install parameter) keeps the unready demonstration short.
    install: { controllerOutOfSyncThreshold: '2s' },
  });
  kubectl = new Kubectl(bin, sb.kubeconfigPath, dir);
  const kc = new KubeConfig();
  kc.loadFromFile(sb.kubeconfigPath);
  core = kc.makeApiClient(CoreV1Api);
  expect(await waitForDemo(sb.kubeconfigPath, 60_000)).toEqual([]);
}, 120_000);

afterAll(async () => {
  await sb?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function podOf(app: string, namespace = NS): Promise<V1Pod> {
  return eventually(`a running pod of ${app}`, async () => {
    const pods = (await core.listNamespacedPod({ namespace, labelSelector: `app=${app}` })).items;
    return pods.find((p) => p.status?.podIP && !p.metadata?.deletionTimestamp);
  });
}
const nameOf = async (app: string, namespace = NS): Promise<string> =>
  (await podOf(app, namespace)).metadata!.name!;

function get(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

/** A running `kubectl port-forward`; the local ports it printed, in order. */
async function portForward(bin: string, args: string[]) {
  const k = new Kubectl(bin, sb.kubeconfigPath, dir);
  const pf = k.spawn(['port-forward', ...args]);
  const ports = await eventually('kubectl to listen', () => {
    const found = [...pf.output().matchAll(/Forwarding from 127\.0\.0\.1:(\d+) -> (\d+)/g)].map((m) =>
      Number(m[1]),
    );
    return found.length >= args.filter((a) => /^:?\d+(:\d+)?$/.test(a)).length ? found : undefined;
  });
  return { ...pf, ports };
}

const curl = (args: string[]): Promise<{ code: number; stdout: string }> =>
  new Promise((resolve) =>
    execFile('curl', args, { timeout: 10_000 }, (err, stdout) =>
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout }),
    ),
  );

describe("the seed's page 1: probes of meshed pods", () => {
  it('kubectl get pods / get pod <name> / describe pod show READY and the probe failures', async () => {
    const all = await kubectl.run(['get', 'pods', '-n', NS]);
    expect(all.stdout).toMatch(/\nbookstore-v1-[a-z0-9]+-[a-z0-9]{5}\s+2\/2\s+Running/);
    expect(all.stdout).toMatch(/\nbookstore-duo\s+3\/3\s+Running/);
    const v1 = await nameOf('bookstore-v1');
    const one = await kubectl.run(['get', 'pod', '-n', NS, v1]);
    expect(one.stdout).toMatch(
      new RegExp(`^NAME\\s+READY\\s+STATUS\\s+RESTARTS\\s+AGE\\n${v1}\\s+2/2\\s+Running`),
    );
    const broken = await nameOf('bookstore-broken');
    const describe = await eventually('the broken pod killed once', async () => {
      const d = await kubectl.run(['describe', 'pod', '-n', NS, broken]);
      return d.stdout.includes('Killing') ? d : undefined;
    });
    expect(describe.stdout).toContain('Liveness probe failed: HTTP probe failed with statuscode: 503');
    expect(describe.stdout).toContain('Container bookstore failed liveness probe, will be restarted');
  }, 60_000);

  it('kubectl logs: -c, --tail, --timestamps, --since, --since-time, --limit-bytes, --previous, -f, and the errors', async () => {
    const v1 = await nameOf('bookstore-v1');
    const logs = (args: string[]) => kubectl.run(['logs', '-n', NS, ...args]);
    expect((await logs([v1, '-c', 'bookstore'])).stdout).toContain('GET /readiness 200 (kube-probe/1.32)');
    const tail = (await logs([v1, '-c', 'bookstore', '--tail=1'])).stdout;
    expect(tail.trim().split('\n')).toHaveLength(1);
    const stamped = (await logs([v1, '-c', 'bookstore', '--tail=2', '--timestamps'])).stdout
      .trim()
      .split('\n');
    expect(stamped).toHaveLength(2);
    for (const l of stamped) expect(l).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z GET \//);
    expect((await logs([v1, '-c', 'bookstore', '--since=1h'])).stdout).toContain('GET /');
    expect((await logs([v1, '-c', 'bookstore', '--since-time=2099-01-01T00:00:00Z'])).stdout).toBe('');
    expect((await logs([v1, '-c', 'bookstore', '--limit-bytes=10'])).stdout).toHaveLength(10);
    expect((await logs([v1, '-c', 'sidecar'])).stdout).toContain('"message":"listener bound"');
    expect((await logs([v1, '-c', 'fsm-init'])).stdout).toContain('iptables-restore');
    const db = await nameOf('bookstore-db');
    expect((await logs([db, '-c', 'fsm-healthcheck'])).stdout).toContain('fsm-healthcheck');
    // The seed's troubleshooting step: the deployment's pod, default container.
    const byDeploy = await logs(['deployment/bookstore-v1']);
    expect(byDeploy.stdout).toContain('GET /');
    expect(byDeploy.stderr).toContain(
      'Defaulted container "bookstore" out of: bookstore, sidecar, fsm-init (init)',
    );

    const broken = await nameOf('bookstore-broken');
    const previous = await eventually('a previous instance', async () => {
      const r = await logs([broken, '-c', 'bookstore', '--previous']);
      return r.code === 0 ? r : undefined;
    });
    expect(previous.stdout).toContain('GET /fail/healthz 503 (kube-probe/1.32)');

    const follow = kubectl.spawn(['logs', '-n', NS, v1, '-c', 'bookstore', '-f', '--tail=0']);
    try {
      await eventually('a probe request followed', () =>
        follow.output().includes('GET /') ? true : undefined,
      );
    } finally {
      await follow.stop();
    }

    const noPrev = await logs([v1, '-c', 'bookstore', '--previous']);
    expect(noPrev.code).not.toBe(0);
    expect(noPrev.stderr).toContain(`previous terminated container "bookstore" in pod "${v1}" not found`);
    const bad = await logs(['bookstore-duo', '-c', 'nope']);
    expect(bad.stderr).toContain('container nope is not valid for pod bookstore-duo');
    const raw = await kubectl.run(['get', '--raw', `/api/v1/namespaces/${NS}/pods/bookstore-duo/log`]);
    expect(raw.stderr).toContain(
      'a container name must be specified for pod bookstore-duo, choose one of: [front back sidecar] or one of the init containers: [fsm-init]',
    );
  }, 60_000);

  it("the seed's manual check, verbatim: port-forward deployment/bookstore-v1 15901, curl -i localhost:15901/fsm-liveness-probe", async () => {
    const pf = kubectl.spawn(['port-forward', '-n', NS, 'deployment/bookstore-v1', '15901']);
    try {
      await eventually('kubectl to listen', () =>
        pf.output().includes('Forwarding from 127.0.0.1:15901') ? true : undefined,
      );
      const r = await curl(['-i', 'localhost:15901/fsm-liveness-probe']);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^HTTP\/1\.1 200 OK/);
      expect(r.stdout).toContain('bookstore ok /liveness');
    } finally {
      await pf.stop();
    }
  }, 30_000);

  it("port-forward to a pod: two connections at once; a refused port shows kubelet's error (kubectl 1.32 then ends the forward)", async () => {
    const pf = await portForward(kubectl.bin, [
      '-n',
      NS,
      `pod/${await nameOf('bookstore-v1')}`,
      ':14001',
      ':15999',
    ]);
    try {
      const [a, b] = await Promise.all([get(pf.ports[0]!, '/one'), get(pf.ports[0]!, '/two')]);
      expect([a.body, b.body]).toEqual(['bookstore ok /one\n', 'bookstore ok /two\n']);
      await expect(get(pf.ports[1]!, '/')).rejects.toThrow();
      await eventually("kubectl's error", () =>
        /an error occurred forwarding \d+ -> 15999: error forwarding port 15999 to pod/.test(pf.output())
          ? true
          : undefined,
      );
      expect(pf.output()).toContain('dial tcp4');
      expect(pf.output()).toContain('connect: connection refused');
      // Since kubernetes#103526 (1.23) kubectl closes the connection after an error and exits.
      await eventually('kubectl 1.32 ends the forward', () =>
        pf.output().includes('lost connection to pod') ? true : undefined,
      );
    } finally {
      await pf.stop();
    }
  }, 30_000);

  it('port-forward to a service (its port resolved to the pod) and to the controller pod on 9091', async () => {
    const svc = await portForward(kubectl.bin, ['-n', NS, 'service/bookstore-v1', ':14001']);
    try {
      expect(await get(svc.ports[0]!, '/via-service')).toEqual({
        status: 200,
        body: 'bookstore ok /via-service\n',
      });
    } finally {
      await svc.stop();
    }
    const ctl = await portForward(kubectl.bin, [
      '-n',
      FSM_NS,
      await nameOf('fsm-controller', FSM_NS),
      ':9091',
    ]);
    try {
      expect(await get(ctl.ports[0]!, '/health/ready')).toEqual({ status: 200, body: 'Service is ready' });
      expect(await get(ctl.ports[0]!, '/health/alive')).toEqual({ status: 200, body: 'Service is alive' });
    } finally {
      await ctl.stop();
    }
  }, 30_000);

  it("fsm's controller client over a pod port-forward reads /debug as the service proxy does", async () => {
    const kc = new KubeConfig();
    kc.loadFromFile(sb.kubeconfigPath);
    const forwarded = controllerViaPortForward(kc, 'fsm-system');
    const proxied = controllerViaServiceProxy(kc, 'fsm-system');
    const v1 = await nameOf('bookstore-v1');
    const path = `/debug/proxies/${NS}/${v1}`;
    const [a, b] = await Promise.all([forwarded.getJson(path), proxied.getJson(path)]);
    expect(a).toEqual(b);
    expect(JSON.stringify(a)).toContain('liveness_listener');
    await expect(forwarded.getJson(`/debug/proxies/${NS}/no-such-pod`)).rejects.toMatchObject({
      status: 404,
    });
    await expect(controllerViaPortForward(kc, 'no-such-namespace').getJson('/debug/proxies')).rejects.toThrow(
      /service no-such-namespace\/fsm-controller/,
    );
  }, 30_000);

  it("@kubernetes/client-node's PortForward (WebSocket channels): data, and a refused port's error", async () => {
    const kc = new KubeConfig();
    kc.loadFromFile(sb.kubeconfigPath);
    const pf = new PortForward(kc);
    const v1 = await nameOf('bookstore-v1');
    const run = async (port: number) => {
      const out = new PassThrough();
      const err = new PassThrough();
      const input = new PassThrough();
      let text = '';
      let errText = '';
      out.on('data', (d: Buffer) => (text += d.toString()));
      err.on('data', (d: Buffer) => (errText += d.toString()));
      const ws = (await pf.portForward(NS, v1, [port], out, err, input)) as { close(): void };
      input.write('GET /ws HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      return { text: () => text, err: () => errText, close: () => ws.close() };
    };
    const ok = await run(14001);
    await eventually('the answer', () => (ok.text().includes('bookstore ok /ws') ? true : undefined));
    expect(ok.text()).toMatch(/^HTTP\/1\.1 200 OK/);
    ok.close();
    const refused = await run(15999);
    await eventually('the error', () => (refused.err().includes('connection refused') ? true : undefined));
    expect(refused.err()).toContain('error forwarding port 15999 to pod');
    refused.close();
  }, 30_000);
});

describe("the seed's page 2: the control plane's health", () => {
  it('kubectl get/describe/logs of the controller pod; fsm mesh list; fsm namespace list/add/remove', async () => {
    const pods = await kubectl.run(['get', 'pods', '-n', FSM_NS, '-l', 'app=fsm-controller']);
    expect(pods.stdout).toMatch(/\nfsm-controller-[a-z0-9]+-[a-z0-9]{5}\s+1\/1\s+Running\s+0/);
    const ctl = await nameOf('fsm-controller', FSM_NS);
    const describe = await kubectl.run(['describe', 'pod', '-n', FSM_NS, ctl]);
    expect(describe.stdout).toMatch(/Liveness:\s+http-get http:\/\/:9091\/health\/alive /);
    expect(describe.stdout).toMatch(/Readiness:\s+http-get http:\/\/:9091\/health\/ready /);
    expect((await kubectl.run(['logs', '-n', FSM_NS, ctl])).stdout).toContain(
      '"message":"fsm-controller started"',
    );
    const env = { KUBECONFIG: sb.kubeconfigPath };
    const mesh = await runBinaryToExit('fsm', ['mesh', 'list'], env);
    expect(mesh.stdout).toMatch(
      /^MESH NAME\s+MESH NAMESPACE\s+VERSION\s+ADDED NAMESPACES\nfsm\s+fsm-system\s+\S+\s+bookstore\n/,
    );
    const list = await runBinaryToExit('fsm', ['namespace', 'list'], env);
    expect(list.stdout).toMatch(/\nbookstore\s+fsm\s+enabled\n/);
    await core.createNamespace({ body: { metadata: { name: 'shop' } } });
    const add = await runBinaryToExit('fsm', ['namespace', 'add', 'shop'], env);
    expect(add).toMatchObject({ code: 0, stdout: 'Namespace [shop] successfully added to mesh [fsm]\n' });
    const remove = await runBinaryToExit('fsm', ['namespace', 'remove', 'shop'], env);
    expect(remove).toMatchObject({
      code: 0,
      stdout: 'Namespace [shop] successfully removed from mesh [fsm]\n',
    });
  }, 30_000);

  it('cut off from the API server the controller turns 0/1 with a 503 readiness failure; frozen, the injector is killed and restarted', async () => {
    const ctl = await nameOf('fsm-controller', FSM_NS);
    const inj = await nameOf('fsm-injector', FSM_NS);
    const annotate = (pod: string, a: string) => kubectl.run(['annotate', 'pod', '-n', FSM_NS, pod, a]);
    expect((await annotate(ctl, 'sandbox.flomesh.io/cut-off-apiserver=true')).code).toBe(0);
    expect((await annotate(inj, 'sandbox.flomesh.io/freeze=*')).code).toBe(0);
    await eventually(
      'the controller 0/1',
      async () => {
        const r = await kubectl.run(['get', 'pods', '-n', FSM_NS, '-l', 'app=fsm-controller']);
        return /\s0\/1\s+Running/.test(r.stdout) ? true : undefined;
      },
      60_000,
      500,
    );
    const describe = await kubectl.run(['describe', 'pod', '-n', FSM_NS, ctl]);
    expect(describe.stdout).toContain('Readiness probe failed: HTTP probe failed with statuscode: 503');
    expect((await annotate(ctl, 'sandbox.flomesh.io/cut-off-apiserver-')).code).toBe(0);

    const restarted = await eventually(
      'the frozen injector killed and restarted',
      async () => {
        const p = await core.readNamespacedPod({ name: inj, namespace: FSM_NS });
        return (p.status?.containerStatuses?.[0]?.restartCount ?? 0) >= 1 ? p : undefined;
      },
      80_000,
      500,
    );
    expect(restarted.status!.containerStatuses![0]!.lastState?.terminated?.exitCode).toBe(137);
    const events = await kubectl.run(['describe', 'pod', '-n', FSM_NS, inj]);
    expect(events.stdout).toContain('Liveness probe failed: Get "https://');
    expect(events.stdout).toContain('Container fsm-injector failed liveness probe, will be restarted');
    const previous = await kubectl.run(['logs', '-n', FSM_NS, inj, '--previous']);
    expect(previous.stdout).toContain('webhook serving HTTPS');
    await eventually(
      'the controller Ready again',
      async () => {
        const r = await kubectl.run(['get', 'pods', '-n', FSM_NS, '-l', 'app=fsm-controller']);
        return /\s1\/1\s+Running/.test(r.stdout) ? true : undefined;
      },
      60_000,
      500,
    );
  }, 150_000);

  it('fsm install against the sandbox changes nothing; uninstall leaves a cluster without fsm; install brings it back', async () => {
    const env = { KUBECONFIG: sb.kubeconfigPath };
    // With the sandbox's install parameter (a short out-of-sync threshold), nothing changes.
    const again = await runBinaryToExit('fsm', ['install', '--controller-out-of-sync-threshold', '2s'], env);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/: 0 created, 0 configured, \d+ unchanged, 0 skipped, 0 deleted\n$/);
    const un = await runBinaryToExit('fsm', ['uninstall'], env);
    expect(un.code).toBe(0);
    await eventually('no control-plane pods', async () =>
      (await kubectl.run(['get', 'pods', '-n', FSM_NS])).stderr.includes('No resources found') ||
      (await kubectl.run(['get', 'ns', FSM_NS])).code !== 0
        ? true
        : undefined,
    );
    expect((await runBinaryToExit('fsm', ['mesh', 'list'], env)).stdout).toBe(
      'No fsm mesh control planes found\n',
    );
    // The cluster runs on: the demo's pods are still there and ready.
    expect((await kubectl.run(['get', 'pods', '-n', NS])).stdout).toMatch(
      /bookstore-v1-\S+\s+2\/2\s+Running/,
    );
    const back = await runBinaryToExit('fsm', ['install', '--controller-out-of-sync-threshold', '2s'], env);
    expect(back.code).toBe(0);
    expect(back.stdout).toMatch(/: \d+ created, 0 configured, 0 unchanged/);
    await sb.waitForControlPlane(60_000);
    // New pods are injected again by the new injector (its new CA in the webhook's caBundle).
    const scaled = await kubectl.run(['scale', '-n', NS, 'deployment/bookstore-v1', '--replicas=2']);
    expect(scaled.code).toBe(0);
    await eventually(
      'a second injected bookstore-v1 pod, Ready',
      async () => {
        const r = await kubectl.run(['get', 'pods', '-n', NS, '-l', 'app=bookstore-v1']);
        return (r.stdout.match(/\s2\/2\s+Running/g) ?? []).length === 2 ? true : undefined;
      },
      60_000,
      250,
    );
  }, 150_000);
});

const kubectl120 = findKubectl120(repoRoot());
(kubectl120 ? describe : describe.skip)("Debian's kubectl 1.20 (SPDY only)", () => {
  it('get, logs, and a port-forward that survives a refused port', async () => {
    const k = new Kubectl(kubectl120!, sb.kubeconfigPath, dir);
    expect((await k.run(['get', 'pods', '-n', NS])).stdout).toMatch(/bookstore-v1-\S+\s+2\/2\s+Running/);
    const v1 = await nameOf('bookstore-v1');
    expect((await k.run(['logs', '-n', NS, v1, '-c', 'bookstore', '--tail=1'])).stdout).toContain('GET /');
    const pf = await portForward(kubectl120!, ['-n', NS, `pod/${v1}`, ':14001', ':15999']);
    try {
      await expect(get(pf.ports[1]!, '/')).rejects.toThrow();
      await eventually("kubectl's error", () =>
        /an error occurred forwarding \d+ -> 15999: error forwarding port 15999 to pod/.test(pf.output())
          ? true
          : undefined,
      );
      // The forward survives: the next connection goes through.
      expect(await get(pf.ports[0]!, '/after')).toEqual({ status: 200, body: 'bookstore ok /after\n' });
      const [a, b] = await Promise.all([get(pf.ports[0]!, '/a'), get(pf.ports[0]!, '/b')]);
      expect([a.status, b.status]).toEqual([200, 200]);
    } finally {
      await pf.stop();
    }
  }, 30_000);
});

describe("the guide's commands", () => {
  it("run in a fresh shell with the machine's Node first on PATH (the control-plane breakers are tested above)", async () => {
    const lines = sandboxGuide(sb, 0)
      .split('\n')
      // The guide's commands are its indented lines.
      .filter((l) => l.startsWith('  '))
      .map((l) => l.trim())
      .filter((l) => /^(export|kubectl|fsm|curl) /.test(l) && !l.includes('annotate'))
      .map((l) => l.replace(/\s+#.*$/, ''));
    expect(lines.length).toBeGreaterThan(10);
    // Each command's exit status is recorded; background forwards get a moment to listen.
    const script = [
      ...lines.flatMap((l, i) => (l.endsWith('&') ? [l, 'sleep 2'] : [l, `printf '\\n__rc %s ${i}\\n' $?`])),
      'kill $(jobs -p) 2>/dev/null || true',
    ].join('\n');
    const r = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const child = spawn('bash', ['-c', script], {
        env: { PATH: '/usr/bin:/bin', HOME: dir },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (out += d.toString()));
      child.on('close', (code) => resolve({ code, out }));
    });
    const failed = [...r.out.matchAll(/^__rc (\d+) (\d+)$/gm)]
      .map((m) => ({ code: Number(m[1]), command: lines[Number(m[2])]! }))
      // `fsm check probes` on the pod that fails on purpose reports the failing check: exit 1.
      .filter((x) => x.code !== 0 && !(x.code === 1 && x.command.startsWith('fsm check probes')));
    expect(failed).toEqual([]);
    expect({ ran: [...r.out.matchAll(/^__rc /gm)].length, out: r.out }).toMatchObject({
      ran: lines.filter((l) => !l.endsWith('&')).length,
    });
    expect(r.out).not.toContain('needs Node');
    expect(r.out).not.toContain('Error:');
    expect(r.out).toContain('Service is ready');
    expect(r.out).toContain('HTTP/1.1 200 OK');
    expect(r.out).toMatch(/fsm\s+fsm-system/);
  }, 90_000);
});
