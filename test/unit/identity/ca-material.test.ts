/** The mesh CA Secret's checks: each problem is named with the Secret, the key and what is wrong. */
import { createCA } from '../../../pkg/tls/index.js';
import { newMeshCaData, readMeshCa } from '../../../pkg/identity/index.js';

const WHERE = 'Secret fsm-system/fsm-mesh-ca';
let good: Record<string, string>;
let other: Record<string, string>;
let leaf: { certPem: string; keyPem: string };

beforeAll(async () => {
  good = await newMeshCaData('fsm');
  other = await newMeshCaData('other');
  const ca = await createCA('x');
  leaf = await ca.issue({ commonName: 'leaf' });
});

it('a new CA passes: one root, which is the whole bundle', () => {
  const r = readMeshCa(good, WHERE);
  expect(r.ok).toBe(true);
  if (!r.ok) return;
  expect(r.material.roots).toHaveLength(1);
  expect(r.material.signingCert.ca).toBe(true);
  expect(r.material.next).toBeUndefined();
});

it.each<[string, (d: Record<string, string>) => Record<string, string | undefined>, RegExp]>([
  ['no data at all', () => ({}), /key ca\.crt: missing/],
  ['ca.crt missing', (d) => ({ ...d, 'ca.crt': undefined }), /key ca\.crt: missing/],
  [
    'ca.crt not PEM',
    (d) => ({ ...d, 'ca.crt': 'hello' }),
    /key ca\.crt: expected one PEM certificate, found 0/,
  ],
  [
    'ca.crt garbage inside the block',
    (d) => ({ ...d, 'ca.crt': '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n' }),
    /key ca\.crt: certificate 0 does not parse/,
  ],
  ['ca.key missing', (d) => ({ ...d, 'ca.key': undefined }), /key ca\.key: missing/],
  ['ca.key not a key', (d) => ({ ...d, 'ca.key': 'nope' }), /key ca\.key: not a PEM private key/],
  [
    'ca.key of another CA',
    (d) => ({ ...d, 'ca.key': other['ca.key']! }),
    /key ca\.key: does not match the certificate in ca\.crt/,
  ],
  [
    'ca.crt is not a CA',
    (d) => ({ ...d, 'ca.crt': leaf.certPem, 'ca.key': leaf.keyPem }),
    /key ca\.crt: .* is not a CA certificate/,
  ],
  ['bundle missing', (d) => ({ ...d, 'trust-bundle.pem': undefined }), /key trust-bundle\.pem: missing/],
  [
    'bundle without the signing root',
    (d) => ({ ...d, 'trust-bundle.pem': other['ca.crt']! }),
    /does not contain the signing root/,
  ],
  ['next.crt without next.key', (d) => ({ ...d, 'next.crt': other['ca.crt']! }), /key next\.key: missing/],
  [
    'staged root not in the bundle',
    (d) => ({ ...d, 'next.crt': other['ca.crt']!, 'next.key': other['ca.key']! }),
    /does not contain the staged root/,
  ],
])('%s → refused naming it', (_n, edit, problem) => {
  const r = readMeshCa(edit(good), WHERE);
  expect(r.ok).toBe(false);
  if (r.ok) return;
  expect(r.problem.startsWith(WHERE)).toBe(true);
  expect(r.problem).toMatch(problem);
});

it('an expired root is refused (clock after notAfter)', () => {
  const r = readMeshCa(good, WHERE, Date.now() + 11 * 365 * 24 * 3600 * 1000);
  expect(r).toEqual({ ok: false, problem: expect.stringMatching(/key ca\.crt: .* expired at/) });
});
