/**
 * The bootstrap credential's Secret, `fsm-bootstrap-<proxy-uuid>` in the pod's namespace: type
 * kubernetes.io/tls (tls.crt, tls.key) + ca.crt (the mesh trust bundle) + the two SDS files Envoy
 * reads them through (sds-cert.json, sds-ca.json). Labels say mesh, kind and proxy UUID, so the
 * controller finds them by label selector.
 *
 * sweepBootstrapSecrets decides, for the controller's periodic sweep, which Secrets to delete (no
 * pod with that UUID in that namespace, and older than the grace: admissions whose pod never came,
 * deleted pods) and which to renew in place (certificate near expiry or not signed by the active
 * root; trust bundle not the current one). Pure.
 */
import { X509Certificate } from 'node:crypto';
import type { V1Secret } from '@kubernetes/client-node';
import {
  BOOTSTRAP_CA_SECRET_NAME,
  BOOTSTRAP_CERT_SECRET_NAME,
  BOOTSTRAP_SDS_CA_KEY,
  BOOTSTRAP_SDS_CERT_KEY,
  BOOTSTRAP_SECRET_PREFIX,
  IDENTITY_KIND_BOOTSTRAP,
  IDENTITY_KIND_LABEL,
  MANAGED_BY_LABEL,
  MANAGED_BY_VALUE,
  MESH_NAME_LABEL,
  PROXY_UUID_LABEL,
  TLS_CA_KEY,
  TLS_CERT_KEY,
  TLS_KEY_KEY,
} from '../constants/index.js';
import { sdsFile, tlsCertificateSecret, validationContextSecret } from '../envoy/builders/index.js';
import type { PemPair } from '../tls/index.js';
import { parseBootstrapCommonName, type BootstrapIdentity } from './bootstrap-cert.js';
import { decodeSecretData, encodeSecretData } from './ca-material.js';

const NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export function bootstrapSecretName(proxyUuid: string): string {
  const name = `${BOOTSTRAP_SECRET_PREFIX}${proxyUuid}`;
  if (!NAME.test(name) || name.length > 253) {
    throw new Error(`proxy UUID ${JSON.stringify(proxyUuid)} cannot name a Secret (${name})`);
  }
  return name;
}

/** Label selector of every bootstrap Secret of a mesh. */
export function bootstrapSecretSelector(meshName: string): string {
  return `${IDENTITY_KIND_LABEL}=${IDENTITY_KIND_BOOTSTRAP},${MESH_NAME_LABEL}=${meshName}`;
}

/** The Secret's data (text values): the pair, the bundle, and the SDS files holding them inline. */
export function bootstrapSecretData(pair: PemPair, bundlePem: string): Record<string, string> {
  return {
    [TLS_CERT_KEY]: pair.certPem,
    [TLS_KEY_KEY]: pair.keyPem,
    [TLS_CA_KEY]: bundlePem,
    [BOOTSTRAP_SDS_CERT_KEY]: sdsFile(
      tlsCertificateSecret(BOOTSTRAP_CERT_SECRET_NAME, pair.certPem, pair.keyPem),
    ),
    [BOOTSTRAP_SDS_CA_KEY]: sdsFile(validationContextSecret(BOOTSTRAP_CA_SECRET_NAME, bundlePem)),
  };
}

export interface BootstrapSecretInput {
  proxyUuid: string;
  namespace: string;
  meshName: string;
  pair: PemPair;
  bundlePem: string;
}

export function bootstrapSecret(input: BootstrapSecretInput): V1Secret {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'kubernetes.io/tls',
    metadata: {
      name: bootstrapSecretName(input.proxyUuid),
      namespace: input.namespace,
      labels: {
        [MANAGED_BY_LABEL]: MANAGED_BY_VALUE,
        [MESH_NAME_LABEL]: input.meshName,
        [IDENTITY_KIND_LABEL]: IDENTITY_KIND_BOOTSTRAP,
        [PROXY_UUID_LABEL]: input.proxyUuid,
      },
    },
    data: encodeSecretData(bootstrapSecretData(input.pair, input.bundlePem)),
  };
}

