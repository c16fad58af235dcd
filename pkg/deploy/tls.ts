/**
 * The injector's webhook TLS without cert-manager: `fsm install` issues a CA and a serving
 * certificate for fsm-injector.<ns>.svc, stores them in a kubernetes.io/tls Secret that the
 * injector mounts, and puts the CA in the webhook's caBundle. A later install reuses them until
 * they are within INJECTOR_CERT_RENEW_BEFORE_MS of expiry, then issues new ones (rotation).
 */
import type { V1Secret } from '@kubernetes/client-node';
import {
  INJECTOR_APP,
  INJECTOR_CERT_RENEW_BEFORE_MS,
  INJECTOR_CERT_VALIDITY_DAYS,
  INJECTOR_SERVICE_NAME,
  INJECTOR_TLS_SECRET_NAME,
  TLS_CA_KEY,
  TLS_CERT_KEY,
  TLS_KEY_KEY,
} from '../constants/index.js';
import { certificateExpiresInMs, createCA } from '../tls/index.js';
import { commonLabels, type InstallParams } from './params.js';

export interface InjectorTls {
  caPem: string;
  certPem: string;
  keyPem: string;
}

/** DNS names a webhook call may use for the injector Service. */
export function injectorDnsNames(p: Pick<InstallParams, 'fsmNamespace'>): string[] {
  const svc = INJECTOR_SERVICE_NAME;
  const ns = p.fsmNamespace;
  return [svc, `${svc}.${ns}`, `${svc}.${ns}.svc`, `${svc}.${ns}.svc.cluster.local`];
}

/** `ipAddresses`: extra IP SANs (tests that reach the injector at 127.0.0.1; a cluster needs none). */
export async function issueInjectorTls(
  p: InstallParams,
  opts: { ipAddresses?: string[] } = {},
): Promise<InjectorTls> {
  const ca = await createCA(`fsm-injector CA (mesh ${p.meshName})`, INJECTOR_CERT_VALIDITY_DAYS);
  const names = injectorDnsNames(p);
  const serving = await ca.issue({
    commonName: names[2]!,
    dnsNames: names,
    ...(opts.ipAddresses ? { ipAddresses: opts.ipAddresses } : {}),
    validityDays: INJECTOR_CERT_VALIDITY_DAYS,
  });
  return { caPem: ca.certPem, certPem: serving.certPem, keyPem: serving.keyPem };
}

/** The TLS material of an existing Secret, or undefined when it is incomplete or due for rotation. */
export function reusableInjectorTls(secret: V1Secret | undefined, now = Date.now()): InjectorTls | undefined {
  const data = secret?.data;
  if (!data) return undefined;
  const get = (k: string): string | undefined =>
    data[k] !== undefined ? Buffer.from(data[k], 'base64').toString('utf8') : undefined;
  const caPem = get(TLS_CA_KEY);
  const certPem = get(TLS_CERT_KEY);
  const keyPem = get(TLS_KEY_KEY);
  if (!caPem || !certPem || !keyPem) return undefined;
  try {
    if (certificateExpiresInMs(certPem, now) < INJECTOR_CERT_RENEW_BEFORE_MS) return undefined;
    if (certificateExpiresInMs(caPem, now) < INJECTOR_CERT_RENEW_BEFORE_MS) return undefined;
  } catch {
    return undefined; // not a certificate: issue a new one
  }
  return { caPem, certPem, keyPem };
}

export function renderInjectorTlsSecret(p: InstallParams, tls: InjectorTls): V1Secret {
  const b64 = (s: string): string => Buffer.from(s).toString('base64');
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'kubernetes.io/tls',
    metadata: {
      name: INJECTOR_TLS_SECRET_NAME,
      namespace: p.fsmNamespace,
      labels: commonLabels(p, INJECTOR_APP),
    },
    data: { [TLS_CERT_KEY]: b64(tls.certPem), [TLS_KEY_KEY]: b64(tls.keyPem), [TLS_CA_KEY]: b64(tls.caPem) },
  };
}
