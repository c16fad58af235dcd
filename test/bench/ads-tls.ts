/**
 * `npm run bench:ads -- --tls [--streams 10000] [--changes 1000]`: the ADS over mTLS bound to
 * identity, as the controller runs it. Every proxy is its own connection presenting its own
 * bootstrap certificate (the load generator issues them from the mesh CA, in its own process).
 * Measured in the same run:
 *   - ours: AdsServer with the ADS port's own TLS, the MeshStreamAuthorizer and the
 *     WorkloadCertIssuer (a SPIFFE certificate generated and signed per proxy at first connect):
 *     RSS with N streams, time for all to get their certificate and config (CDS, LDS, RDS, SDS),
 *     targeted push p50/p99;
 *   - bare: grpc-js with the same TLS credentials (serving certificate, bundle, client certificates
 *     required) writing the same pre-encoded bytes (and one pre-issued SDS response), no identity;
 *   - issuance: certificates/s of MeshAuthority.workload vs bare crypto.generateKeyPair + sign of a
 *     TBS of the same size, and the event-loop delay (perf_hooks.monitorEventLoopDelay) during
 *     1,000 of each.
 */
import { generateKeyPair, sign, type KeyObject } from 'node:crypto';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import * as grpc from '@grpc/grpc-js';
import { Registry } from 'prom-client';
import { AdsServer, SnapshotCache, encodeDiscoveryResponse, sotwResourceChunk } from '../../pkg/ads/index.js';
import {
  ADS_SOTW_METHOD_PATH,
  SDS_TRUST_BUNDLE_NAME,
  SDS_WORKLOAD_CERT_NAME,
} from '../../pkg/constants/index.js';
import {
  MeshStreamAuthorizer,
  controllerServerName,
  snapshotSecretSink,
} from '../../pkg/controller/index.js';
import { CLUSTER_TYPE_URL, SECRET_TYPE_URL, encodeMessage } from '../../pkg/envoy/index.js';
import { tlsCertificateSecret, validationContextSecret } from '../../pkg/envoy/builders/index.js';
import {
  MeshAuthority,
  WorkloadCertIssuer,
  newMeshCaData,
  readMeshCa,
  type ProxyPod,
} from '../../pkg/identity/index.js';
import { silentLogger } from '../../pkg/logger/index.js';
import { probeSnapshotInput } from '../support/ads-fixtures.js';
import { readRequest } from '../support/ads-loadwire.js';
import { Loadgen, flag, ms, nowNs, pct, rssMb, within } from './ads-common.js';

const N = flag('streams', 10_000);
const CHANGES = flag('changes', 1000);
const NS = 'bench';
const SA = 'default';
const FSM_NS = 'fsm-system';
const nodeId = (i: number): string => `node-${i}`;
const basePort = (i: number): number => 20000 + (i % 40000);
const f = (x: number): string => x.toFixed(2);

interface Run {
  readyMs: number;
  rssBefore: number;
  rssWith: number;
  targeted: number[];
  loadgenRss: number;
}

async function targetedPushes(lg: Loadgen, push: (k: number, j: number) => void): Promise<number[]> {
  lg.armTargeted();
  const out: number[] = [];
  for (let j = 0; j < CHANGES; j++) {
    const k = (j * 7919) % N;
    const got = lg.received(k);
    const t0 = nowNs();
    push(k, j);
    out.push(ms((await within(got, 30, `targeted push to node ${k}`)) - t0));
  }
  return out;
}