/** What a bootstrap Secret holds, read back (undefined fields when absent or unreadable). */
export interface BootstrapSecretView {
  namespace: string;
  name: string;
  proxyUuid: string | undefined;
  identity: BootstrapIdentity | undefined;
  notAfter: number | undefined;
  /** SHA-256 fingerprint of the issuer certificate that signed it, when one of `roots` did. */
  signedBy: X509Certificate | undefined;
  bundlePem: string | undefined;
  created: number;
}

export function readBootstrapSecret(
  secret: V1Secret,
  roots: readonly X509Certificate[],
): BootstrapSecretView {
  const data = decodeSecretData(secret.data);
  let identity: BootstrapIdentity | undefined;
  let notAfter: number | undefined;
  let signedBy: X509Certificate | undefined;
  try {
    const cert = new X509Certificate(data[TLS_CERT_KEY] ?? '');
    const cn = cert.subject
      .split('\n')
      .find((l) => l.startsWith('CN='))
      ?.slice(3);
    identity = cn !== undefined ? parseBootstrapCommonName(cn) : undefined;
    notAfter = Date.parse(cert.validTo);
    signedBy = roots.find((r) => cert.checkIssued(r) && cert.verify(r.publicKey));
  } catch {
    // unreadable: renewed (or collected) like an expired one
  }
  return {
    namespace: secret.metadata?.namespace ?? '',
    name: secret.metadata?.name ?? '',
    proxyUuid: secret.metadata?.labels?.[PROXY_UUID_LABEL],
    identity,
    notAfter,
    signedBy,
    bundlePem: data[TLS_CA_KEY],
    created: Date.parse(String(secret.metadata?.creationTimestamp ?? '')) || 0,
  };
}

export interface SweepInput {
  secrets: readonly V1Secret[];
  /** The pod with this proxy UUID in this namespace (not being deleted), or undefined. */
  pod(namespace: string, proxyUuid: string): { serviceAccount: string } | undefined;
  /** Every trusted root, and the signing one. */
  roots: readonly X509Certificate[];
  signing: X509Certificate;
  bundlePem: string;
  now: number;
  graceMs: number;
  renewBeforeMs: number;
}

export interface SweepAction {
  namespace: string;
  name: string;
  reason: string;
}

export interface RenewAction extends SweepAction {
  secret: V1Secret;
  /** Re-issue the certificate (else only the bundle is replaced). */
  reissue: boolean;
  /** Who the certificate is for: the pod as it is now (its service account), not what the old one said. */
  identity: Omit<BootstrapIdentity, 'kind'>;
}

export function sweepBootstrapSecrets(input: SweepInput): { remove: SweepAction[]; renew: RenewAction[] } {
  const remove: SweepAction[] = [];
  const renew: RenewAction[] = [];
  for (const secret of input.secrets) {
    const v = readBootstrapSecret(secret, input.roots);
    const ref = { namespace: v.namespace, name: v.name };
    if (secret.metadata?.deletionTimestamp) continue;
    const pod = v.proxyUuid ? input.pod(v.namespace, v.proxyUuid) : undefined;
    if (!v.proxyUuid || !pod) {
      const age = input.now - v.created;
      if (age >= input.graceMs) {
        remove.push({
          ...ref,
          reason: `no pod with proxy UUID ${v.proxyUuid ?? '<none>'} in ${v.namespace} for ${Math.round(age / 1000)}s`,
        });
      }
      continue;
    }
    let why: string | undefined;
    let reissue = true;
    if (v.notAfter === undefined || !v.identity) why = 'certificate unreadable';
    else if (v.identity.serviceAccount !== pod.serviceAccount || v.identity.proxyUuid !== v.proxyUuid) {
      why = `certificate names ${v.identity.proxyUuid}.${v.identity.serviceAccount}, the pod is ${v.proxyUuid}.${pod.serviceAccount}`;
    } else if (v.notAfter - input.now <= input.renewBeforeMs)
      why = `certificate expires at ${new Date(v.notAfter).toISOString()}`;
    else if (v.signedBy?.fingerprint256 !== input.signing.fingerprint256)
      why = 'certificate not signed by the active root';
    else if (v.bundlePem !== input.bundlePem) {
      why = 'trust bundle changed';
      reissue = false;
    }
    if (why) {
      const identity = { proxyUuid: v.proxyUuid, namespace: v.namespace, serviceAccount: pod.serviceAccount };
      renew.push({ ...ref, reason: why, secret, reissue, identity });
    }
  }
  return { remove, renew };
}
