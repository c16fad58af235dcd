/**
 * The few DER encodings a leaf certificate needs, for leaf.ts: length-prefixed TLVs, INTEGER,
 * OCTET/BIT STRING, strings, times. Structures that never change per certificate (algorithm
 * identifiers, the issuer name, constant extensions) are encoded once by @peculiar/asn1-x509; only
 * what varies is assembled here, so a certificate costs a few small Buffer.concat calls.
 */

/** One TLV: tag, DER length, value. */
export function tlv(tag: number, ...parts: readonly Uint8Array[]): Buffer {
  const value = Buffer.concat(parts);
  const n = value.length;
  let len: Buffer;
  if (n < 0x80) len = Buffer.from([n]);
  else if (n < 0x100) len = Buffer.from([0x81, n]);
  else if (n < 0x10000) len = Buffer.from([0x82, n >> 8, n & 0xff]);
  else len = Buffer.from([0x83, n >> 16, (n >> 8) & 0xff, n & 0xff]);
  return Buffer.concat([Buffer.from([tag]), len, value]);
}

export const seq = (...parts: readonly Uint8Array[]): Buffer => tlv(0x30, ...parts);
export const set = (...parts: readonly Uint8Array[]): Buffer => tlv(0x31, ...parts);
export const octets = (b: Uint8Array): Buffer => tlv(0x04, b);
export const utf8 = (s: string): Buffer => tlv(0x0c, Buffer.from(s, 'utf8'));
/** BIT STRING with no unused bits. */
export const bits = (b: Uint8Array): Buffer => tlv(0x03, Buffer.from([0]), b);

/** A positive INTEGER from big-endian magnitude bytes (a 0x00 is prepended when the top bit is set). */
export function integer(magnitude: Uint8Array): Buffer {
  let i = 0;
  while (i < magnitude.length - 1 && magnitude[i] === 0) i++;
  const m = magnitude.subarray(i);
  return tlv(0x02, m[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), m]) : m);
}

/** RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050; seconds, Zulu. */
export function time(d: Date): Buffer {
  const y = d.getUTCFullYear();
  const p = (n: number): string => String(n).padStart(2, '0');
  const rest = `${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}Z`;
  return y < 2050 ? tlv(0x17, Buffer.from(`${p(y % 100)}${rest}`)) : tlv(0x18, Buffer.from(`${y}${rest}`));
}

/** Context-specific primitive [n] (GeneralName's dNSName, URI, iPAddress...). */
export const implicit = (n: number, b: Uint8Array): Buffer => tlv(0x80 | n, b);
/** Context-specific constructed [n] (explicit tags, extensions of a TBSCertificate). */
export const explicit = (n: number, ...parts: readonly Uint8Array[]): Buffer => tlv(0xa0 | n, ...parts);
