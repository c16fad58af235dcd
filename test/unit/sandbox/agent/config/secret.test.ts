/**
 * The probe agent's SDS parser: what fsm pushes (a workload certificate with its matching key, a
 * bundle of CA certificates) is accepted; what Envoy would refuse is a problem naming the field.
 */
import { createCA } from '../../../../../pkg/tls/index.js';
import { SECRET_TYPE_URL, decodeMessage, encodeMessage } from '../../../../../pkg/envoy/index.js';
import { tlsCertificateSecret, validationContextSecret } from '../../../../../pkg/envoy/builders/index.js';
import { parseResponse } from '../../../../../pkg/sandbox/agent/xds-config.js';

let ca: Awaited<ReturnType<typeof createCA>>;
let leaf: { certPem: string; keyPem: string };
let other: { certPem: string; keyPem: string };
beforeAll(async () => {
  ca = await createCA('mesh');
  leaf = await ca.issue({ commonName: '', uris: ['spiffe://cluster.local/ns/a/sa/b'], clientAuth: true });
  other = await ca.issue({ commonName: 'other' });
});

/** As the agent sees it: encoded by fsm's root, decoded again. */
const wire = (s: object) =>
  decodeMessage(SECRET_TYPE_URL, encodeMessage(SECRET_TYPE_URL, s as Record<string, unknown>));

it('accepts a workload certificate (SPIFFE ID, expiry) and a trust bundle', () => {
  const r = parseResponse(SECRET_TYPE_URL, [
    wire(tlsCertificateSecret('fsm-workload-cert', leaf.certPem, leaf.keyPem)),
    wire(validationContextSecret('fsm-trust-bundle', ca.certPem + ca.certPem)),
  ]);
  expect(r.problems).toEqual([]);
  expect(r.config).toEqual([
    expect.objectContaining({
      name: 'fsm-workload-cert',
      kind: 'tls_certificate',
      uris: ['spiffe://cluster.local/ns/a/sa/b'],
      notAfter: expect.any(Number),
    }),
    expect.objectContaining({ name: 'fsm-trust-bundle', kind: 'validation_context', roots: 2 }),
  ]);
});

it.each<[string, () => object, RegExp]>([
  [
    'a key of another certificate',
    () => tlsCertificateSecret('w', leaf.certPem, other.keyPem),
    /private_key: does not match the certificate/,
  ],
  [
    'a certificate that does not parse',
    () =>
      tlsCertificateSecret(
        'w',
        '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n',
        leaf.keyPem,
      ),
    /certificate_chain: does not parse/,
  ],
  [
    'a key that is not a key',
    () => tlsCertificateSecret('w', leaf.certPem, 'nope'),
    /private_key: not a PEM private key/,
  ],
  [
    'a bundle without a certificate',
    () => validationContextSecret('b', 'nothing here'),
    /trusted_ca: holds no PEM certificate/,
  ],
  [
    'a bundle holding a leaf',
    () => validationContextSecret('b', leaf.certPem),
    /trusted_ca\[0\]: is not a CA certificate/,
  ],
  [
    'a file data source',
    () => ({
      name: 'w',
      tls_certificate: { certificate_chain: { filename: '/etc/x' }, private_key: { inline_string: 'k' } },
    }),
    /certificate_chain\.filename/,
  ],
  ['no content', () => ({ name: 'e' }), /Secret "e": neither tls_certificate nor validation_context/],
])('refuses %s, naming the field', (_n, make, problem) => {
  const r = parseResponse(SECRET_TYPE_URL, [wire(make())]);
  expect(r.problems.map((p) => `${p.path}: ${p.message}`).join('\n')).toMatch(problem);
});
