/**
 * Leaf certificates signed by a CA, with Node's crypto: key generation and the signature run on
 * libuv's thread pool (generateKeyPair, sign with a callback); on the caller's turn only the DER
 * assembly runs, from parts encoded once per CA by @peculiar/asn1-x509 (the ASN.1 layer
 * @peculiar/x509 uses) and the few variable fields (der.ts). @peculiar/x509's generator took
 * ≈3-5 ms of main thread per certificate, which a mesh issuing one per proxy cannot afford
 * (`npm run bench:ads -- --tls` prints issuance/s and the event-loop delay).
 */
import {
  createHash,
  createPrivateKey,
  generateKeyPair,
  randomBytes,
  sign,
  X509Certificate,
  type KeyObject,
} from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import * as asn from '@peculiar/asn1-x509';
import { bits, explicit, implicit, integer, octets, seq, set, time, utf8 } from './der.js';

const ECDSA_WITH_SHA256 = '1.2.840.10045.4.3.2';
const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
/** DER of the OIDs built per certificate (RDN types, SAN, SKI). */
const OID_DER: Record<string, Buffer> = {
  CN: Buffer.from('0603550403', 'hex'),
  OU: Buffer.from('060355040b', 'hex'),
  O: Buffer.from('060355040a', 'hex'),
};
const SAN_OID = Buffer.from('0603551d11', 'hex');
const SKI_OID = Buffer.from('0603551d0e', 'hex');
const CRITICAL = Buffer.from('0101ff', 'hex');
const VERSION_3 = Buffer.from('a003020102', 'hex');

export interface LeafOptions {
  commonName: string;
  /** Extra subject attributes after the CN: `OU=a, O=b` (CN, OU and O only). */
  subjectSuffix?: string;
  dnsNames?: string[];
  ipAddresses?: string[];
  uris?: string[];
  validityMs: number;
  backdateMs: number;
  serverAuth: boolean;
  clientAuth: boolean;
}

function generateP256(): Promise<{ publicKey: KeyObject; privateKey: KeyObject }> {
  return new Promise((resolve, reject) =>
    generateKeyPair('ec', { namedCurve: 'P-256' }, (err, publicKey, privateKey) =>
      err ? reject(err) : resolve({ publicKey, privateKey }),
    ),
  );
}

function signAsync(data: Buffer, key: KeyObject): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    sign('sha256', data, key, (err, sig) => (err ? reject(err) : resolve(sig))),
  );
}

/** A constant extension, encoded once. */
function extDer(id: string, critical: boolean, value: object): Buffer {
  return Buffer.from(
    AsnConvert.serialize(
      new asn.Extension({ extnID: id, critical, extnValue: new OctetString(AsnConvert.serialize(value)) }),
    ),
  );
}

function subjectDer(commonName: string, suffix: string | undefined): Buffer {
  const rdns: Buffer[] = [];
  const add = (key: string, value: string): void => {
    rdns.push(set(seq(OID_DER[key]!, utf8(value))));
  };
  if (commonName) add('CN', commonName);
  for (const part of (suffix ?? '')
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const eq = part.indexOf('=');
    const key = part.slice(0, eq);
    if (eq < 0 || !OID_DER[key])
      throw new Error(`subject attribute ${JSON.stringify(part)}: only CN, OU and O are supported`);
    add(key, part.slice(eq + 1));
  }
  return seq(...rdns);
}

/** The 4 or 16 bytes of an IP address. */
function ipBytes(ip: string): Buffer {
  if (isIPv4(ip)) return Buffer.from(ip.split('.').map(Number));
  if (!isIPv6(ip)) throw new Error(`${JSON.stringify(ip)} is not an IP address`);
  const [head, tail] = ip.includes('::') ? ip.split('::') : [ip, undefined];
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  return Buffer.from(groups.flatMap((g) => [parseInt(g, 16) >> 8, parseInt(g, 16) & 0xff]));
}

function toPem(der: Buffer, label: string): string {
  const b64 = der.toString('base64').replace(/(.{64})/g, '$1\n');
  return `-----BEGIN ${label}-----\n${b64.trim()}\n-----END ${label}-----\n`;
}

/** Signs leaves with one CA; everything that does not change per certificate is encoded once. */
export class LeafSigner {
  private readonly issuer: Buffer;
  private readonly algorithm: Buffer;
  private readonly basicConstraints: Buffer;
  private readonly keyUsage: Buffer;
  private readonly authorityKeyId: Buffer;
  private readonly extKeyUsage = new Map<string, Buffer>();
  private readonly caKey: KeyObject;

