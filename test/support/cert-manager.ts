/**
 * Test helper: cert-manager's part, for an API server that has no cert-manager. The kinds are served
 * as if cert-manager's CRDs were installed (CERT_MANAGER_RESOURCES); `reconcileCertManager` then does,
 * in one pass, what cert-manager's controllers would do with what `fsm install --cert-manager` applied,
 * reading only the fields cert-manager documents:
 * - a Certificate whose issuerRef names a selfSigned Issuer (isCA) → a self-signed CA in its
 *   spec.secretName (tls.crt, tls.key, ca.crt = the CA itself);
 * - a Certificate whose issuerRef names a `ca` Issuer or ClusterIssuer → signed by the CA in that
 *   issuer's spec.ca.secretName, for spec.dnsNames, ca.crt = that CA;
 * - every Secret written carries the Certificate's spec.secretTemplate labels;
 * - the CA injector: each MutatingWebhookConfiguration annotated cert-manager.io/inject-ca-from
 *   `<ns>/<certificate>` gets that Certificate's Secret's ca.crt as every webhook's caBundle.
 * It does not stand in for cert-manager's validation: the rendered objects are validated against
 * cert-manager's schemas (@kubernetes-models/cert-manager) in test/unit/deploy.
 */
import {
  AdmissionregistrationV1Api,
  CoreV1Api,
  KubernetesObjectApi,
  PatchStrategy,
  setHeaderOptions,
  type KubeConfig,
  type KubernetesObject,
  type V1Secret,
} from '@kubernetes/client-node';
import {
  CERT_MANAGER_API_VERSION,
  CERT_MANAGER_INJECT_CA_FROM_ANNOTATION,
  TLS_CA_KEY,
  TLS_CERT_KEY,
  TLS_KEY_KEY,
} from '../../pkg/constants/index.js';
import { customResource, RESOURCES } from '../../pkg/sandbox/apiserver/index.js';
import { createCA, loadCA } from '../../pkg/tls/index.js';

/** The default kinds plus cert-manager.io/v1 Certificate, Issuer and ClusterIssuer. */
export const CERT_MANAGER_RESOURCES = [
  ...RESOURCES,
  customResource('cert-manager.io', 'v1', 'Certificate', { shortNames: ['cert', 'certs'] }),
  customResource('cert-manager.io', 'v1', 'Issuer'),
  customResource('cert-manager.io', 'v1', 'ClusterIssuer', { namespaced: false }),
];

interface IssuerRef {
  kind?: string;
  name: string;
}
interface CertificateSpec {
  secretName: string;
  isCA?: boolean;
  commonName?: string;
  dnsNames?: string[];
  issuerRef: IssuerRef;
  secretTemplate?: { labels?: Record<string, string> };
}
type Certificate = KubernetesObject & { spec: CertificateSpec };
type Issuer = KubernetesObject & { spec: { selfSigned?: object; ca?: { secretName: string } } };

function code(e: unknown): number | undefined {
  const c = (e as { code?: unknown }).code;
  return typeof c === 'number' ? c : undefined;
}

async function readSecret(core: CoreV1Api, namespace: string, name: string): Promise<V1Secret | undefined> {
  try {
    return await core.readNamespacedSecret({ name, namespace });
  } catch (e) {
    if (code(e) === 404) return undefined;
    throw e;
  }
}

const text = (s: V1Secret, key: string): string => Buffer.from(s.data![key]!, 'base64').toString('utf8');
const b64 = (s: string): string => Buffer.from(s).toString('base64');

export interface ReconcileResult {
  /** `<ns>/<secret>` of each Secret written. */
  issued: string[];
  /** Webhook configurations whose caBundle was set. */
  injected: string[];
}

/**
 * Issues every Certificate of `namespace` that has no Secret yet (or all of them with `reissue`),
 * in as many rounds as the issuer chain needs, then injects CA bundles.
 */
