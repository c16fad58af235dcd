/**
 * The built fsm-injector binary against the sandbox API server, which calls it through a
 * MutatingWebhookConfiguration over HTTPS exactly as kube-apiserver does. Needs `npm run build`.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AdmissionregistrationV1Api, CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import { createCA, type CertificateAuthority } from '../../../pkg/tls/index.js';
import { mutatingWebhookConfiguration } from '../../../pkg/injector/index.js';
import { startTestApiServer, type TestApiServer } from '../../support/apiserver.js';
import { runBinaryToExit, startBinary, type RunningBinary } from '../../support/process.js';
import { httpsRequest } from '../../support/injector-client.js';
import { realisticPod } from '../../support/injector.js';

function meshNamespace(name: string, labels: Record<string, string> = {}) {
  return { metadata: { name, labels } };
}

function podIn(ns: string, name: string, annotations?: Record<string, string>): V1Pod {
  const p = realisticPod(name);
  p.metadata!.namespace = ns;
  if (annotations) p.metadata!.annotations = annotations;
  return p;
}

describe('fsm-injector binary', () => {
  let dir: string;
  let ca: CertificateAuthority;
  let api: TestApiServer;
  let bin: RunningBinary | undefined;
  let core: CoreV1Api;
  let port: number;
  let metricsPort: number;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'fsm-injector-bin-'));
    ca = await createCA('fsm-injector-ca');
    const serving = await ca.issue({
      commonName: 'fsm-injector',
      dnsNames: ['localhost'],
      ipAddresses: ['127.0.0.1'],
    });
    writeFileSync(join(dir, 'tls.crt'), serving.certPem);
    writeFileSync(join(dir, 'tls.key'), serving.keyPem);
    // An API server from before native sidecars (1.28): the injector gives the classic layout these
    // tests assert. The native layout (1.29+) is covered by test/e2e/sandbox/native-sidecar.test.ts.
    api = await startTestApiServer({ version: { major: '1', minor: '28' } });
    api.server.enableWebhookAdmission();
    core = api.kc.makeApiClient(CoreV1Api);
    await core.createNamespace({ body: meshNamespace('app', { 'flomesh.io/monitored-by': 'fsm' }) });
    await core.createNamespace({ body: meshNamespace('plain') });
    // The control plane's own namespace, as in a cluster: the mesh CA Secret lives there.
    await core.createNamespace({ body: { metadata: { name: 'fsm-system' } } });
  });

  afterAll(async () => {
    bin?.kill('SIGKILL');
    if (bin) await bin.exited;
    await api.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('--help lists the flags; bad flags exit 2 naming the flag', async () => {
    const help = await runBinaryToExit('fsm-injector', ['--help']);
    expect(help.code).toBe(0);
    for (const flag of [
      '--port',
      '--tls-cert-file',
      '--tls-key-file',
      '--kubeconfig',
      '--mesh-name',
      '--fsm-namespace',
      '--sidecar-image',
      '--metrics-port',
    ]) {
      expect(help.stdout).toContain(flag);
    }
    const bad = await runBinaryToExit('fsm-injector', [
      '--port',
      '99999',
      '--tls-cert-file',
      'a',
      '--tls-key-file',
      'b',
    ]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--port <port>' argument '99999' is invalid/);
    const missing = await runBinaryToExit('fsm-injector', ['--tls-key-file', 'b']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/--tls-cert-file <path>' not specified/);
  });

  it('a mismatched TLS pair fails the start (exit 1) naming the files', async () => {
    const other = await ca.issue({ commonName: 'x' });
    writeFileSync(join(dir, 'other.key'), other.keyPem);
    const mismatch = await runBinaryToExit('fsm-injector', [
      '--port',
      '0',
      '--metrics-port',
      '0',
      '--kubeconfig',
      api.kubeconfigPath,
      '--tls-cert-file',
      join(dir, 'tls.crt'),
      '--tls-key-file',
      join(dir, 'other.key'),
    ]);
    expect(mismatch.code).toBe(1);
    expect(mismatch.stdout).toMatch(/tls.crt \/ key .*other.key are not a usable pair/);
  });

  describe('serving', () => {
    beforeAll(async () => {
      bin = startBinary('fsm-injector', [
        '--port',
        '0',
        '--metrics-port',
        '0',
        '--bind-address',
        '127.0.0.1',
        '--kubeconfig',
        api.kubeconfigPath,
        '--tls-cert-file',
        join(dir, 'tls.crt'),
        '--tls-key-file',
        join(dir, 'tls.key'),
        '--sidecar-image',
        'envoy:e2e',
      ]);
      port = Number((await bin.waitForLog(/webhook serving HTTPS/))['port']);
      metricsPort = Number((await bin.waitForLog(/metrics serving/))['port']);
      await bin.waitForLog(/namespace informer synced/);
      const health = await httpsRequest({ port, ca: ca.certPem, path: '/healthz' });
      expect(health.status).toBe(200);
      expect(health.body).toBe('Health OK');
      await api.kc.makeApiClient(AdmissionregistrationV1Api).createMutatingWebhookConfiguration({
        body: mutatingWebhookConfiguration({
          meshName: 'fsm',
          fsmNamespace: 'fsm-system',
          caPem: ca.certPem,
          url: `https://127.0.0.1:${port}/mutate-pod-creation`,
        }) as never,
      });
    });

    it('pods created in a monitored namespace come back injected', async () => {
      const created = await core.createNamespacedPod({ namespace: 'app', body: podIn('app', 'web-1') });
      expect(created.spec!.containers.map((c) => c.name)).toEqual([
        'web',
        'api',
        'cache',
        'sidecar',
        'fsm-healthcheck',
      ]);
      expect(created.spec!.containers[3]!.image).toBe('envoy:e2e');
      expect(created.spec!.initContainers!.map((c) => c.name)).toEqual(['fsm-init']);
      expect(created.spec!.containers[0]!.livenessProbe!.httpGet!.port).toBe(15901);
      const uuid = created.metadata!.labels!['flomesh.io/proxy-uuid']!;
      expect(uuid).toMatch(/^[0-9a-f-]{36}$/);
      expect(JSON.parse(created.spec!.containers[3]!.args![1]!).node.id).toBe(uuid);
      const stored = await core.readNamespacedPod({ namespace: 'app', name: 'web-1' });
      expect(stored.metadata!.annotations!['flomesh.io/original-probes']).toBe(
        created.metadata!.annotations!['flomesh.io/original-probes'],
      );
    });

    it('dryRun creates are mutated the same way and store nothing', async () => {
      const dry = await core.createNamespacedPod({
        namespace: 'app',
        body: podIn('app', 'dry-1'),
        dryRun: 'All',
      });
      expect(dry.spec!.containers.map((c) => c.name)).toContain('sidecar');
      await expect(core.readNamespacedPod({ namespace: 'app', name: 'dry-1' })).rejects.toMatchObject({
        code: 404,
      });
    });

    it('pods outside the mesh are not injected', async () => {
      const created = await core.createNamespacedPod({ namespace: 'plain', body: podIn('plain', 'web-2') });
      expect(created.spec!.containers.map((c) => c.name)).toEqual(['web', 'api', 'cache']);
    });

    it('an invalid injection annotation is refused with the webhook message', async () => {
      await expect(
        core.createNamespacedPod({
          namespace: 'app',
          body: podIn('app', 'bad-1', { 'flomesh.io/sidecar-injection': 'sometimes' }),
        }),
      ).rejects.toMatchObject({
        body: expect.stringContaining('flomesh.io/sidecar-injection=\\"sometimes\\" is invalid'),
      });
    });

    it('a namespace added to the mesh later is seen through the informer (no restart)', async () => {
      await core.createNamespace({ body: meshNamespace('late', { 'flomesh.io/monitored-by': 'fsm' }) });
      // The API server's selector already matches; the webhook injects once its informer has the namespace.
      let names: string[] = [];
      while (!names.includes('sidecar')) {
        const dry = await core.createNamespacedPod({
          namespace: 'late',
          body: podIn('late', 'w'),
          dryRun: 'All',
        });
        names = dry.spec!.containers.map((c) => c.name);
        if (!names.includes('sidecar')) await new Promise((r) => setTimeout(r, 50));
      }
      expect(names).toEqual(['web', 'api', 'cache', 'sidecar', 'fsm-healthcheck']);
    });

    it('serves /metrics and stops on SIGTERM with exit 0', async () => {
      const http = await import('node:http');
      const text = await new Promise<string>((resolve, reject) => {
        http
          .get({ host: '127.0.0.1', port: metricsPort, path: '/metrics' }, (res) => {
            let b = '';
            res.on('data', (c) => (b += c));
            res.on('end', () => resolve(b));
          })
          .on('error', reject);
      });
      expect(text).toMatch(/fsm_injector_admissions_total\{result="injected"\} [1-9]/);
      expect(text).toMatch(/fsm_injector_admissions_total\{result="denied"\} 1/);
      bin!.kill('SIGTERM');
      expect(await bin!.exited).toBe(0);
      bin = undefined;
    });
  });
});
