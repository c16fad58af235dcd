/**
 * The mesh CA as stored in its Secret, read and checked. Pure (the clock is a parameter).
 *
 * Keys: `ca.crt` + `ca.key` (the active signing root), `trust-bundle.pem` (every trusted root, the
 * active one included), and during a rotation `next.crt` + `next.key` (the staged root, already in
 * the bundle). A Secret that fails any check is refused as a whole, naming the Secret, the key and
 * the problem: a component never serves with a CA nobody can verify.
 */
import type { X509Certificate } from 'node:crypto';
import { createHash, createPrivateKey } from 'node:crypto';
import {
  MESH_CA_BUNDLE_KEY,
  MESH_CA_CERT_KEY,
  MESH_CA_KEY_KEY,
  MESH_CA_NEXT_CERT_KEY,
  MESH_CA_NEXT_KEY_KEY,
} from '../constants/index.js';
import { parseBundle } from './pem.js';

export interface CaPair {
  certPem: string;
  keyPem: string;
}

export interface MeshCaMaterial {
  /** The active signing root. */
  signing: CaPair;
  signingCert: X509Certificate;
  /** Every trusted root (PEM, in the Secret's order) and parsed. */
  bundlePem: string;
  roots: readonly X509Certificate[];
  /** The staged next root (between `stage` and `activate`). */
  next?: CaPair;
  /** SHA-256 of the signing root's DER: changes exactly when `activate` ran. */
  signingId: string;
  /** SHA-256 of the bundle text: changes when a root is staged or retired. */
  bundleId: string;
}

export type MeshCaCheck = { ok: true; material: MeshCaMaterial } | { ok: false; problem: string };

/** Decoded Secret data (values are PEM text). */
export type CaData = Readonly<Record<string, string | undefined>>;

/** Secret.data (base64 values) → text values. */
export function decodeSecretData(data: Readonly<Record<string, string>> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(data ?? {})) out[k] = Buffer.from(v, 'base64').toString('utf8');
  return out;
}

/** Text values → Secret.data (base64). */
export function encodeSecretData(data: CaData): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(data)) if (v !== undefined) out[k] = Buffer.from(v).toString('base64');
  return out;
}

class CaProblem extends Error {}

function rootCert(pem: string | undefined, key: string, now: number): X509Certificate {
  if (pem === undefined || pem.trim() === '') throw new CaProblem(`key ${key}: missing`);
  let certs: X509Certificate[];
  try {
    certs = parseBundle(pem);
  } catch (err) {
    throw new CaProblem(`key ${key}: ${(err as Error).message}`);
  }
  if (certs.length !== 1)
    throw new CaProblem(`key ${key}: expected one PEM certificate, found ${certs.length}`);
  checkRoot(certs[0]!, `key ${key}`, now);
  return certs[0]!;
}

function checkRoot(cert: X509Certificate, where: string, now: number): void {
  if (!cert.ca) throw new CaProblem(`${where}: ${cert.subject} is not a CA certificate (basicConstraints)`);
  if (Date.parse(cert.validTo) <= now)
    throw new CaProblem(`${where}: ${cert.subject} expired at ${cert.validTo}`);
  if (Date.parse(cert.validFrom) > now) {
    throw new CaProblem(`${where}: ${cert.subject} is not valid before ${cert.validFrom}`);
  }
}

function matchingKey(cert: X509Certificate, pem: string | undefined, key: string, certKey: string): void {
  if (pem === undefined || pem.trim() === '') throw new CaProblem(`key ${key}: missing`);
  let k;
  try {
    k = createPrivateKey(pem);
  } catch (err) {
    throw new CaProblem(`key ${key}: not a PEM private key (${(err as Error).message})`);
  }
  if (!cert.checkPrivateKey(k))
    throw new CaProblem(`key ${key}: does not match the certificate in ${certKey}`);
}

/** Reads and checks the CA Secret's (decoded) data. `where` names the Secret in problems. */
export function readMeshCa(data: CaData | undefined, where: string, now = Date.now()): MeshCaCheck {
  try {
    const d = data ?? {};
    const signingCert = rootCert(d[MESH_CA_CERT_KEY], MESH_CA_CERT_KEY, now);
    matchingKey(signingCert, d[MESH_CA_KEY_KEY], MESH_CA_KEY_KEY, MESH_CA_CERT_KEY);
    const bundlePem = d[MESH_CA_BUNDLE_KEY];
    if (bundlePem === undefined || bundlePem.trim() === '')
      throw new CaProblem(`key ${MESH_CA_BUNDLE_KEY}: missing`);
    let roots: X509Certificate[];
    try {
      roots = parseBundle(bundlePem);
    } catch (err) {
      throw new CaProblem(`key ${MESH_CA_BUNDLE_KEY}: ${(err as Error).message}`);
    }
    if (roots.length === 0) throw new CaProblem(`key ${MESH_CA_BUNDLE_KEY}: no PEM certificate in it`);
    roots.forEach((r, i) => checkRoot(r, `key ${MESH_CA_BUNDLE_KEY} certificate ${i}`, now));
    const inBundle = (c: X509Certificate): boolean =>
      roots.some((r) => r.fingerprint256 === c.fingerprint256);
    if (!inBundle(signingCert)) {
      throw new CaProblem(
        `key ${MESH_CA_BUNDLE_KEY}: does not contain the signing root of ${MESH_CA_CERT_KEY}`,
      );
    }
    let next: CaPair | undefined;
    const [nc, nk] = [d[MESH_CA_NEXT_CERT_KEY], d[MESH_CA_NEXT_KEY_KEY]];
    if (nc !== undefined || nk !== undefined) {
      const nextCert = rootCert(nc, MESH_CA_NEXT_CERT_KEY, now);
      matchingKey(nextCert, nk, MESH_CA_NEXT_KEY_KEY, MESH_CA_NEXT_CERT_KEY);
      if (!inBundle(nextCert)) {
        throw new CaProblem(
          `key ${MESH_CA_BUNDLE_KEY}: does not contain the staged root of ${MESH_CA_NEXT_CERT_KEY}`,
        );
      }
      next = { certPem: nc!, keyPem: nk! };
    }
    const material: MeshCaMaterial = {
      signing: { certPem: d[MESH_CA_CERT_KEY]!, keyPem: d[MESH_CA_KEY_KEY]! },
      signingCert,
      bundlePem,
      roots,
      signingId: createHash('sha256').update(signingCert.raw).digest('hex'),
      bundleId: createHash('sha256').update(bundlePem).digest('hex'),
      ...(next ? { next } : {}),
    };
    return { ok: true, material };
  } catch (err) {
    if (err instanceof CaProblem) return { ok: false, problem: `${where} ${err.message}` };
    throw err;
  }
}
