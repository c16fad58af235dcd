/**
 * Certificate authority and serving certificates for the webhook and the sandbox API server,
 * generated with @peculiar/x509 over Node's WebCrypto (ECDSA P-256). PEM in, PEM out.
 */
// @peculiar/x509 resolves its services through tsyringe, which needs the Reflect metadata API.
import 'reflect-metadata';
import { webcrypto, X509Certificate as NodeX509 } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { LeafSigner } from './leaf.js';

type CryptoKey = webcrypto.CryptoKey;
// Node's WebCrypto is the standard Crypto interface; the DOM lib type is not loaded here.
x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const ALG: webcrypto.EcKeyGenParams & webcrypto.EcdsaParams = {
  name: 'ECDSA',
  namedCurve: 'P-256',
  hash: 'SHA-256',
};
const DAY_MS = 24 * 3600 * 1000;

export interface PemPair {
  certPem: string;
  keyPem: string;
}

export interface CertificateAuthority extends PemPair {
  /** Issues a serving certificate for these DNS names / IP addresses, signed by this CA. */
  issue(opts: ServingCertOptions): Promise<PemPair>;
}

export interface ServingCertOptions {
  commonName: string;
  /** Extra subject attributes after the CN, e.g. `OU=fsm-bootstrap`. */
  subjectSuffix?: string;
  dnsNames?: string[];
  ipAddresses?: string[];
  /** URI SANs (SPIFFE IDs). */
  uris?: string[];
  validityDays?: number;
  /** Validity in ms (wins over validityDays; tests use seconds). */
  validityMs?: number;
  /** notBefore = now - backdateMs (default 1 h: clock skew). */
  backdateMs?: number;
  /** Also usable as a TLS client certificate. */
  clientAuth?: boolean;
  /** Usable as a TLS server certificate (default true); false with clientAuth: a client-only certificate. */
  serverAuth?: boolean;
}

function serial(): string {
  const bytes = webcrypto.getRandomValues(new Uint8Array(16));
  bytes[0] = bytes[0]! & 0x7f; // positive
  return Buffer.from(bytes).toString('hex');
}

async function exportKeyPem(key: CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key));
  const b64 = der.toString('base64').replace(/(.{64})/g, '$1\n');
  return `-----BEGIN PRIVATE KEY-----\n${b64.trim()}\n-----END PRIVATE KEY-----\n`;
}

/** Creates a new self-signed CA. `validity`: days, or `{ ms }` (tests use seconds). */
export async function createCA(
  commonName: string,
  validity: number | { ms: number } = 3650,
): Promise<CertificateAuthority> {
  const keys = await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify']);
  const now = Date.now();
  const validityMs = typeof validity === 'number' ? validity * DAY_MS : validity.ms;
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: `CN=${commonName}`,
    notBefore: new Date(now - 3600_000),
    notAfter: new Date(now + validityMs),
    signingAlgorithm: ALG,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return loadCA({ certPem: cert.toString('pem') + '\n', keyPem: await exportKeyPem(keys.privateKey) });
}

/**
 * Wraps an existing CA (PEM cert + PKCS#8 key) so it can issue certificates. Leaves are built by
 * leaf.ts (key generation and signature off the event loop, ≈0.5 ms of DER assembly on it).
 */
export async function loadCA(pair: PemPair): Promise<CertificateAuthority> {
  const signer = new LeafSigner(pair.certPem, pair.keyPem);
  return {
    ...pair,
    issue(opts: ServingCertOptions): Promise<PemPair> {
      return signer.issue({
        commonName: opts.commonName,
        ...(opts.subjectSuffix !== undefined ? { subjectSuffix: opts.subjectSuffix } : {}),
        ...(opts.dnsNames ? { dnsNames: opts.dnsNames } : {}),
        ...(opts.ipAddresses ? { ipAddresses: opts.ipAddresses } : {}),
        ...(opts.uris ? { uris: opts.uris } : {}),
        validityMs: opts.validityMs ?? (opts.validityDays ?? 365) * DAY_MS,
        backdateMs: opts.backdateMs ?? 3600_000,
        serverAuth: opts.serverAuth !== false,
        clientAuth: opts.clientAuth === true,
      });
    },
  };
}

/** Time left before the certificate expires, in ms (negative when expired). */
export function certificateExpiresInMs(certPem: string, now = Date.now()): number {
  return new Date(new NodeX509(certPem).validTo).getTime() - now;
}
