/** PEM ↔ DER for certificates, and splitting a bundle into its certificates. Pure. */
import { X509Certificate } from 'node:crypto';

const CERT_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

/** The certificate blocks of a PEM bundle, in order (text outside blocks is ignored). */
export function splitPemCertificates(pem: string): string[] {
  return (pem.match(CERT_BLOCK) ?? []).map((b) => b.trim() + '\n');
}

/** PEM of a DER certificate. */
export function derToPem(der: Uint8Array): string {
  const b64 = Buffer.from(der)
    .toString('base64')
    .replace(/(.{64})/g, '$1\n');
  return `-----BEGIN CERTIFICATE-----\n${b64.trim()}\n-----END CERTIFICATE-----\n`;
}

/** Parses every certificate of a bundle; throws naming the index of the first one that does not parse. */
export function parseBundle(pem: string): X509Certificate[] {
  return splitPemCertificates(pem).map((block, i) => {
    try {
      return new X509Certificate(block);
    } catch (err) {
      throw new Error(`certificate ${i} does not parse: ${err instanceof Error ? err.message : String(err)}`);
    }
  });
}

/** A bundle's PEM text from its certificates (one block each, newline separated). */
export function joinPem(certs: readonly { toString(): string }[]): string {
  return certs.map((c) => c.toString().trim() + '\n').join('');
}
