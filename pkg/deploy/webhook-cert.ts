/**
 * Webhook TLS without cert-manager, from inside the injector: create-or-load the CA and serving
 * certificate in the injector's Secret, put the CA into its MutatingWebhookConfiguration's caBundle,
 * and check again periodically so that a certificate is re-issued before it expires. Several
 * replicas may race: a 409 on create/update means another replica won, and its Secret is used.
 * Uses only what the injector's Role and ClusterRole grant (get/create/update its Secret, get/patch
 * its webhook configuration).
 */
import {
  AdmissionregistrationV1Api,
  CoreV1Api,
  PatchStrategy,
  setHeaderOptions,
  type KubeConfig,
  type V1Secret,
} from '@kubernetes/client-node';
import {
  INJECTOR_CERT_RENEW_BEFORE_MS,
  INJECTOR_CERT_VALIDITY_DAYS,
  TLS_CA_KEY,
  TLS_CERT_KEY,
  TLS_KEY_KEY,
} from '../constants/index.js';
import { errorMessage, type Logger } from '../logger/index.js';
import { createCA } from '../tls/index.js';
import { reusableInjectorTls, type InjectorTls } from './tls.js';

export interface WebhookCertOptions {
  kc: KubeConfig;
  namespace: string;
  secretName: string;
  webhookName: string;
  /** SANs of the serving certificate; the first is also its common name. */
  dnsNames: string[];
  logger: Logger;
  renewBeforeMs?: number;
  validityDays?: number;
  now?: () => number;
}

export interface WebhookCertResult {
  tls: InjectorTls;
  /** A new certificate was issued (first start or rotation). */
  issued: boolean;
  /** The webhook configuration's caBundle was changed. */
  caBundlePatched: boolean;
}

function code(e: unknown): number | undefined {
  const c = (e as { code?: unknown }).code;
  return typeof c === 'number' ? c : undefined;
}

function secretData(tls: InjectorTls): Record<string, string> {
  const b64 = (s: string): string => Buffer.from(s).toString('base64');
  return { [TLS_CERT_KEY]: b64(tls.certPem), [TLS_KEY_KEY]: b64(tls.keyPem), [TLS_CA_KEY]: b64(tls.caPem) };
}

async function issue(opts: WebhookCertOptions): Promise<InjectorTls> {
  const days = opts.validityDays ?? INJECTOR_CERT_VALIDITY_DAYS;
  const ca = await createCA(`${opts.webhookName} CA`, days);
  const serving = await ca.issue({
    commonName: opts.dnsNames[0]!,
    dnsNames: opts.dnsNames,
    validityDays: days,
  });
  return { caPem: ca.certPem, certPem: serving.certPem, keyPem: serving.keyPem };
}

async function readSecret(core: CoreV1Api, opts: WebhookCertOptions): Promise<V1Secret | undefined> {
  try {
    return await core.readNamespacedSecret({ name: opts.secretName, namespace: opts.namespace });
  } catch (e) {
    if (code(e) === 404) return undefined;
    throw e;
  }
}

function reusable(secret: V1Secret | undefined, opts: WebhookCertOptions): InjectorTls | undefined {
  const now = (opts.now ?? Date.now)();
  // reusableInjectorTls renews at INJECTOR_CERT_RENEW_BEFORE_MS; shift the clock for another window.
  const shift = (opts.renewBeforeMs ?? INJECTOR_CERT_RENEW_BEFORE_MS) - INJECTOR_CERT_RENEW_BEFORE_MS;
  return reusableInjectorTls(secret, now + shift);
}