async function runOurs(
  caData: Record<string, string>,
  mesh: MeshAuthority,
): Promise<Run & { issued: number }> {
  const cache = new SnapshotCache();
  for (let i = 0; i < N; i++) cache.setSnapshot(nodeId(i), probeSnapshotInput({ appPort: basePort(i) }));
  const pods = new Map<string, ProxyPod[]>();
  for (let i = 0; i < N; i++)
    pods.set(nodeId(i), [{ namespace: NS, name: `pod-${i}`, serviceAccount: SA, deleting: false }]);
  const ca = {
    authority: mesh,
    state: { status: 'ok' as const, authority: mesh },
    onChange: () => () => undefined,
  };
  const issuer = new WorkloadCertIssuer({
    ca,
    sink: snapshotSecretSink(cache),
    trustDomain: 'cluster.local',
    logger: silentLogger(),
  });
  const serving = await mesh.serving([controllerServerName(FSM_NS)], 24 * 3600_000);
  const server = new AdsServer({
    cache,
    registry: new Registry(),
    logger: silentLogger(),
    tls: { material: { certPem: serving.certPem, keyPem: serving.keyPem, caPem: mesh.bundlePem } },
    authorizer: new MeshStreamAuthorizer(
      ca,
      { synced: () => true, byProxyUuid: (u) => pods.get(u) ?? [] },
      issuer,
    ),
  });
  const { port } = await server.start({ port: 0, host: '127.0.0.1' });
  const rssBefore = rssMb();
  const lg = new Loadgen(N, N);
  const ready = await within(
    lg.start(`127.0.0.1:${port}`, {
      caData,
      serverName: controllerServerName(FSM_NS),
      namespace: NS,
      serviceAccount: SA,
    }),
    900,
    'opening the mTLS streams (certificate and config on each)',
  );
  const rssWith = rssMb();
  const mu = process.memoryUsage();
  console.log(
    `ours: ${N} mTLS streams with certificate and config in ${(ready.ms / 1000).toFixed(1)} s, ${ready.retries ?? 0} reconnects (heap ${(mu.heapUsed / 2 ** 20).toFixed(0)} MB, external ${(mu.external / 2 ** 20).toFixed(0)} MB, array buffers ${(mu.arrayBuffers / 2 ** 20).toFixed(0)} MB)`,
  );
  const targeted = await targetedPushes(lg, (k, j) =>
    cache.setSnapshot(nodeId(k), probeSnapshotInput({ appPort: basePort(k) + 1 + (j % 2) })),
  );
  await lg.stop();
  await server.stop(0);
  issuer.stop();
  return {
    readyMs: ready.ms,
    rssBefore,
    rssWith,
    targeted,
    loadgenRss: ready.rssMb,
    issued: issuer.issuedTotal,
  };
}

async function runBare(caData: Record<string, string>, mesh: MeshAuthority): Promise<Run> {
  const cache = new SnapshotCache();
  for (let i = 0; i < N; i++) cache.setSnapshot(nodeId(i), probeSnapshotInput({ appPort: basePort(i) }));
  const one = await mesh.workload({
    trustDomain: 'cluster.local',
    namespace: NS,
    serviceAccount: SA,
    validityMs: 24 * 3600_000,
  });
  const secretsResponse = encodeDiscoveryResponse(
    'v1',
    [
      tlsCertificateSecret(SDS_WORKLOAD_CERT_NAME, one.certPem, one.keyPem),
      validationContextSecret(SDS_TRUST_BUNDLE_NAME, mesh.bundlePem),
    ].map((s) =>
      sotwResourceChunk(
        SECRET_TYPE_URL,
        encodeMessage(SECRET_TYPE_URL, s as unknown as Record<string, unknown>),
      ),
    ),
    SECRET_TYPE_URL,
    'b0',
  );
  const serving = await mesh.serving([controllerServerName(FSM_NS)], 24 * 3600_000);
  const server = new grpc.Server({ 'grpc.max_concurrent_streams': 16 });
  const calls = new Map<number, grpc.ServerDuplexStream<Buffer, Buffer>>();
  let nonce = 0;
  const response = (i: number, typeUrl: string): Buffer => {
    if (typeUrl === SECRET_TYPE_URL) return secretsResponse;
    const t = cache.getSnapshot(nodeId(i))!.types.get(typeUrl)!;
    return encodeDiscoveryResponse(
      t.version,
      [...t.resources.values()].map((r) => r.sotwChunk),
      typeUrl,
      `b${++nonce}`,
    );
  };
  server.register<Buffer, Buffer>(
    ADS_SOTW_METHOD_PATH,
    (call: grpc.ServerDuplexStream<Buffer, Buffer>) => {
      let idx = -1;
      call.on('data', (b: Buffer) => {
        const r = readRequest(b);
        if (r.nodeId) {
          idx = Number(r.nodeId.slice('node-'.length));
          calls.set(idx, call);
        }
        if (!r.nonce) call.write(response(idx, r.typeUrl));
      });
      call.on('error', () => undefined);
    },
    (b: Buffer) => b,
    (b: Buffer) => b,
    'bidi',
  );
  const creds = grpc.ServerCredentials.createSsl(
    Buffer.from(mesh.bundlePem),
    [{ private_key: Buffer.from(serving.keyPem), cert_chain: Buffer.from(serving.certPem) }],
    true,
  );
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', creds, (e, p) => (e ? reject(e) : resolve(p))),
  );
  const rssBefore = rssMb();
  const lg = new Loadgen(N, N);
  const ready = await within(
    lg.start(`127.0.0.1:${port}`, {
      caData,
      serverName: controllerServerName(FSM_NS),
      namespace: NS,
      serviceAccount: SA,
    }),
    900,
    'opening the bare mTLS streams',
  );
  const rssWith = rssMb();
  const mu = process.memoryUsage();
  console.log(
    `bare: ${N} mTLS streams with the same bytes in ${(ready.ms / 1000).toFixed(1)} s, ${ready.retries ?? 0} reconnects (heap ${(mu.heapUsed / 2 ** 20).toFixed(0)} MB, external ${(mu.external / 2 ** 20).toFixed(0)} MB, array buffers ${(mu.arrayBuffers / 2 ** 20).toFixed(0)} MB)`,
  );
  const prebuilt = Array.from({ length: CHANGES }, (_, j) => response((j * 7919) % N, CLUSTER_TYPE_URL));
  const targeted = await targetedPushes(lg, (k, j) => calls.get(k)!.write(prebuilt[j]!));
  await lg.stop();
  server.forceShutdown();
  return { readyMs: ready.ms, rssBefore, rssWith, targeted, loadgenRss: ready.rssMb };
}

