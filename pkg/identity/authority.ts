/**
 * Issuing with the mesh CA: workload certificates (SPIFFE URI SAN, client + server), bootstrap
 * certificates (client only, CN `<uuid>.sidecar.<sa>.<ns>`, OU fsm-bootstrap, no URI SAN, so a
 * bootstrap certificate can never pass as a workload identity between sidecars) and the
 * controller's serving certificate. ECDSA P-256 over Node's WebCrypto: key generation and signing
 * run on libuv's thread pool, the ASN.1 assembly (a fraction of a millisecond) on the caller's turn.
 */
import { X509Certificate } from 'node:crypto';
import {
  BOOTSTRAP_CERT_OU,
  BOOTSTRAP_CERT_VALIDITY_MS,
  CERT_BACKDATE_MS,
  MESH_CA_BUNDLE_KEY,
  MESH_CA_CERT_KEY,
  MESH_CA_KEY_KEY,
  MESH_CA_VALIDITY_MS,
} from '../constants/index.js';
import { createCA, loadCA, type CertificateAuthority, type PemPair } from '../tls/index.js';
import { bootstrapCommonName, type BootstrapIdentity } from './bootstrap-cert.js';
import type { MeshCaMaterial } from './ca-material.js';
import { spiffeId } from './spiffe.js';

export interface IssuedCertificate extends PemPair {
  /** ms since the epoch. */
  notBefore: number;
  notAfter: number;
}

export interface WorkloadCertRequest {
  trustDomain: string;
  namespace: string;
  serviceAccount: string;
  validityMs: number;
}

function withValidity(pair: PemPair): IssuedCertificate {
  const x = new X509Certificate(pair.certPem);
  return { ...pair, notBefore: Date.parse(x.validFrom), notAfter: Date.parse(x.validTo) };
}

/** The Secret data of a brand-new mesh CA (one root, which is also the whole bundle). */
export async function newMeshCaData(
  meshName: string,
  validityMs = MESH_CA_VALIDITY_MS,
): Promise<Record<string, string>> {
  const ca = await createCA(`fsm mesh ${meshName} root ${new Date().toISOString()}`, { ms: validityMs });
  return { [MESH_CA_CERT_KEY]: ca.certPem, [MESH_CA_KEY_KEY]: ca.keyPem, [MESH_CA_BUNDLE_KEY]: ca.certPem };
}

/** A new root and its key (the `stage` phase of a rotation). */
export async function newRoot(meshName: string, validityMs = MESH_CA_VALIDITY_MS): Promise<PemPair> {
  const ca = await createCA(`fsm mesh ${meshName} root ${new Date().toISOString()}`, { ms: validityMs });
  return { certPem: ca.certPem, keyPem: ca.keyPem };
}

/** Signs with the active root of a checked MeshCaMaterial. */
export class MeshAuthority {
  private constructor(
    readonly material: MeshCaMaterial,
    private readonly ca: CertificateAuthority,
  ) {}

  static async load(material: MeshCaMaterial): Promise<MeshAuthority> {
    return new MeshAuthority(material, await loadCA(material.signing));
  }

  get bundlePem(): string {
    return this.material.bundlePem;
  }

  /** A workload certificate: URI SAN spiffe://<td>/ns/<ns>/sa/<sa>, no subject, client + server. */
  async workload(req: WorkloadCertRequest): Promise<IssuedCertificate & { spiffeId: string }> {
    const id = spiffeId(req);
    const pair = await this.ca.issue({
      commonName: '',
      uris: [id],
      validityMs: req.validityMs,
      backdateMs: CERT_BACKDATE_MS,
      clientAuth: true,
    });
    return { ...withValidity(pair), spiffeId: id };
  }

  /** A bootstrap certificate: client only, CN `<uuid>.sidecar.<sa>.<ns>`, OU fsm-bootstrap. */
  async bootstrap(
    who: Omit<BootstrapIdentity, 'kind'>,
    validityMs = BOOTSTRAP_CERT_VALIDITY_MS,
  ): Promise<IssuedCertificate> {
    const pair = await this.ca.issue({
      commonName: bootstrapCommonName(who),
      subjectSuffix: `OU=${BOOTSTRAP_CERT_OU}`,
      validityMs,
      backdateMs: CERT_BACKDATE_MS,
      clientAuth: true,
      serverAuth: false,
    });
    return withValidity(pair);
  }

  /** The controller's ADS serving certificate. */
  async serving(dnsNames: string[], validityMs: number): Promise<IssuedCertificate> {
    const pair = await this.ca.issue({
      commonName: dnsNames[0]!,
      dnsNames,
      validityMs,
      backdateMs: CERT_BACKDATE_MS,
    });
    return withValidity(pair);
  }
}