  constructor(caCertPem: string, caKeyPem: string) {
    const ca = new X509Certificate(caCertPem);
    const parsed = AsnConvert.parse(ca.raw, asn.Certificate);
    this.issuer = Buffer.from(AsnConvert.serialize(parsed.tbsCertificate.subject));
    this.algorithm = Buffer.from(
      AsnConvert.serialize(new asn.AlgorithmIdentifier({ algorithm: ECDSA_WITH_SHA256 })),
    );
    const ski = parsed.tbsCertificate.extensions?.find((e) => e.extnID === asn.id_ce_subjectKeyIdentifier);
    const keyId = ski
      ? new Uint8Array(AsnConvert.parse(ski.extnValue.buffer, asn.SubjectKeyIdentifier).buffer)
      : createHash('sha1')
          .update(Buffer.from(parsed.tbsCertificate.subjectPublicKeyInfo.subjectPublicKey))
          .digest();
    this.authorityKeyId = extDer(
      asn.id_ce_authorityKeyIdentifier,
      false,
      new asn.AuthorityKeyIdentifier({ keyIdentifier: new OctetString(keyId) }),
    );
    this.basicConstraints = extDer(asn.id_ce_basicConstraints, true, new asn.BasicConstraints({ cA: false }));
    this.keyUsage = extDer(
      asn.id_ce_keyUsage,
      true,
      new asn.KeyUsage(asn.KeyUsageFlags.digitalSignature | asn.KeyUsageFlags.keyEncipherment),
    );
    this.caKey = createPrivateKey(caKeyPem);
  }

  private ekuDer(serverAuth: boolean, clientAuth: boolean): Buffer {
    const key = `${serverAuth}|${clientAuth}`;
    let der = this.extKeyUsage.get(key);
    if (!der) {
      const usages = [...(serverAuth ? [SERVER_AUTH] : []), ...(clientAuth ? [CLIENT_AUTH] : [])];
      der = extDer(asn.id_ce_extKeyUsage, false, new asn.ExtendedKeyUsage(usages));
      this.extKeyUsage.set(key, der);
    }
    return der;
  }

  async issue(o: LeafOptions): Promise<{ certPem: string; keyPem: string }> {
    const keys = await generateP256();
    const spki = keys.publicKey.export({ type: 'spki', format: 'der' });
    // A P-256 SubjectPublicKeyInfo ends with the 65-byte uncompressed point (the BIT STRING's bits).
    const publicKeyBits = spki.subarray(spki.length - 65);
    const subject = subjectDer(o.commonName, o.subjectSuffix);
    const emptySubject = o.commonName === '' && !(o.subjectSuffix ?? '').trim();
    const now = Date.now();
    const serial = randomBytes(16);
    serial[0] = (serial[0]! & 0x7f) | 0x01; // positive, and never a leading zero byte
    const names = [
      ...(o.dnsNames ?? []).map((n) => implicit(2, Buffer.from(n, 'ascii'))),
      ...(o.uris ?? []).map((u) => implicit(6, Buffer.from(u, 'ascii'))),
      ...(o.ipAddresses ?? []).map((ip) => implicit(7, ipBytes(ip))),
    ];
    const extensions = [
      this.basicConstraints,
      this.keyUsage,
      this.ekuDer(o.serverAuth, o.clientAuth),
      // RFC 5280 §4.2.1.6: with an empty subject the SAN extension must be critical.
      ...(names.length > 0 ? [seq(SAN_OID, ...(emptySubject ? [CRITICAL] : []), octets(seq(...names)))] : []),
      this.authorityKeyId,
      seq(SKI_OID, octets(octets(createHash('sha1').update(publicKeyBits).digest()))),
    ];
    const tbs = seq(
      VERSION_3,
      integer(serial),
      this.algorithm,
      this.issuer,
      seq(time(new Date(now - o.backdateMs)), time(new Date(now + o.validityMs))),
      subject,
      spki,
      explicit(3, seq(...extensions)),
    );
    const signature = await signAsync(tbs, this.caKey);
    return {
      certPem: toPem(seq(tbs, this.algorithm, bits(signature)), 'CERTIFICATE'),
      keyPem: keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    };
  }
}