export async function reconcileCertManager(
  kc: KubeConfig,
  namespace: string,
  opts: { reissue?: boolean } = {},
): Promise<ReconcileResult> {
  const objects = KubernetesObjectApi.makeApiClient(kc);
  const core = kc.makeApiClient(CoreV1Api);
  const result: ReconcileResult = { issued: [], injected: [] };
  const certs = (await objects.list(CERT_MANAGER_API_VERSION, 'Certificate', namespace))
    .items as Certificate[];
  const pending = [];
  for (const c of certs) {
    if (opts.reissue || !(await readSecret(core, namespace, c.spec.secretName))) pending.push(c);
  }
  for (let progress = true; pending.length > 0 && progress;) {
    progress = false;
    for (const c of [...pending]) {
      const ref = c.spec.issuerRef;
      const kind = ref.kind ?? 'Issuer';
      const issuer = (await objects
        .read({
          apiVersion: CERT_MANAGER_API_VERSION,
          kind,
          metadata: { name: ref.name, ...(kind === 'Issuer' ? { namespace } : {}) },
        })
        .catch(() => undefined)) as Issuer | undefined;
      if (!issuer) continue; // not Ready: cert-manager would wait too
      let pair: { certPem: string; keyPem: string; caPem: string };
      if (issuer.spec.selfSigned) {
        if (!c.spec.isCA)
          throw new Error(`stand-in: selfSigned issues CA certificates only (${c.metadata?.name})`);
        const ca = await createCA(c.spec.commonName ?? c.metadata!.name!);
        pair = { certPem: ca.certPem, keyPem: ca.keyPem, caPem: ca.certPem };
      } else if (issuer.spec.ca) {
        const caNs = kind === 'Issuer' ? namespace : (issuer.metadata?.namespace ?? namespace);
        const caSecret = await readSecret(core, caNs, issuer.spec.ca.secretName);
        if (!caSecret) continue; // the CA is not issued yet
        const ca = await loadCA({
          certPem: text(caSecret, TLS_CERT_KEY),
          keyPem: text(caSecret, TLS_KEY_KEY),
        });
        const names = c.spec.dnsNames ?? [];
        const serving = await ca.issue({ commonName: c.spec.commonName ?? names[0]!, dnsNames: names });
        pair = { ...serving, caPem: ca.certPem };
      } else {
        throw new Error(`stand-in: issuer ${ref.name} is neither selfSigned nor ca`);
      }
      await writeSecret(core, namespace, c.spec.secretName, pair, c.spec.secretTemplate?.labels ?? {});
      result.issued.push(`${namespace}/${c.spec.secretName}`);
      pending.splice(pending.indexOf(c), 1);
      progress = true;
    }
  }
  if (pending.length > 0) {
    throw new Error(`stand-in: cannot issue ${pending.map((c) => c.metadata?.name).join(', ')}`);
  }
  result.injected = await injectCaBundles(kc, certs);
  return result;
}

async function writeSecret(
  core: CoreV1Api,
  namespace: string,
  name: string,
  pair: { certPem: string; keyPem: string; caPem: string },
  labels: Record<string, string>,
): Promise<void> {
  const data = {
    [TLS_CERT_KEY]: b64(pair.certPem),
    [TLS_KEY_KEY]: b64(pair.keyPem),
    [TLS_CA_KEY]: b64(pair.caPem),
  };
  if (await readSecret(core, namespace, name)) {
    await core.patchNamespacedSecret(
      { name, namespace, body: { metadata: { labels }, data } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
  } else {
    await core.createNamespacedSecret({
      namespace,
      body: { metadata: { name, namespace, labels }, type: 'kubernetes.io/tls', data },
    });
  }
}

/** cainjector: inject-ca-from `<ns>/<certificate>` → that Certificate's Secret's ca.crt. */
async function injectCaBundles(kc: KubeConfig, certs: readonly Certificate[]): Promise<string[]> {
  const admission = kc.makeApiClient(AdmissionregistrationV1Api);
  const core = kc.makeApiClient(CoreV1Api);
  const injected: string[] = [];
  for (const hook of (await admission.listMutatingWebhookConfiguration()).items) {
    const from = hook.metadata?.annotations?.[CERT_MANAGER_INJECT_CA_FROM_ANNOTATION];
    if (!from) continue;
    const [ns, name] = from.split('/');
    const cert = certs.find((c) => c.metadata?.namespace === ns && c.metadata?.name === name);
    const secret = cert && (await readSecret(core, ns!, cert.spec.secretName));
    if (!secret) continue;
    await admission.patchMutatingWebhookConfiguration(
      {
        name: hook.metadata!.name!,
        body: (hook.webhooks ?? []).map((_, i) => ({
          op: 'add',
          path: `/webhooks/${i}/clientConfig/caBundle`,
          value: secret.data![TLS_CA_KEY],
        })),
      },
      setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
    );
    injected.push(hook.metadata!.name!);
  }
  return injected;
}