/** Certificates/s and the event-loop delay while issuing `count` of them, `parallel` at a time. */
async function issuance(
  what: string,
  issueOne: () => Promise<unknown>,
  count = 1000,
  parallel = 8,
): Promise<{ perSecond: number; p99Ms: number; maxMs: number }> {
  // Warm-up (JIT, thread pool) outside the measurement.
  await Promise.all(Array.from({ length: parallel }, () => issueOne()));
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  const t0 = nowNs();
  let next = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < count) {
        next++;
        await issueOne();
      }
    }),
  );
  const elapsed = ms(nowNs() - t0);
  h.disable();
  const r = { perSecond: (count * 1000) / elapsed, p99Ms: h.percentile(99) / 1e6, maxMs: h.max / 1e6 };
  console.log(
    `${what}: ${r.perSecond.toFixed(0)}/s, event-loop delay p99 ${f(r.p99Ms)} ms, max ${f(r.maxMs)} ms`,
  );
  return r;
}

function bareIssue(caKey: KeyObject, tbs: Buffer): Promise<void> {
  return new Promise((resolve, reject) =>
    generateKeyPair('ec', { namedCurve: 'P-256' }, (err) => {
      if (err) return reject(err);
      sign('sha256', tbs, caKey, (e) => (e ? reject(e) : resolve()));
    }),
  );
}

export async function runTlsBench(): Promise<void> {
  console.log(
    `bench:ads --tls — ${N} mTLS streams (one connection and one bootstrap certificate each), ${CHANGES} targeted changes`,
  );
  const caData = await newMeshCaData('bench');
  const check = readMeshCa(caData, 'bench');
  if (!check.ok) throw new Error(check.problem);
  const mesh = await MeshAuthority.load(check.material);

  // Issuance first, on a quiet process.
  const ours = await issuance('issuance, ours (MeshAuthority.workload: key, SPIFFE certificate, PEM)', () =>
    mesh.workload({
      trustDomain: 'cluster.local',
      namespace: NS,
      serviceAccount: SA,
      validityMs: 24 * 3600_000,
    }),
  );
  const { createPrivateKey } = await import('node:crypto');
  const caKey = createPrivateKey(mesh.material.signing.keyPem);
  const tbs = Buffer.alloc(420, 7); // a workload TBSCertificate is ~420 bytes
  const bare = await issuance('issuance, bare (crypto.generateKeyPair + sign)', () => bareIssue(caKey, tbs));

  const o = await runOurs(caData, mesh);
  const b = await runBare(caData, mesh);
  const os = [...o.targeted].sort((x, y) => x - y);
  const bs = [...b.targeted].sort((x, y) => x - y);
  console.log('');
  console.log(
    `controller RSS with ${N} mTLS streams: ours ${o.rssWith.toFixed(0)} MB (goal < 1024 MB; ${(((o.rssWith - o.rssBefore) * 1024) / N).toFixed(1)} KiB per stream), bare ${b.rssWith.toFixed(0)} MB (${(((b.rssWith - b.rssBefore) * 1024) / N).toFixed(1)} KiB per stream); load generator ${o.loadgenRss.toFixed(0)} MB`,
  );
  console.log(
    `all ${N} proxies with certificate and config: ours ${(o.readyMs / 1000).toFixed(1)} s (${o.issued} certificates issued), bare (same TLS, bytes prebuilt, no issuance) ${(b.readyMs / 1000).toFixed(1)} s, ratio ${f(o.readyMs / b.readyMs)}`,
  );
  console.log(
    `targeted push p50: ours ${f(pct(os, 50))} ms, bare ${f(pct(bs, 50))} ms, ratio ${f(pct(os, 50) / pct(bs, 50))}`,
  );
  console.log(
    `targeted push p99: ours ${f(pct(os, 99))} ms (goal < 50 ms), bare ${f(pct(bs, 99))} ms, ratio ${f(pct(os, 99) / pct(bs, 99))}`,
  );
  console.log(
    `issuance: ours ${ours.perSecond.toFixed(0)}/s, bare ${bare.perSecond.toFixed(0)}/s, ratio ${f(ours.perSecond / bare.perSecond)}; event-loop delay p99 ours ${f(ours.p99Ms)} ms, bare ${f(bare.p99Ms)} ms`,
  );
}
