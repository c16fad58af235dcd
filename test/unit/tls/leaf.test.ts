/**
 * Leaves assembled by pkg/tls/leaf.ts + der.ts, read back by two independent parsers (OpenSSL
 * through node:crypto, and @peculiar/x509): signature, names of every kind, usages, validity on
 * both sides of 2050 (UTCTime / GeneralizedTime), key identifiers, and a real TLS handshake.
 */
import 'reflect-metadata';
import { X509Certificate } from 'node:crypto';
import tls from 'node:tls';
import * as x509 from '@peculiar/x509';
import { createCA, loadCA } from '../../../pkg/tls/index.js';
import { integer, time } from '../../../pkg/tls/der.js';

let ca: Awaited<ReturnType<typeof createCA>>;
beforeAll(async () => {
  ca = await createCA('leaf test CA');
});

it('a server+client leaf with DNS, IPv4, IPv6 and URI names, CN and OU', async () => {
  const pair = await (
    await loadCA(ca)
  ).issue({
    commonName: 'svc.ns.svc',
    subjectSuffix: 'OU=fsm-bootstrap',
    dnsNames: ['svc.ns.svc', 'localhost'],
    ipAddresses: ['127.0.0.1', '::1', 'fe80::1:2'],
    uris: ['spiffe://cluster.local/ns/a/sa/b'],
    validityMs: 3600_000,
    backdateMs: 60_000,
    clientAuth: true,
  });
  const c = new X509Certificate(pair.certPem);
  expect(c.verify(new X509Certificate(ca.certPem).publicKey)).toBe(true);
  expect(c.checkIssued(new X509Certificate(ca.certPem))).toBe(true);
  expect(c.subject).toBe('CN=svc.ns.svc\nOU=fsm-bootstrap');
  expect(c.subjectAltName).toBe(
    'DNS:svc.ns.svc, DNS:localhost, URI:spiffe://cluster.local/ns/a/sa/b, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1, IP Address:FE80:0:0:0:0:0:1:2',
  );
  expect(c.keyUsage?.sort()).toEqual(['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']);
  expect(c.ca).toBe(false);
  expect(c.checkPrivateKey).toBeDefined();
  const p = new x509.X509Certificate(pair.certPem);
  expect(p.getExtension(x509.SubjectKeyIdentifierExtension)).not.toBeNull();
  expect(p.getExtension(x509.AuthorityKeyIdentifierExtension)!.keyId).toBe(
    new x509.X509Certificate(ca.certPem).getExtension(x509.SubjectKeyIdentifierExtension)!.keyId,
  );
  expect(p.getExtension(x509.BasicConstraintsExtension)!.critical).toBe(true);
  expect(Date.parse(c.validTo) - Date.parse(c.validFrom)).toBe(3660_000);
});

it('an empty subject makes the SAN critical (RFC 5280 §4.2.1.6)', async () => {
  const pair = await (
    await loadCA(ca)
  ).issue({ commonName: '', uris: ['spiffe://td/ns/a/sa/b'], validityMs: 60_000 });
  const p = new x509.X509Certificate(pair.certPem);
  expect(p.subject).toBe('');
  expect(p.getExtension(x509.SubjectAlternativeNameExtension)!.critical).toBe(true);
});

it('DER helpers: minimal positive INTEGERs, UTCTime before 2050, GeneralizedTime after', () => {
  expect(integer(Buffer.from([0, 0, 5])).toString('hex')).toBe('020105');
  expect(integer(Buffer.from([0x80])).toString('hex')).toBe('02020080');
  expect(time(new Date(Date.UTC(2049, 11, 31, 23, 59, 59))).toString('latin1')).toBe('\x17\x0d491231235959Z');
  expect(time(new Date(Date.UTC(2050, 0, 1, 0, 0, 0))).toString('latin1')).toBe('\x18\x0f20500101000000Z');
});

it('a leaf valid past 2050 parses with its real expiry', async () => {
  const pair = await (await loadCA(ca)).issue({ commonName: 'long', validityMs: 40 * 365 * 24 * 3600_000 });
  expect(new Date(new X509Certificate(pair.certPem).validTo).getUTCFullYear()).toBeGreaterThanOrEqual(2060);
});

it('serves a real TLS handshake that verifies against the CA', async () => {
  const pair = await (
    await loadCA(ca)
  ).issue({ commonName: 'localhost', dnsNames: ['localhost'], validityMs: 60_000 });
  const server = tls.createServer({ cert: pair.certPem, key: pair.keyPem }, (s) => s.end('ok'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  const got = await new Promise<string>((resolve, reject) => {
    const s = tls.connect(
      { port, host: '127.0.0.1', servername: 'localhost', ca: ca.certPem },
      () => undefined,
    );
    let out = '';
    s.on('data', (d: Buffer) => (out += d.toString()));
    s.on('end', () => resolve(out));
    s.on('error', reject);
  });
  server.close();
  expect(got).toBe('ok');
});