/** The Secret's certificate when still good, else a new one stored in the Secret (create or update). */
async function ensureSecret(
  core: CoreV1Api,
  opts: WebhookCertOptions,
): Promise<{ tls: InjectorTls; issued: boolean }> {
  const where = `Secret ${opts.namespace}/${opts.secretName}`;
  for (let attempt = 0; attempt < 3; attempt++) {
    const live = await readSecret(core, opts);
    const kept = reusable(live, opts);
    if (kept) return { tls: kept, issued: false };
    const tls = await issue(opts);
    try {
      if (live === undefined) {
        await core.createNamespacedSecret({
          namespace: opts.namespace,
          body: {
            apiVersion: 'v1',
            kind: 'Secret',
            type: 'kubernetes.io/tls',
            metadata: { name: opts.secretName, namespace: opts.namespace },
            data: secretData(tls),
          },
        });
      } else {
        // update carries the resourceVersion read above: a concurrent writer makes it fail with 409.
        await core.replaceNamespacedSecret({
          name: opts.secretName,
          namespace: opts.namespace,
          body: { ...live, data: { ...live.data, ...secretData(tls) } },
        });
      }
      opts.logger.info(`issued the webhook serving certificate into ${where}`, { dnsNames: opts.dnsNames });
      return { tls, issued: true };
    } catch (e) {
      if (code(e) !== 409) throw new Error(`cannot write ${where}: ${errorMessage(e)}`);
      opts.logger.debug(`${where} was written concurrently: reading it again`);
    }
  }
  throw new Error(`cannot write ${where}: conflicting writers (3 attempts)`);
}

/** Sets caBundle of every webhook of the configuration to the CA (JSON patch, guarded by `test`). */
async function ensureCaBundle(api: AdmissionregistrationV1Api, opts: WebhookCertOptions, caPem: string) {
  const caBundle = Buffer.from(caPem).toString('base64');
  let cfg;
  try {
    cfg = await api.readMutatingWebhookConfiguration({ name: opts.webhookName });
  } catch (e) {
    throw new Error(
      `cannot read MutatingWebhookConfiguration ${opts.webhookName} to set its caBundle: ${errorMessage(e)}`,
    );
  }
  const ops: object[] = [];
  (cfg.webhooks ?? []).forEach((w, i) => {
    if (w.clientConfig.caBundle === caBundle) return;
    ops.push({ op: 'test', path: `/webhooks/${i}/name`, value: w.name });
    ops.push({ op: 'add', path: `/webhooks/${i}/clientConfig/caBundle`, value: caBundle });
  });
  if (ops.length === 0) return false;
  await api.patchMutatingWebhookConfiguration(
    { name: opts.webhookName, body: ops },
    setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
  );
  opts.logger.info(`set the caBundle of MutatingWebhookConfiguration ${opts.webhookName}`);
  return true;
}

/** Once: create-or-load the certificate and make the webhook trust its CA. */
export async function ensureWebhookCert(opts: WebhookCertOptions): Promise<WebhookCertResult> {
  const core = opts.kc.makeApiClient(CoreV1Api);
  const admission = opts.kc.makeApiClient(AdmissionregistrationV1Api);
  const { tls, issued } = await ensureSecret(core, opts);
  const caBundlePatched = await ensureCaBundle(admission, opts, tls.caPem);
  return { tls, issued, caBundlePatched };
}

/**
 * Runs ensureWebhookCert at start and every `intervalMs` after; `onCert` receives the certificate
 * at start and after each rotation (the injector writes it where its server reloads from).
 * Failures of a periodic check are logged and retried at the next interval.
 */
export class WebhookCertManager {
  private timer: NodeJS.Timeout | undefined;
  private current: InjectorTls | undefined;

  constructor(
    private readonly opts: WebhookCertOptions,
    private readonly onCert: (tls: InjectorTls) => void | Promise<void>,
    private readonly intervalMs = 3_600_000,
  ) {}

  /** One check; resolves with true when the certificate in use changed. */
  async check(): Promise<boolean> {
    const r = await ensureWebhookCert(this.opts);
    if (this.current !== undefined && this.current.certPem === r.tls.certPem) return false;
    this.current = r.tls;
    await this.onCert(r.tls);
    return true;
  }

  /** First check (failures reject: the injector cannot serve without a certificate), then the timer. */
  async start(): Promise<InjectorTls> {
    await this.check();
    this.timer = setInterval(() => {
      this.check().catch((e: unknown) =>
        this.opts.logger.warn(`webhook certificate check failed: ${errorMessage(e)}`),
      );
    }, this.intervalMs);
    this.timer.unref();
    return this.current!;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
