/**
 * The built fsm-injector with --manage-webhook-cert, as the rendered Deployment runs it: it creates
 * the CA and serving certificate in its Secret, makes its webhook trust the CA, writes the pair to
 * its TLS files, and serves HTTPS with it — no cert-manager, no pre-made files.
 */
import https from 'node:https';
import type { TLSSocket } from 'node:tls';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { INJECTOR_TLS_SECRET_NAME } from '../../../pkg/constants/index.js';
import { mutatingWebhookConfiguration } from '../../../pkg/injector/index.js';
import { webhookConfigurationName } from '../../../pkg/deploy/index.js';
import { startTestApiServer, type TestApiServer } from '../../support/apiserver.js';
import { startBinary, type RunningBinary } from '../../support/process.js';

describe('fsm-injector --manage-webhook-cert (built binary)', () => {
  let api: TestApiServer;
  let dir: string;
  let bin: RunningBinary | undefined;

  beforeAll(async () => {
    api = await startTestApiServer();
    dir = await mkdtemp(join(tmpdir(), 'fsm-injector-cert-'));
    await api.server.createObject('namespaces', { metadata: { name: 'fsm-system' } });
    const webhook = mutatingWebhookConfiguration({
      meshName: 'fsm',
      fsmNamespace: 'fsm-system',
      caPem: 'placeholder',
    });
    (webhook.metadata as { name: string }).name = webhookConfigurationName({ meshName: 'fsm' });
    await api.server.createObject('mutatingwebhookconfigurations', webhook);
  });
  afterAll(async () => {
    bin?.kill('SIGKILL');
    await bin?.exited;
    await api.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('creates the Secret, patches the caBundle, writes the files and serves with them', async () => {
    const certFile = join(dir, 'tls.crt');
    const keyFile = join(dir, 'tls.key');
    bin = startBinary('fsm-injector', [
      '--kubeconfig',
      api.kubeconfigPath,
      '--port',
      '0',
      '--metrics-port',
      '0',
      '--bind-address',
      '127.0.0.1',
      '--tls-cert-file',
      certFile,
      '--tls-key-file',
      keyFile,
      '--manage-webhook-cert',
    ]);
    const port = Number((await bin.waitForLog(/webhook serving HTTPS/))['port']);

    const secret = api.server.store.get('secrets', 'fsm-system', INJECTOR_TLS_SECRET_NAME) as
      { data: Record<string, string> } | undefined;
    expect(secret).toBeDefined();
    const cfg = api.server.store.get(
      'admissionregistration.k8s.io/mutatingwebhookconfigurations',
      undefined,
      webhookConfigurationName({ meshName: 'fsm' }),
    ) as unknown as {
      webhooks: { clientConfig: { caBundle: string } }[];
    };
    const caPem = Buffer.from(cfg.webhooks[0]!.clientConfig.caBundle, 'base64').toString();
    const ca = new X509Certificate(caPem);
    const leaf = new X509Certificate(await readFile(certFile, 'utf8'));
    expect(leaf.verify(ca.publicKey)).toBe(true);
    expect(leaf.subjectAltName).toContain('DNS:fsm-injector.fsm-system.svc');

    // The server presents that certificate: a client trusting only the patched caBundle gets through
    // (checking the name the webhook is called by, as kube-apiserver does).
    const status = await new Promise<number>((resolve, reject) =>
      https
        .get(
          {
            host: '127.0.0.1',
            port,
            path: '/healthz',
            ca: caPem,
            servername: 'fsm-injector.fsm-system.svc',
            checkServerIdentity: () => undefined,
          },
          (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          },
        )
        .on('error', reject),
    );
    expect([200, 503]).toContain(status); // 503 only until the namespace informer has synced
    const presented = await new Promise<string>((resolve, reject) => {
      const req = https.get(
        { host: '127.0.0.1', port, path: '/healthz', ca: caPem, checkServerIdentity: () => undefined },
        (res) => {
          const cert = (res.socket as TLSSocket).getPeerX509Certificate();
          res.resume();
          resolve(cert?.fingerprint256 ?? '');
        },
      );
      req.on('error', reject);
    });
    expect(presented).toBe(leaf.fingerprint256);
  });
});
