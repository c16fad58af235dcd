/**
 * The workload certificate issuer over a recording sink: lazy issuance per node, the SPIFFE
 * identity, renewal before expiry (validity of seconds), re-issue on root activation, bundle push on
 * stage, release when the last stream closes, bounded concurrency.
 */
import { X509Certificate } from 'node:crypto';
import {
  MeshAuthority,
  WorkloadCertIssuer,
  newMeshCaData,
  newRoot,
  readMeshCa,
  rotateMeshCa,
  type AuthoritySource,
} from '../../../pkg/identity/index.js';
import type { SdsSecret } from '../../../pkg/envoy/builders/index.js';
import { silentLogger } from '../../../pkg/logger/index.js';

async function authorityOf(data: Record<string, string>): Promise<MeshAuthority> {
  const r = readMeshCa(data, 'test');
  if (!r.ok) throw new Error(r.problem);
  return MeshAuthority.load(r.material);
}

class Source implements AuthoritySource {
  private ls = new Set<(a: MeshAuthority, p: MeshAuthority | undefined) => void>();
  constructor(public authority: MeshAuthority | undefined) {}
  onChange(l: (a: MeshAuthority, p: MeshAuthority | undefined) => void) {
    this.ls.add(l);
    return () => this.ls.delete(l);
  }
  set(a: MeshAuthority) {
    const prev = this.authority;
    this.authority = a;
    for (const l of this.ls) l(a, prev);
  }
}

class Sink {
  readonly sets: { node: string; secrets: readonly SdsSecret[] }[] = [];
  readonly cleared: string[] = [];
  private waiters: { n: number; resolve: () => void }[] = [];
  set(node: string, secrets: readonly SdsSecret[]) {
    this.sets.push({ node, secrets });
    this.waiters = this.waiters.filter((w) => (this.sets.length >= w.n ? (w.resolve(), false) : true));
  }
  clear(node: string) {
    this.cleared.push(node);
  }
  /** Resolves once `n` sets have been seen in all. */
  until(n: number): Promise<void> {
    return this.sets.length >= n
      ? Promise.resolve()
      : new Promise((resolve) => this.waiters.push({ n, resolve }));
  }
  certOf(i: number): X509Certificate {
    const s = this.sets[i]!.secrets.find((x) => 'tls_certificate' in x) as {
      tls_certificate: { certificate_chain: { inline_string: string } };
    };
    return new X509Certificate(s.tls_certificate.certificate_chain.inline_string);
  }
}

let caData: Record<string, string>;
let mesh: MeshAuthority;
beforeAll(async () => {
  caData = await newMeshCaData('fsm');
  mesh = await authorityOf(caData);
});

it('first acquire issues a SPIFFE workload certificate and the bundle; a second stream reuses it', async () => {
  const sink = new Sink();
  const issuer = new WorkloadCertIssuer({
    ca: new Source(mesh),
    sink,
    trustDomain: 'example.org',
    logger: silentLogger(),
  });
  const a = issuer.acquire('n1', { namespace: 'bookstore', serviceAccount: 'bookbuyer' });
  await a.ready;
  expect(sink.sets).toHaveLength(1);
  const [cert, bundle] = sink.sets[0]!.secrets as [any, any];
  expect(cert.name).toBe('fsm-workload-cert');
  expect(bundle).toEqual({
    name: 'fsm-trust-bundle',
    validation_context: { trusted_ca: { inline_string: mesh.bundlePem } },
  });
  const x = sink.certOf(0);
  expect(x.subjectAltName).toBe('URI:spiffe://example.org/ns/bookstore/sa/bookbuyer');
  expect(x.verify(mesh.material.signingCert.publicKey)).toBe(true);
  expect(x.checkPrivateKey).toBeDefined();
  expect(Date.parse(x.validTo) - Date.now()).toBeGreaterThan(23 * 3600_000); // 24 h default
  const b = issuer.acquire('n1', { namespace: 'bookstore', serviceAccount: 'bookbuyer' });
  await b.ready;
  expect(sink.sets).toHaveLength(1);
  a.release();
  expect(sink.cleared).toEqual([]);
  b.release();
  expect(sink.cleared).toEqual(['n1']);
  expect(issuer.size).toBe(0);
  issuer.stop();
});

