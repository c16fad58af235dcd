/**
 * ADS over mTLS bound to identity, over real gRPC with real TLS on 127.0.0.1 (in-process
 * controller, sandbox API server). Every refusal of issue 13 ends the stream with its own status
 * and reason, a server log line names what the peer presented, and not one response is written
 * before authorization. The way in: the pod's own bootstrap credential, node.id = its proxy UUID;
 * then the workload certificate (SPIFFE) and the trust bundle arrive over SDS, and are rotated on
 * the same stream before they expire.
 */
import { X509Certificate } from 'node:crypto';
import { PassThrough } from 'node:stream';
import * as grpc from '@grpc/grpc-js';
import { CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import {
  BOOTSTRAP_CERT_OU,
  MONITORED_BY_LABEL,
  PROXY_UUID_LABEL,
  SDS_TRUST_BUNDLE_NAME,
  SDS_WORKLOAD_CERT_NAME,
} from '../../../pkg/constants/index.js';
import { startController, type RunningController } from '../../../pkg/controller/index.js';
import { LISTENER_TYPE_URL, SECRET_TYPE_URL, decodeMessage } from '../../../pkg/envoy/index.js';
import {
  MeshAuthority,
  bootstrapCommonName,
  newMeshCaData,
  readMeshCa,
} from '../../../pkg/identity/index.js';
import { createLogger } from '../../../pkg/logger/index.js';
import { loadCA } from '../../../pkg/tls/index.js';
import { RawAdsClient, ackOf, type RawStream, type SotwResponse } from '../../support/ads-client.js';
import { startTestApiServer, type TestApiServer } from '../../support/apiserver.js';
import { eventually } from '../../support/eventually.js';
import { meshAuthorityOf, proxyAdsClient } from '../../support/mesh-identity.js';
import { http, injectedPod } from '../../support/pods.js';

const NS = 'bookstore';
let api: TestApiServer;
let core: CoreV1Api;
let ctl: RunningController;
let mesh: MeshAuthority;
let address: string;
const logLines: Record<string, unknown>[] = [];
const clients: RawAdsClient[] = [];

function pod(name: string, serviceAccount = 'bookbuyer'): V1Pod {
  const p = injectedPod({
    name,
    namespace: NS,
    serviceAccount,
    containers: [{ name: 'app', ports: [14001], liveness: http(14001) }],
  });
  delete p.metadata!.uid;
  return p;
}
const uuidOf = (p: V1Pod): string => p.metadata!.labels![PROXY_UUID_LABEL]!;

beforeAll(async () => {
  api = await startTestApiServer();
  core = api.kc.makeApiClient(CoreV1Api);
  await core.createNamespace({ body: { metadata: { name: NS, labels: { [MONITORED_BY_LABEL]: 'fsm' } } } });
  await core.createNamespace({ body: { metadata: { name: 'fsm-system' } } });
  const out = new PassThrough();
  out.on('data', (b: Buffer) => {
    for (const line of b.toString().split('\n'))
      if (line.trim()) logLines.push(JSON.parse(line) as Record<string, unknown>);
  });
  ctl = await startController({
    kubeConfig: api.kc,
    meshName: 'fsm',
    fsmNamespace: 'fsm-system',
    adsPort: 0,
    healthPort: 0,
    bindAddress: '127.0.0.1',
    outOfSyncThresholdMs: 30_000,
    debounceMs: 5,
    workers: 2,
    adsDrainGraceMs: 100,
    version: 'test',
    workloadCertValidityMs: 3000,
    logger: createLogger({ stream: out, json: true, level: 'info' }),
  });
  mesh = await meshAuthorityOf(api.kc);
  address = `127.0.0.1:${ctl.adsPort}`;
});

afterAll(async () => {
  for (const c of clients) c.close();
  await ctl?.stop();
  await api?.stop();
});

async function created(p: V1Pod): Promise<V1Pod> {
  const made = await core.createNamespacedPod({ namespace: NS, body: p });
  await eventually('the controller sees the pod', () => ctl.proxyPods.pod(NS, uuidOf(p)));
  await eventually('its config', () => ctl.ads.cache.getSnapshot(uuidOf(p)));
  return made;
}

function client(cert?: { certPem: string; keyPem: string }): RawAdsClient {
  const c = proxyAdsClient(address, mesh.bundlePem, cert);
  clients.push(c);
  return c;
}

/** Opens a SotW stream, sends the first request (unless `send` is false) and collects what comes. */
async function refusedStream(
  c: RawAdsClient,
  nodeId: string,
  send = true,
): Promise<{ status: grpc.StatusObject; responses: number }> {
  const s = c.sotw();
  let responses = 0;
  s.call.on('data', () => responses++);
  if (send) s.send({ node: { id: nodeId }, type_url: LISTENER_TYPE_URL });
  const status = await s.status();
  return { status, responses };
}

function refusalLogged(reason: RegExp): Record<string, unknown> | undefined {
  return logLines.find(
    (l) =>
      (l['message'] === 'ADS stream refused' || l['message'] === 'ADS stream revoked') &&
      reason.test(String(l['reason'])),
  );
}

describe('refusals, each with its own status and reason, and no configuration byte', () => {
  it('anonymous (TLS without a client certificate): UNAUTHENTICATED at once, before any request', async () => {
    const r = await refusedStream(client(), 'whatever', false);
    expect(r.status.code).toBe(grpc.status.UNAUTHENTICATED);
    expect(r.status.details).toMatch(/no client certificate: the ADS requires mTLS/);
    expect(r.responses).toBe(0);
    expect(refusalLogged(/no client certificate/)).toMatchObject({
      level: 'warn',
      peer: expect.stringMatching(/^127\.0\.0\.1:\d+$/),
    });
  });

  it('plaintext (no TLS at all): the connection fails, nothing is served', async () => {
    const c = new RawAdsClient(address, { 'grpc.initial_reconnect_backoff_ms': 100 });
    clients.push(c);
    const r = await refusedStream(c, 'x');
    expect(r.status.code).toBe(grpc.status.UNAVAILABLE);
    expect(r.responses).toBe(0);
  });

  it('expired bootstrap certificate: UNAUTHENTICATED naming the CN and the time', async () => {
    const p = await created(pod('expired'));
    const cert = await mesh.bootstrap(
      { proxyUuid: uuidOf(p), namespace: NS, serviceAccount: 'bookbuyer' },
      1,
    );
    while (Date.now() <= cert.notAfter) await new Promise((r) => setTimeout(r, 50));
    const r = await refusedStream(client(cert), uuidOf(p));
    expect(r.status.code).toBe(grpc.status.UNAUTHENTICATED);
    expect(r.status.details).toMatch(
      new RegExp(`CN=${uuidOf(p)}\\.sidecar\\.bookbuyer\\.bookstore expired at`),
    );
    expect(r.responses).toBe(0);
    expect(refusalLogged(/expired at/)).toMatchObject({ node: uuidOf(p) });
  });

  it('not-yet-valid bootstrap certificate: UNAUTHENTICATED naming when it starts', async () => {
    const p = await created(pod('early'));
    const ca = await loadCA(mesh.material.signing);
    const future = await ca.issue({
      commonName: bootstrapCommonName({ proxyUuid: uuidOf(p), namespace: NS, serviceAccount: 'bookbuyer' }),
      subjectSuffix: `OU=${BOOTSTRAP_CERT_OU}`,
      backdateMs: -3600_000,
      validityMs: 7200_000,
      clientAuth: true,
      serverAuth: false,
    });
    const r = await refusedStream(client(future), uuidOf(p));
    expect(r.status.code).toBe(grpc.status.UNAUTHENTICATED);
    expect(r.status.details).toMatch(/is not valid before/);
    expect(r.responses).toBe(0);
  });

  it('wrong CA: UNAUTHENTICATED, not signed by a root of the mesh', async () => {
    const p = await created(pod('stranger'));
    const check = readMeshCa(await newMeshCaData('other'), 'other');
    if (!check.ok) throw new Error(check.problem);
    const other = await MeshAuthority.load(check.material);
    const cert = await other.bootstrap({ proxyUuid: uuidOf(p), namespace: NS, serviceAccount: 'bookbuyer' });
    const r = await refusedStream(client(cert), uuidOf(p));
    expect(r.status.code).toBe(grpc.status.UNAUTHENTICATED);
    expect(r.status.details).toMatch(/is not signed by a root of the mesh trust bundle/);
    expect(r.responses).toBe(0);
    expect(refusalLogged(/not signed by a root/)).toBeDefined();
  });

  it("mismatched: pod A's credential with node.id of pod B → PERMISSION_DENIED", async () => {
    const a = await created(pod('pod-a'));
    const b = await created(pod('pod-b'));
    const certA = await mesh.bootstrap({ proxyUuid: uuidOf(a), namespace: NS, serviceAccount: 'bookbuyer' });
    const r = await refusedStream(client(certA), uuidOf(b));
    expect(r.status.code).toBe(grpc.status.PERMISSION_DENIED);
    expect(r.status.details).toBe(
      `node.id "${uuidOf(b)}" is not the proxy UUID of the client certificate (CN=${uuidOf(a)}.sidecar.bookbuyer.bookstore)`,
    );
    expect(r.responses).toBe(0);
    expect(refusalLogged(/is not the proxy UUID/)).toMatchObject({
      presented: `${uuidOf(a)}.sidecar.bookbuyer.bookstore`,
      node: uuidOf(b),
    });
  });

  it('the pod runs as another service account than the credential names → PERMISSION_DENIED', async () => {
    const p = await created(pod('other-sa', 'admin'));
    const cert = await mesh.bootstrap({ proxyUuid: uuidOf(p), namespace: NS, serviceAccount: 'bookbuyer' });
    const r = await refusedStream(client(cert), uuidOf(p));
    expect(r.status.code).toBe(grpc.status.PERMISSION_DENIED);
    expect(r.status.details).toMatch(/runs as service account admin, the client certificate names bookbuyer/);
  });

  it('revoked by deletion: a live stream ends with PERMISSION_DENIED; reconnecting is refused', async () => {
    const p = await created(pod('doomed'));
    const cert = await mesh.bootstrap({ proxyUuid: uuidOf(p), namespace: NS, serviceAccount: 'bookbuyer' });
    const c = client(cert);
    const live = c.sotw();
    live.send({ node: { id: uuidOf(p) }, type_url: LISTENER_TYPE_URL });
    expect((await live.next()).resources.length).toBeGreaterThan(0);
    await core.deleteNamespacedPod({ name: 'doomed', namespace: NS });
    const ended = await live.status();
    expect(ended.code).toBe(grpc.status.PERMISSION_DENIED);
    expect(ended.details).toBe(`pod ${NS}/doomed is gone: its proxy credential is revoked`);
    const again = await refusedStream(client(cert), uuidOf(p));
    expect(again.status.code).toBe(grpc.status.PERMISSION_DENIED);
    expect(again.status.details).toMatch(
      new RegExp(`no pod with proxy UUID ${uuidOf(p)} in namespace ${NS}`),
    );
    expect(again.responses).toBe(0);
    expect(refusalLogged(/is gone: its proxy credential is revoked/)).toMatchObject({ node: uuidOf(p) });
  });
});

describe('the pod’s own credential', () => {
  let s: RawStream<SotwResponse>;
  let p: V1Pod;

  beforeAll(async () => {
    p = await created(pod('good'));
    const cert = await mesh.bootstrap({ proxyUuid: uuidOf(p), namespace: NS, serviceAccount: 'bookbuyer' });
    s = client(cert).sotw();
  });

  it('gets its config, and over SDS its SPIFFE workload certificate and the trust bundle', async () => {
    s.send({ node: { id: uuidOf(p) }, type_url: LISTENER_TYPE_URL });
    const lds = await s.next();
    expect(lds.resources.length).toBeGreaterThan(0);
    s.send({ ...ackOf(lds), node: { id: uuidOf(p) } });
    s.send({ type_url: SECRET_TYPE_URL, resource_names: [SDS_WORKLOAD_CERT_NAME, SDS_TRUST_BUNDLE_NAME] });
    const sds = await s.next();
    expect(sds.type_url).toBe(SECRET_TYPE_URL);
    const secrets = sds.resources.map((r) => decodeMessage<any>(SECRET_TYPE_URL, r.value));
    expect(secrets.map((x) => x.name).sort()).toEqual([SDS_TRUST_BUNDLE_NAME, SDS_WORKLOAD_CERT_NAME].sort());
    const wl = secrets.find((x) => x.name === SDS_WORKLOAD_CERT_NAME);
    const x = new X509Certificate(wl.tls_certificate.certificate_chain.inline_string);
    expect(x.subjectAltName).toBe('URI:spiffe://cluster.local/ns/bookstore/sa/bookbuyer');
    expect(x.verify(mesh.material.signingCert.publicKey)).toBe(true);
    const bundle = secrets.find((x) => x.name === SDS_TRUST_BUNDLE_NAME);
    expect(bundle.validation_context.trusted_ca.inline_string).toBe(mesh.bundlePem);
    s.send({ ...ackOf(sds, [SDS_WORKLOAD_CERT_NAME, SDS_TRUST_BUNDLE_NAME]) });
  });

  it('rotation: a new certificate arrives before the old one expires, is ACKed, and the stream stays', async () => {
    const before = ctl.ads.streamsOf(uuidOf(p));
    expect(before).toHaveLength(1);
    const first = ctl.workloadCerts.certificateOf(uuidOf(p))!;
    const next = await s.next();
    const receivedAt = Date.now();
    expect(next.type_url).toBe(SECRET_TYPE_URL);
    const wl = next.resources
      .map((r) => decodeMessage<any>(SECRET_TYPE_URL, r.value))
      .find((x) => x.name === SDS_WORKLOAD_CERT_NAME);
    const rotated = new X509Certificate(wl.tls_certificate.certificate_chain.inline_string);
    expect(rotated.serialNumber).not.toBe(new X509Certificate(first.certPem).serialNumber);
    // Second resolution of notAfter: the old one is still valid when the new one is received.
    expect(first.notAfter).toBeGreaterThan(receivedAt - 1000);
    s.send({ ...ackOf(next, [SDS_WORKLOAD_CERT_NAME, SDS_TRUST_BUNDLE_NAME]) });
    await eventually('the ACK is counted', async () =>
      (await ctl.ads.metrics.acks.get()).values.some((v) => v.labels['type'] === 'SDS' && v.value >= 2)
        ? true
        : undefined,
    );
    expect(ctl.ads.streamsOf(uuidOf(p))).toEqual(before); // the very same stream
    expect(before[0]!.isClosed).toBe(false);
  });
});
