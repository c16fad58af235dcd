/**
 * 10,000 proxies connecting at once all get their certificate. The level: the ADS engine over the
 * in-memory transport (no ports: 10,000 TLS connections are what `npm run bench:ads -- --tls`
 * measures), with everything of identity real — each proxy presents its own bootstrap certificate
 * (10,000 issued by the mesh CA), the controller's MeshStreamAuthorizer verifies it against the
 * bundle and the pods, the WorkloadCertIssuer generates and signs 10,000 workload certificates with
 * bounded concurrency, and the snapshot cache serves them beside each node's listeners. Each proxy
 * must receive its config and its own SPIFFE certificate, signed by the mesh root.
 */
import { X509Certificate } from 'node:crypto';
import { SDS_TRUST_BUNDLE_NAME, SDS_WORKLOAD_CERT_NAME } from '../../../pkg/constants/index.js';
import { MeshStreamAuthorizer, snapshotSecretSink } from '../../../pkg/controller/index.js';
import { LISTENER_TYPE_URL, SECRET_TYPE_URL } from '../../../pkg/envoy/index.js';
import {
  MeshAuthority,
  WorkloadCertIssuer,
  newMeshCaData,
  readMeshCa,
  type ProxyPod,
} from '../../../pkg/identity/index.js';
import { silentLogger } from '../../../pkg/logger/index.js';
import type { SotwResponse } from '../../support/ads-client.js';
import { probeSnapshotInput } from '../../support/ads-fixtures.js';
import { MemoryAds, type MemorySotw } from '../../support/ads-memory.js';

const N = 10_000;
const NS = 'load';

it(`${N} proxies connecting at once all get their config and their own workload certificate`, async () => {
  const check = readMeshCa(await newMeshCaData('fsm'), 'test');
  if (!check.ok) throw new Error(check.problem);
  const mesh = await MeshAuthority.load(check.material);
  const uuid = (i: number): string => `p-${i}`;
  const sa = (i: number): string => `sa-${i % 50}`;
  const pods = new Map<string, ProxyPod[]>();
  for (let i = 0; i < N; i++)
    pods.set(uuid(i), [{ namespace: NS, name: `pod-${i}`, serviceAccount: sa(i), deleting: false }]);
  // Each proxy's own bootstrap credential.
  const bootstrap = await Promise.all(
    Array.from({ length: N }, (_, i) =>
      mesh.bootstrap({ proxyUuid: uuid(i), namespace: NS, serviceAccount: sa(i) }),
    ),
  );

  let issued = 0;
  let allIssued!: () => void;
  const done = new Promise<void>((r) => (allIssued = r));
  const caView = {
    authority: mesh,
    state: { status: 'ok' as const, authority: mesh },
    onChange: () => () => undefined,
  };
  // The sink is the controller's (snapshot layer); the engine's cache is created with the harness.
  const ref: { sink?: ReturnType<typeof snapshotSecretSink> } = {}; // set once the harness has its cache
  const issuer = new WorkloadCertIssuer({
    ca: caView,
    sink: {
      set: (node, secrets) => {
        ref.sink!.set(node, secrets);
        if (++issued === N) allIssued();
      },
      clear: (node) => ref.sink!.clear(node),
    },
    trustDomain: 'cluster.local',
    logger: silentLogger(),
  });
  const authorizer = new MeshStreamAuthorizer(
    caView,
    { synced: () => true, byProxyUuid: (u) => pods.get(u) ?? [] },
    issuer,
  );
  const ads = new MemoryAds({ authorizer });
  ref.sink = snapshotSecretSink(ads.cache);
  const config = probeSnapshotInput();
  for (let i = 0; i < N; i++) ads.cache.setSnapshot(uuid(i), config);

  // All at once: every stream opens and sends its first requests in the same turn.
  const streams: MemorySotw[] = [];
  for (let i = 0; i < N; i++) {
    const s = ads.sotw({
      address: `memory:${i}`,
      clientCertificate: new X509Certificate(bootstrap[i]!.certPem).raw,
    });
    s.send({ node: { id: uuid(i) }, type_url: LISTENER_TYPE_URL });
    s.send({ type_url: SECRET_TYPE_URL, resource_names: [SDS_WORKLOAD_CERT_NAME, SDS_TRUST_BUNDLE_NAME] });
    streams.push(s);
  }
  ads.run();
  await done;
  expect(issuer.issuedTotal).toBe(N);

  const root = mesh.material.signingCert;
  const serials = new Set<string>();
  for (let i = 0; i < N; i++) {
    const got: SotwResponse[] = streams[i]!.takeAll();
    expect(streams[i]!.transport.status).toBeUndefined(); // every stream still open
    const lds = got.find((r) => r.type_url === LISTENER_TYPE_URL);
    expect(lds?.names.length).toBeGreaterThan(0);
    const sds = got.filter((r) => r.type_url === SECRET_TYPE_URL).flatMap((r) => r.decoded);
    const cert = sds.find((d) => d.name === SDS_WORKLOAD_CERT_NAME);
    const x = new X509Certificate(cert.tls_certificate.certificate_chain.inline_string);
    expect(x.subjectAltName).toBe(`URI:spiffe://cluster.local/ns/${NS}/sa/${sa(i)}`);
    expect(x.verify(root.publicKey)).toBe(true);
    serials.add(x.serialNumber);
    expect(sds.find((d) => d.name === SDS_TRUST_BUNDLE_NAME)).toBeDefined();
  }
  expect(serials.size).toBe(N); // one certificate per proxy, never shared
  issuer.stop();
}, 180_000);
