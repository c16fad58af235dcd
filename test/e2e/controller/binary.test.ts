/** The :9091 health contract on the built fsm-controller binary. */
import net from 'node:net';
import { CoreV1Api } from '@kubernetes/client-node';
import { LISTENER_TYPE_URL } from '../../../pkg/envoy/index.js';
import { bootstrapAdsClient, meshAuthorityOf } from '../../support/mesh-identity.js';
import { startTestApiServer, type TestApiServer } from '../../support/apiserver.js';
import { closedPort, httpRequest } from '../../support/net.js';
import { startControllerBinary } from '../../support/controller-binary.js';
import { runBinaryToExit, type RunningBinary } from '../../support/process.js';

const BIN = 'fsm-controller';

describe('fsm-controller binary: health on :9091', () => {
  let api: TestApiServer;
  const running: RunningBinary[] = [];

  beforeAll(async () => {
    api = await startTestApiServer();
    // The control plane's own namespace, as in a cluster: the mesh CA Secret lives there.
    await api.kc.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: 'fsm-system' } } });
  });
  afterEach(async () => {
    for (const b of running.splice(0)) {
      b.kill('SIGKILL');
      await b.exited;
    }
  });
  afterAll(() => api.stop());

  /** Starts the binary on free ports (port 0) and reads the ports it bound from its started line. */
  async function start(extra: string[] = []) {
    const started = await startControllerBinary(api.kubeconfigPath, extra);
    running.push(started.bin);
    return started;
  }

  it('never answers on :9091 when the ADS server cannot bind, and exits 1 naming the port', async () => {
    const blocker = net.createServer();
    const adsPort = await closedPort();
    await new Promise<void>((r) => blocker.listen(adsPort, '127.0.0.1', r));
    const healthPort = await closedPort();
    try {
      const r = await runBinaryToExit(BIN, [
        '--kubeconfig',
        api.kubeconfigPath,
        '--ads-port',
        String(adsPort),
        '--health-port',
        String(healthPort),
        '--bind-address',
        '127.0.0.1',
      ]);
      expect(r.code).toBe(1);
      expect(r.stdout).toContain(`ADS server cannot listen on 127.0.0.1:${adsPort}`);
      await expect(httpRequest(`http://127.0.0.1:${healthPort}/health/alive`)).rejects.toThrow(
        /ECONNREFUSED/,
      );
    } finally {
      blocker.close();
    }
  });

  it('alive once the ADS serves, ready once informers synced; SIGTERM: ready 503 at once, exit 0', async () => {
    // A pod whose sidecar will hold a stream open (mTLS with its bootstrap credential).
    const core = api.kc.makeApiClient(CoreV1Api);
    await core.createNamespace({ body: { metadata: { name: 'app' } } });
    await core.createNamespacedPod({
      namespace: 'app',
      body: {
        metadata: { name: 'some-pod', labels: { 'flomesh.io/proxy-uuid': 'some-proxy' } },
        spec: { containers: [{ name: 'app', image: 'x' }] },
      },
    });
    const { bin, adsPort, base } = await start(['--verbosity', 'debug']);
    expect(await httpRequest(base + '/health/alive')).toMatchObject({
      status: 200,
      body: 'Service is alive',
    });
    const ready = async () => (await httpRequest(base + '/health/ready')).status;
    for (let i = 0; i < 100 && (await ready()) !== 200; i++) await new Promise((r) => setTimeout(r, 50));
    expect(await httpRequest(base + '/health/ready')).toMatchObject({
      status: 200,
      body: 'Service is ready',
    });
    expect((await httpRequest(base + '/metrics')).body).toContain(
      'fsm_controller_reconcile_duration_seconds',
    );
    expect(JSON.parse((await httpRequest(base + '/version')).body).version).toMatch(/^\d+\.\d+\.\d+/);

    // An open sidecar stream keeps the drain going for its grace period: readiness must say so.
    const client = await bootstrapAdsClient(`127.0.0.1:${adsPort}`, await meshAuthorityOf(api.kc), {
      proxyUuid: 'some-proxy',
      namespace: 'app',
      serviceAccount: 'default',
    });
    const stream = client.sotw();
    stream.send({ node: { id: 'some-proxy' }, type_url: LISTENER_TYPE_URL });
    await new Promise((r) => setTimeout(r, 200));
    const t0 = Date.now();
    bin.kill('SIGTERM');
    await bin.waitForLog(/received SIGTERM/);
    const during = await httpRequest(base + '/health/ready');
    expect(during).toMatchObject({ status: 503, body: 'Service is not ready: ADS server is draining' });
    expect((await httpRequest(base + '/health/alive')).status).toBe(200);
    expect(await bin.exited).toBe(0);
    expect(Date.now() - t0).toBeLessThan(5000);
    expect((await stream.status()).code).toBe(14); // UNAVAILABLE: reconnect elsewhere
    client.client.close();
  });

  it('readiness names an informer that cannot sync (API server refuses the list)', async () => {
    api.server.failNext({ verb: 'list', resource: 'pods', code: 500, count: 10_000 });
    try {
      const { base } = await start();
      let body = '';
      for (let i = 0; i < 100; i++) {
        const r = await httpRequest(base + '/health/ready');
        body = r.body;
        // Namespaces sync; pods never can.
        if (body === 'Service is not ready: informer pods: not synced yet') break;
        await new Promise((res) => setTimeout(res, 50));
      }
      expect(body).toBe('Service is not ready: informer pods: not synced yet');
      expect((await httpRequest(base + '/health/alive')).status).toBe(200);
    } finally {
      api.server.faults.clear();
    }
  });

  it('exits 1 with a clear message when no kubeconfig works', async () => {
    const r = await runBinaryToExit(
      BIN,
      ['--kubeconfig', '/nonexistent/kubeconfig', '--ads-port', '0', '--health-port', '0'],
      {
        KUBECONFIG: '',
      },
    );
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/kubeconfig/i);
    expect(r.stdout).toContain('/nonexistent/kubeconfig');
  });

  it('exits 2 naming a bad flag value', async () => {
    const r = await runBinaryToExit(BIN, ['--out-of-sync-threshold', 'soon']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/option '--out-of-sync-threshold <duration>' argument 'soon' is invalid/);
  });
});