it('renews before expiry: with a 3 s validity the certificate changes while the old one is still valid', async () => {
  const sink = new Sink();
  const issuer = new WorkloadCertIssuer({
    ca: new Source(mesh),
    sink,
    trustDomain: 'cluster.local',
    validityMs: 3000,
    logger: silentLogger(),
  });
  const a = issuer.acquire('n1', { namespace: 'ns', serviceAccount: 'sa' });
  await a.ready;
  await sink.until(2);
  const renewedAt = Date.now();
  const first = sink.certOf(0);
  const second = sink.certOf(1);
  expect(second.serialNumber).not.toBe(first.serialNumber);
  expect(Date.parse(first.validTo)).toBeGreaterThan(renewedAt - 1000); // before the first expired (second resolution)
  a.release();
  issuer.stop();
});

it('stage pushes the two-root bundle without re-issuing; activate re-issues with the new root', async () => {
  const src = new Source(mesh);
  const sink = new Sink();
  const issuer = new WorkloadCertIssuer({
    ca: src,
    sink,
    trustDomain: 'cluster.local',
    logger: silentLogger(),
  });
  const a = issuer.acquire('n1', { namespace: 'ns', serviceAccount: 'sa' });
  await a.ready;
  const staged = rotateMeshCa(caData, 'stage', 'test', await newRoot('fsm'));
  if (!staged.ok) throw new Error(staged.error);
  const s1 = await authorityOf(staged.data);
  src.set(s1);
  expect(sink.sets).toHaveLength(2);
  expect(sink.certOf(1).serialNumber).toBe(sink.certOf(0).serialNumber);
  expect((sink.sets[1]!.secrets[1] as any).validation_context.trusted_ca.inline_string).toBe(s1.bundlePem);
  const active = rotateMeshCa(staged.data, 'activate', 'test');
  if (!active.ok) throw new Error(active.error);
  const s2 = await authorityOf(active.data);
  src.set(s2);
  await sink.until(3);
  expect(sink.certOf(2).verify(s2.material.signingCert.publicKey)).toBe(true);
  a.release();
  issuer.stop();
});

it('bounded concurrency: 200 nodes at once, at most maxConcurrent in flight, all issued', async () => {
  const sink = new Sink();
  let inFlight = 0;
  let peak = 0;
  const wrapped = new Proxy(mesh, {
    get(target, prop, recv) {
      if (prop !== 'workload') return Reflect.get(target, prop, recv);
      return async (req: Parameters<MeshAuthority['workload']>[0]) => {
        peak = Math.max(peak, ++inFlight);
        try {
          return await target.workload(req);
        } finally {
          inFlight--;
        }
      };
    },
  });
  const issuer = new WorkloadCertIssuer({
    ca: new Source(wrapped),
    sink,
    trustDomain: 'cluster.local',
    maxConcurrent: 8,
    logger: silentLogger(),
  });
  const all = Array.from({ length: 200 }, (_, i) =>
    issuer.acquire(`n${i}`, { namespace: 'ns', serviceAccount: 'sa' }),
  );
  await Promise.all(all.map((a) => a.ready));
  expect(new Set(sink.sets.map((s) => s.node)).size).toBe(200);
  expect(peak).toBeLessThanOrEqual(8);
  expect(issuer.issuedTotal).toBe(200);
  issuer.stop();
});

it('no CA: issuance is retried, and succeeds once the CA is back', async () => {
  const src = new Source(undefined);
  const sink = new Sink();
  const issuer = new WorkloadCertIssuer({
    ca: src,
    sink,
    trustDomain: 'cluster.local',
    retryMs: 20,
    logger: silentLogger(),
  });
  const a = issuer.acquire('n1', { namespace: 'ns', serviceAccount: 'sa' });
  await a.ready;
  expect(sink.sets).toHaveLength(0);
  src.authority = mesh;
  await sink.until(1);
  expect(sink.sets[0]!.node).toBe('n1');
  a.release();
  issuer.stop();
});
