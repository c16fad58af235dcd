/**
 * The bootstrap certificate: what a sidecar presents on its ADS connection to prove "I am the
 * sidecar of proxy UUID U, namespace N, service account S". Its CN is `<U>.sidecar.<S>.<N>` (OSM's
 * shape) and its subject carries OU=fsm-bootstrap; it is a client certificate only.
 *
 * verifyBootstrapCertificate checks a presented certificate against the trust bundle (signature
 * by one of its roots, validity window, the bootstrap shape) and returns who it names, or the
 * reason it is refused. Pure (the clock is a parameter).
 */
import { X509Certificate } from 'node:crypto';
import { BOOTSTRAP_CERT_OU, BOOTSTRAP_PROXY_KIND } from '../constants/index.js';

export interface BootstrapIdentity {
  proxyUuid: string;
  kind: string;
  serviceAccount: string;
  namespace: string;
}

/** RFC 1123 label (namespaces, service accounts) and the proxy UUID's alphabet. */
const LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** Proxy UUIDs are random UUIDs; any label-shaped value (no '.') is accepted (tests use short ones). */
const UUID = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/i;
/** ServiceAccount names are DNS subdomains; a '.' would break the CN's fields, so they are refused. */
const SA = LABEL;

export function bootstrapCommonName(who: Omit<BootstrapIdentity, 'kind'>): string {
  const checks: [keyof typeof who, RegExp][] = [
    ['proxyUuid', UUID],
    ['serviceAccount', SA],
    ['namespace', LABEL],
  ];
  for (const [field, re] of checks) {
    if (!re.test(who[field]))
      throw new Error(`bootstrap certificate: ${field} ${JSON.stringify(who[field])} is invalid`);
  }
  return `${who.proxyUuid}.${BOOTSTRAP_PROXY_KIND}.${who.serviceAccount}.${who.namespace}`;
}

/** Parses a CN of the bootstrap shape; undefined when it is not one. */
export function parseBootstrapCommonName(cn: string): BootstrapIdentity | undefined {
  const parts = cn.split('.');
  if (parts.length !== 4) return undefined;
  const [proxyUuid, kind, serviceAccount, namespace] = parts as [string, string, string, string];
  if (
    !UUID.test(proxyUuid) ||
    kind !== BOOTSTRAP_PROXY_KIND ||
    !SA.test(serviceAccount) ||
    !LABEL.test(namespace)
  ) {
    return undefined;
  }
  return { proxyUuid, kind, serviceAccount, namespace };
}

/** Subject attributes of an X509Certificate's `subject` text (one `K=V` per line). */
function subjectAttr(subject: string | undefined, key: string): string[] {
  // An empty subject (workload certificates) is undefined in node:crypto.
  return (subject ?? '')
    .split('\n')
    .filter((l) => l.startsWith(`${key}=`))
    .map((l) => l.slice(key.length + 1));
}

/** Why a presented certificate is refused; `reason` names the certificate (CN or subject). */
export type BootstrapRefusal =
  'no-certificate' | 'unparsable' | 'expired' | 'not-yet-valid' | 'untrusted' | 'not-bootstrap';

export type BootstrapVerdict =
  | { ok: true; identity: BootstrapIdentity; notAfter: number }
  | { ok: false; refusal: BootstrapRefusal; reason: string };

/** Who a certificate claims to be, for log lines (even when it is refused). */
export function describeCertificate(cert: X509Certificate): string {
  const cn = subjectAttr(cert.subject, 'CN')[0];
  if (cn !== undefined) return `CN=${cn}`;
  const parts = [
    cert.subject ? `subject ${JSON.stringify(cert.subject.replace(/\n/g, ', '))}` : 'empty subject',
  ];
  if (cert.subjectAltName) parts.push(`SAN ${cert.subjectAltName}`);
  return parts.join(' ');
}

/**
 * Verifies a presented client certificate (DER) against the trust bundle's roots at `now`.
 * The order of the checks makes each refusal say the most useful thing: a certificate of another
 * CA is "untrusted" even when it also expired; an expired one of ours is "expired".
 */
export function verifyBootstrapCertificate(
  der: Uint8Array | undefined,
  roots: readonly X509Certificate[],
  now = Date.now(),
): BootstrapVerdict {
  if (!der || der.byteLength === 0) {
    return { ok: false, refusal: 'no-certificate', reason: 'no client certificate was presented' };
  }
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(der);
  } catch (err) {
    return {
      ok: false,
      refusal: 'unparsable',
      reason: `the client certificate does not parse: ${(err as Error).message}`,
    };
  }
  const who = describeCertificate(cert);
  const signer = roots.find((r) => cert.checkIssued(r) && cert.verify(r.publicKey));
  if (!signer) {
    return {
      ok: false,
      refusal: 'untrusted',
      reason: `client certificate ${who} (issuer ${JSON.stringify(cert.issuer)}) is not signed by a root of the mesh trust bundle`,
    };
  }
  const notAfter = Date.parse(cert.validTo);
  if (notAfter <= now) {
    return {
      ok: false,
      refusal: 'expired',
      reason: `client certificate ${who} expired at ${new Date(notAfter).toISOString()}`,
    };
  }
  const notBefore = Date.parse(cert.validFrom);
  if (notBefore > now) {
    return {
      ok: false,
      refusal: 'not-yet-valid',
      reason: `client certificate ${who} is not valid before ${new Date(notBefore).toISOString()}`,
    };
  }
  const cn = subjectAttr(cert.subject, 'CN');
  const identity = cn.length === 1 ? parseBootstrapCommonName(cn[0]!) : undefined;
  if (!identity || !subjectAttr(cert.subject, 'OU').includes(BOOTSTRAP_CERT_OU)) {
    return {
      ok: false,
      refusal: 'not-bootstrap',
      reason: `client certificate ${who} is not a bootstrap certificate (expected CN <proxy-uuid>.${BOOTSTRAP_PROXY_KIND}.<service-account>.<namespace>, OU=${BOOTSTRAP_CERT_OU})`,
    };
  }
  return { ok: true, identity, notAfter };
}
