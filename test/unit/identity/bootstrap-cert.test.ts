/** Bootstrap certificates: the CN shape, and each refusal of verifyBootstrapCertificate. */
import { X509Certificate } from 'node:crypto';
import {
  MeshAuthority,
  bootstrapCommonName,
  newMeshCaData,
  parseBootstrapCommonName,
  readMeshCa,
  verifyBootstrapCertificate,
} from '../../../pkg/identity/index.js';

const UUID = '6f1c2a9e-1d2b-4c3d-8e4f-0123456789ab';
const who = { proxyUuid: UUID, namespace: 'bookstore', serviceAccount: 'bookbuyer' };

async function authority(name: string): Promise<MeshAuthority> {
  const r = readMeshCa(await newMeshCaData(name), 'test');
  if (!r.ok) throw new Error(r.problem);
  return MeshAuthority.load(r.material);
}

let mesh: MeshAuthority;
let stranger: MeshAuthority;
beforeAll(async () => {
  [mesh, stranger] = await Promise.all([authority('fsm'), authority('stranger')]);
});

const der = (pem: string): Buffer => new X509Certificate(pem).raw;

describe('common name', () => {
  it('is <uuid>.sidecar.<sa>.<ns> and parses back', () => {
    const cn = bootstrapCommonName(who);
    expect(cn).toBe(`${UUID}.sidecar.bookbuyer.bookstore`);
    expect(parseBootstrapCommonName(cn)).toEqual({ ...who, kind: 'sidecar' });
  });
  it.each([
    ['a service account with a dot', { ...who, serviceAccount: 'a.b' }, /serviceAccount "a.b" is invalid/],
    ['an empty namespace', { ...who, namespace: '' }, /namespace "" is invalid/],
    ['a proxy UUID with a dot', { ...who, proxyUuid: 'a.b' }, /proxyUuid "a.b" is invalid/],
  ])('refuses %s naming the field', (_n, w, err) => {
    expect(() => bootstrapCommonName(w)).toThrow(err);
  });
  it.each(['x.sidecar.sa', 'u.gateway.sa.ns', 'u.sidecar.SA.ns', 'spiffe://cluster.local/ns/a/sa/b', ''])(
    '%j is not a bootstrap CN',
    (cn) => expect(parseBootstrapCommonName(cn)).toBeUndefined(),
  );
});

describe('verifyBootstrapCertificate', () => {
  it('accepts a bootstrap certificate of the mesh and says who it is for', async () => {
    const c = await mesh.bootstrap(who);
    const v = verifyBootstrapCertificate(der(c.certPem), mesh.material.roots);
    expect(v).toEqual({ ok: true, identity: { ...who, kind: 'sidecar' }, notAfter: c.notAfter });
  });

  it('the certificate is client-only, carries OU=fsm-bootstrap and no URI SAN', async () => {
    const x = new X509Certificate((await mesh.bootstrap(who)).certPem);
    expect(x.subject).toContain('OU=fsm-bootstrap');
    expect(x.subjectAltName).toBeUndefined();
    expect(x.keyUsage).toEqual(['1.3.6.1.5.5.7.3.2']);
  });

  it('expired: refused naming the CN and the time', async () => {
    const c = await mesh.bootstrap(who, 60_000);
    const v = verifyBootstrapCertificate(der(c.certPem), mesh.material.roots, c.notAfter + 1);
    expect(v).toEqual({
      ok: false,
      refusal: 'expired',
      reason: expect.stringContaining(`CN=${UUID}.sidecar.bookbuyer.bookstore expired at`),
    });
  });

  it('not yet valid: refused naming the CN and the start', async () => {
    const c = await mesh.bootstrap(who);
    const v = verifyBootstrapCertificate(der(c.certPem), mesh.material.roots, c.notBefore - 1);
    expect(v).toEqual({
      ok: false,
      refusal: 'not-yet-valid',
      reason: expect.stringContaining('is not valid before'),
    });
  });

  it('another CA: untrusted (even when also expired)', async () => {
    const c = await stranger.bootstrap(who, 60_000);
    const v = verifyBootstrapCertificate(der(c.certPem), mesh.material.roots, c.notAfter + 1);
    expect(v).toEqual({
      ok: false,
      refusal: 'untrusted',
      reason: expect.stringContaining('is not signed by a root of the mesh trust bundle'),
    });
  });

  it('a workload certificate of the mesh is not a bootstrap credential', async () => {
    const c = await mesh.workload({
      trustDomain: 'cluster.local',
      namespace: 'bookstore',
      serviceAccount: 'bookbuyer',
      validityMs: 60_000,
    });
    const v = verifyBootstrapCertificate(der(c.certPem), mesh.material.roots);
    expect(v).toEqual({
      ok: false,
      refusal: 'not-bootstrap',
      reason: expect.stringContaining('is not a bootstrap certificate'),
    });
  });

  it('no certificate, garbage bytes', () => {
    expect(verifyBootstrapCertificate(undefined, mesh.material.roots)).toMatchObject({
      ok: false,
      refusal: 'no-certificate',
    });
    expect(verifyBootstrapCertificate(Buffer.from('nope'), mesh.material.roots)).toMatchObject({
      ok: false,
      refusal: 'unparsable',
    });
  });
});
