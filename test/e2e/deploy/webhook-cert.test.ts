/**
 * The injector's webhook certificate without cert-manager, against our API server: created into the
 * Secret with the caBundle patched, reused on restart, rotated before expiry, and a real TLS client
 * trusting the caBundle accepts the serving certificate.
 */
import { connect, createServer, type Server } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { AdmissionregistrationV1Api, CoreV1Api } from '@kubernetes/client-node';
import {
  defaultInstallParams,
  ensureWebhookCert,
  injectorDnsNames,
  renderWebhookConfiguration,
  WebhookCertManager,
  type InjectorTls,
  type WebhookCertOptions,
} from '../../../pkg/deploy/index.js';
import { INJECTOR_TLS_SECRET_NAME } from '../../../pkg/constants/index.js';
import { silentLogger } from '../../../pkg/logger/index.js';
import { startTestApiServer, type TestApiServer } from '../../support/apiserver.js';

const DAY = 24 * 3600 * 1000;
const P = defaultInstallParams({ meshName: 'cert', fsmNamespace: 'cert-system' });
let h: TestApiServer;
let core: CoreV1Api;
let admission: AdmissionregistrationV1Api;
let opts: WebhookCertOptions;

beforeAll(async () => {
  h = await startTestApiServer();
  core = h.kc.makeApiClient(CoreV1Api);
  admission = h.kc.makeApiClient(AdmissionregistrationV1Api);
  await core.createNamespace({ body: { metadata: { name: P.fsmNamespace } } });
  // The configuration as `fsm install` renders it, with an unrelated CA in caBundle.
  const cfg = renderWebhookConfiguration(P, 'not the right CA\n');
  await admission.createMutatingWebhookConfiguration({ body: cfg });
  opts = {
    kc: h.kc,
    namespace: P.fsmNamespace,
    secretName: INJECTOR_TLS_SECRET_NAME,
    webhookName: cfg.metadata!.name!,
    dnsNames: injectorDnsNames(P),
    logger: silentLogger(),
  };
});
afterAll(async () => {
  await h.stop();
});

async function caBundle(): Promise<string> {
  const cfg = await admission.readMutatingWebhookConfiguration({ name: opts.webhookName });
  return Buffer.from(cfg.webhooks![0]!.clientConfig.caBundle!, 'base64').toString();
}

/** A TLS handshake to a server using `tls`, verified against `caPem` for the Service name. */
async function handshake(tls: InjectorTls, caPem: string): Promise<boolean> {
  const server: Server = createServer({ cert: tls.certPem, key: tls.keyPem }, (s) => s.end());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const { port } = server.address() as AddressInfo;
    return await new Promise<boolean>((resolve) => {
      const s = connect({ host: '127.0.0.1', port, ca: caPem, servername: injectorDnsNames(P)[2] }, () => {
        resolve(s.authorized);
        s.end();
      });
      s.on('error', () => resolve(false));
    });
  } finally {
    await new Promise<void>((r) => server.close(() => r()));
  }
}

it('first start: issues the certificate into the Secret and patches the caBundle', async () => {
  const r = await ensureWebhookCert(opts);
  expect(r.issued).toBe(true);
  expect(r.caBundlePatched).toBe(true);
  const secret = await core.readNamespacedSecret({
    name: INJECTOR_TLS_SECRET_NAME,
    namespace: P.fsmNamespace,
  });
  expect(secret.type).toBe('kubernetes.io/tls');
  expect(Buffer.from(secret.data!['tls.crt']!, 'base64').toString()).toBe(r.tls.certPem);
  expect(await caBundle()).toBe(r.tls.caPem);
  expect(await handshake(r.tls, await caBundle())).toBe(true);
});

it('restart: reuses the Secret, writes nothing', async () => {
  const before = await core.readNamespacedSecret({
    name: INJECTOR_TLS_SECRET_NAME,
    namespace: P.fsmNamespace,
  });
  const r = await ensureWebhookCert(opts);
  expect(r).toEqual(expect.objectContaining({ issued: false, caBundlePatched: false }));
  const after = await core.readNamespacedSecret({
    name: INJECTOR_TLS_SECRET_NAME,
    namespace: P.fsmNamespace,
  });
  expect(after.metadata!.resourceVersion).toBe(before.metadata!.resourceVersion);
});

it('rotation: a certificate inside the renewal window is replaced, with the caBundle', async () => {
  const first = await ensureWebhookCert(opts);
  // 400 days later the 365-day certificate has expired (and is well inside the 30-day window).
  const later = { ...opts, now: () => Date.now() + 400 * DAY };
  const r = await ensureWebhookCert(later);
  expect(r.issued).toBe(true);
  expect(r.caBundlePatched).toBe(true);
  expect(r.tls.certPem).not.toBe(first.tls.certPem);
  expect(await caBundle()).toBe(r.tls.caPem);
  expect(await handshake(first.tls, await caBundle())).toBe(false);
  expect(await handshake(r.tls, await caBundle())).toBe(true);
});

it('the manager hands over the certificate at start and again only after a rotation', async () => {
  let clock = Date.now();
  const seen: InjectorTls[] = [];
  const m = new WebhookCertManager({ ...opts, now: () => clock }, (tls) => void seen.push(tls));
  try {
    const started = await m.start();
    expect(seen).toEqual([started]);
    expect(await m.check()).toBe(false);
    clock += 400 * DAY;
    expect(await m.check()).toBe(true);
    expect(seen).toHaveLength(2);
    expect(await caBundle()).toBe(seen[1]!.caPem);
  } finally {
    m.stop();
  }
});

it('a missing webhook configuration is an error naming it', async () => {
  await expect(ensureWebhookCert({ ...opts, webhookName: 'fsm-injector-nope' })).rejects.toThrow(
    'cannot read MutatingWebhookConfiguration fsm-injector-nope',
  );
});
