import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readPairSync } from '../../../pkg/injector/tlsfiles.js';
import { createCA, type PemPair } from '../../../pkg/tls/index.js';

describe('readPairSync', () => {
  let dir: string;
  let a: PemPair;
  let b: PemPair;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'fsm-tlsfiles-'));
    const ca = await createCA('t');
    a = await ca.issue({ commonName: 'a' });
    b = await ca.issue({ commonName: 'b' });
    writeFileSync(join(dir, 'a.crt'), a.certPem);
    writeFileSync(join(dir, 'a.key'), a.keyPem);
    writeFileSync(join(dir, 'b.key'), b.keyPem);
    writeFileSync(join(dir, 'junk.crt'), 'not a certificate');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads a matching pair', () => {
    expect(readPairSync(join(dir, 'a.crt'), join(dir, 'a.key'))).toEqual({ cert: a.certPem, key: a.keyPem });
  });

  it.each<[string, string, string, RegExp]>([
    [
      'a missing file',
      'missing.crt',
      'a.key',
      /cannot read TLS files --tls-cert-file .*missing.crt \/ --tls-key-file .*a.key: .*ENOENT/,
    ],
    [
      'a key of another certificate',
      'a.crt',
      'b.key',
      /TLS certificate .*a.crt \/ key .*b.key are not a usable pair/,
    ],
    [
      'a file that is not PEM',
      'junk.crt',
      'a.key',
      /TLS certificate .*junk.crt \/ key .*a.key are not a usable pair/,
    ],
  ])('refuses %s, naming the files', (_n, cert, key, message) => {
    expect(() => readPairSync(join(dir, cert), join(dir, key))).toThrow(message);
  });
});
