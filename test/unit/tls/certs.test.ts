import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { X509Certificate } from 'node:crypto';
import { certificateExpiresInMs, createCA, loadCA } from '../../../pkg/tls/index.js';

describe('tls certs', () => {
  it('issues a serving certificate a real TLS client verifies against the CA', async () => {
    const ca = await createCA('fsm-test-ca');
    const serving = await ca.issue({
      commonName: 'fsm-injector',
      dnsNames: ['fsm-injector.fsm-system.svc', 'localhost'],
      ipAddresses: ['127.0.0.1'],
    });
    const leaf = new X509Certificate(serving.certPem);
    expect(leaf.verify(new X509Certificate(ca.certPem).publicKey)).toBe(true);
    expect(leaf.subjectAltName).toContain('DNS:fsm-injector.fsm-system.svc');
    expect(leaf.subjectAltName).toContain('IP Address:127.0.0.1');

    const server = https.createServer({ cert: serving.certPem, key: serving.keyPem }, (_req, res) =>
      res.end('ok'),
    );
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    try {
      const body = await new Promise<string>((resolve, reject) => {
        https
          .get({ host: '127.0.0.1', port, ca: ca.certPem, path: '/' }, (res) => {
            let data = '';
            res.on('data', (c) => (data += c));
            res.on('end', () => resolve(data));
          })
          .on('error', reject);
      });
      expect(body).toBe('ok');
      // A client that does not trust the CA refuses the connection.
      await expect(
        new Promise((resolve, reject) =>
          https.get({ host: '127.0.0.1', port, path: '/' }, resolve).on('error', reject),
        ),
      ).rejects.toThrow(/certificate/);
    } finally {
      server.close();
    }
  });

  it('reloads a CA from PEM and reports expiry', async () => {
    const ca = await createCA('x', 10);
    const again = await loadCA({ certPem: ca.certPem, keyPem: ca.keyPem });
    const leaf = await again.issue({ commonName: 'leaf', dnsNames: ['a.b'], validityDays: 2 });
    const left = certificateExpiresInMs(leaf.certPem);
    expect(left).toBeGreaterThan(1.9 * 24 * 3600 * 1000);
    expect(left).toBeLessThanOrEqual(2 * 24 * 3600 * 1000);
    expect(certificateExpiresInMs(leaf.certPem, Date.now() + 3 * 24 * 3600 * 1000)).toBeLessThan(0);
  });
});
