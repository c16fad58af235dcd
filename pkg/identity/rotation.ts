/**
 * Root rotation of the mesh CA, in three phases an operator runs one after another
 * (`fsm mesh ca rotate --phase stage|activate|retire`), each a pure edit of the CA Secret's data:
 *
 *   stage     a new root is added to the trust bundle (and kept as next.crt/next.key); signing
 *             continues with the old root. Every proxy receives the two-root bundle over SDS.
 *   activate  the staged root becomes the signing root; the old one stays in the bundle. The
 *             controllers re-issue every workload certificate (and renew bootstrap certificates) with it.
 *   retire    every root but the signing one leaves the bundle.
 *
 * What to wait for between the phases is in the README ("Rotating the mesh CA").
 */
import { X509Certificate } from 'node:crypto';
import {
  MESH_CA_BUNDLE_KEY,
  MESH_CA_CERT_KEY,
  MESH_CA_KEY_KEY,
  MESH_CA_NEXT_CERT_KEY,
  MESH_CA_NEXT_KEY_KEY,
} from '../constants/index.js';
import type { PemPair } from '../tls/index.js';
import { readMeshCa, type CaData } from './ca-material.js';
import { joinPem, parseBundle } from './pem.js';

export const ROTATION_PHASES = ['stage', 'activate', 'retire'] as const;
export type RotationPhase = (typeof ROTATION_PHASES)[number];

export type RotationResult =
  { ok: true; data: Record<string, string>; summary: string } | { ok: false; error: string };

function text(data: CaData): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(data)) if (v !== undefined) out[k] = v;
  return out;
}

function subjectOf(pem: string): string {
  return new X509Certificate(pem).subject.replace(/\n/g, ', ');
}

/**
 * Applies one phase to the CA Secret's (decoded) data. `newRoot` is required for `stage` only.
 * Refuses, naming why, a CA that does not pass readMeshCa and a phase out of order.
 */
export function rotateMeshCa(
  data: CaData,
  phase: RotationPhase,
  where: string,
  newRoot?: PemPair,
  now = Date.now(),
): RotationResult {
  const check = readMeshCa(data, where, now);
  if (!check.ok) return { ok: false, error: `cannot rotate: ${check.problem}` };
  const m = check.material;
  const out = text(data);
  switch (phase) {
    case 'stage': {
      if (m.next) {
        return {
          ok: false,
          error: `a root is already staged in ${where} (${MESH_CA_NEXT_CERT_KEY}): run --phase activate`,
        };
      }
      if (m.roots.length > 1) {
        return {
          ok: false,
          error: `the trust bundle of ${where} still holds ${m.roots.length} roots: run --phase retire first`,
        };
      }
      if (!newRoot) return { ok: false, error: 'stage needs a new root' };
      out[MESH_CA_NEXT_CERT_KEY] = newRoot.certPem;
      out[MESH_CA_NEXT_KEY_KEY] = newRoot.keyPem;
      out[MESH_CA_BUNDLE_KEY] = joinPem([
        ...parseBundle(m.bundlePem).map((c) => c.toString()),
        newRoot.certPem,
      ]);
      const r = readMeshCa(out, where, now);
      if (!r.ok) return { ok: false, error: `the staged root is not usable: ${r.problem}` };
      return {
        ok: true,
        data: out,
        summary: `staged root ${subjectOf(newRoot.certPem)}; still signing with ${subjectOf(m.signing.certPem)}`,
      };
    }
    case 'activate': {
      if (!m.next) return { ok: false, error: `no root is staged in ${where}: run --phase stage first` };
      out[MESH_CA_CERT_KEY] = m.next.certPem;
      out[MESH_CA_KEY_KEY] = m.next.keyPem;
      delete out[MESH_CA_NEXT_CERT_KEY];
      delete out[MESH_CA_NEXT_KEY_KEY];
      return {
        ok: true,
        data: out,
        summary: `now signing with ${subjectOf(m.next.certPem)}; the previous root stays trusted`,
      };
    }
    case 'retire': {
      if (m.next)
        return { ok: false, error: `a root is staged in ${where}: run --phase activate before retire` };
      const keep = m.roots.filter((r) => r.fingerprint256 === m.signingCert.fingerprint256);
      const dropped = m.roots.length - keep.length;
      if (dropped === 0)
        return {
          ok: false,
          error: `the trust bundle of ${where} holds only the signing root: nothing to retire`,
        };
      out[MESH_CA_BUNDLE_KEY] = joinPem(keep);
      return {
        ok: true,
        data: out,
        summary: `retired ${dropped} root(s); the bundle holds ${subjectOf(m.signing.certPem)} only`,
      };
    }
  }
}
