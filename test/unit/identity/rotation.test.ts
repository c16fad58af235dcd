/**
 * Root rotation, phase by phase, on the Secret's data: what each phase changes, that certificates
 * of the old root stay verifiable until retire and those of the new one from stage on, and that
 * phases out of order are refused naming what to run.
 */
import { X509Certificate } from 'node:crypto';
import {
  MeshAuthority,
  newMeshCaData,
  newRoot,
  readMeshCa,
  rotateMeshCa,
  verifyBootstrapCertificate,
} from '../../../pkg/identity/index.js';

const W = 'Secret fsm-system/fsm-mesh-ca';
const who = { proxyUuid: 'p1', namespace: 'ns', serviceAccount: 'sa' };

async function authorityOf(data: Record<string, string>): Promise<MeshAuthority> {
  const r = readMeshCa(data, W);
  if (!r.ok) throw new Error(r.problem);
  return MeshAuthority.load(r.material);
}

it('stage → activate → retire', async () => {
  const d0 = await newMeshCaData('fsm');
  const a0 = await authorityOf(d0);
  const oldCert = new X509Certificate((await a0.bootstrap(who)).certPem).raw;

  const staged = rotateMeshCa(d0, 'stage', W, await newRoot('fsm'));
  expect(staged.ok).toBe(true);
  if (!staged.ok) return;
  const a1 = await authorityOf(staged.data);
  expect(a1.material.roots).toHaveLength(2);
  expect(a1.material.signingId).toBe(a0.material.signingId); // still signing with the old root
  expect(a1.material.next).toBeDefined();
  expect(verifyBootstrapCertificate(oldCert, a1.material.roots).ok).toBe(true);

  const active = rotateMeshCa(staged.data, 'activate', W);
  expect(active.ok).toBe(true);
  if (!active.ok) return;
  const a2 = await authorityOf(active.data);
  expect(a2.material.signingId).not.toBe(a0.material.signingId);
  expect(a2.material.next).toBeUndefined();
  expect(a2.material.roots).toHaveLength(2);
  const newCert = new X509Certificate((await a2.bootstrap(who)).certPem).raw;
  expect(verifyBootstrapCertificate(oldCert, a2.material.roots).ok).toBe(true);
  expect(verifyBootstrapCertificate(newCert, a2.material.roots).ok).toBe(true);
  // A proxy that took the staged bundle (a1) already trusts what the new root signs.
  expect(verifyBootstrapCertificate(newCert, a1.material.roots).ok).toBe(true);

  const retired = rotateMeshCa(active.data, 'retire', W);
  expect(retired.ok).toBe(true);
  if (!retired.ok) return;
  const a3 = await authorityOf(retired.data);
  expect(a3.material.roots).toHaveLength(1);
  expect(verifyBootstrapCertificate(oldCert, a3.material.roots)).toMatchObject({
    ok: false,
    refusal: 'untrusted',
  });
  expect(verifyBootstrapCertificate(newCert, a3.material.roots).ok).toBe(true);
});

it.each<
  [
    string,
    'stage' | 'activate' | 'retire',
    (d: Record<string, string>) => Promise<Record<string, string>>,
    RegExp,
  ]
>([
  ['activate without stage', 'activate', async (d) => d, /no root is staged .* run --phase stage first/],
  ['retire with one root', 'retire', async (d) => d, /holds only the signing root: nothing to retire/],
  [
    'stage twice',
    'stage',
    async (d) => {
      const r = rotateMeshCa(d, 'stage', W, await newRoot('fsm'));
      if (!r.ok) throw new Error(r.error);
      return r.data;
    },
    /a root is already staged .* run --phase activate/,
  ],
  [
    'retire while staged',
    'retire',
    async (d) => {
      const r = rotateMeshCa(d, 'stage', W, await newRoot('fsm'));
      if (!r.ok) throw new Error(r.error);
      return r.data;
    },
    /run --phase activate before retire/,
  ],
  [
    'stage before the last retire',
    'stage',
    async (d) => {
      const s = rotateMeshCa(d, 'stage', W, await newRoot('fsm'));
      if (!s.ok) throw new Error(s.error);
      const a = rotateMeshCa(s.data, 'activate', W);
      if (!a.ok) throw new Error(a.error);
      return a.data;
    },
    /still holds 2 roots: run --phase retire first/,
  ],
  ['a corrupt CA', 'stage', async (d) => ({ ...d, 'ca.key': 'x' }), /cannot rotate: .* key ca\.key/],
])('%s is refused', async (_n, phase, prep, err) => {
  const d = await prep(await newMeshCaData('fsm'));
  const r = rotateMeshCa(d, phase, W, await newRoot('fsm'));
  expect(r).toEqual({ ok: false, error: expect.stringMatching(err) });
});
