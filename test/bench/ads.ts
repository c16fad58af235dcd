/**
 * `npm run bench:ads [-- --streams 10000 --connections 100 --changes 1000]`
 * `npm run bench:ads -- --tls [--streams 10000]`: the same over mTLS bound to identity (ads-tls.ts).
 *
 * The controller side (this process) serves N proxies' probe-aware configs (3 listeners, 3
 * clusters, 1 route configuration each) from pkg/ads; a load generator in a separate process holds
 * N SotW streams over M connections and ACKs everything. Measured in the same run:
 *   - controller RSS with N streams held, and bytes per stream;
 *   - targeted push: one node's snapshot changes → that client receives it (p50 / p99);
 *   - mesh-wide push: every node changes → all ACKed (total time);
 *   - the bare baseline: a plain grpc-js server writing the same pre-encoded bytes to the same
 *     clients (no protocol state), and the ratios.
 */
import * as grpc from '@grpc/grpc-js';
import { Registry } from 'prom-client';
import {
  AdsServer,
  SnapshotCache,
  encodeDiscoveryResponse,
  type SnapshotInput,
} from '../../pkg/ads/index.js';
import { ADS_SOTW_METHOD_PATH } from '../../pkg/constants/index.js';
import { CLUSTER_TYPE_URL, encodeMessage, type PlainMessage } from '../../pkg/envoy/index.js';
import { silentLogger } from '../../pkg/logger/index.js';
import { probeSnapshotInput } from '../support/ads-fixtures.js';
import { readRequest } from '../support/ads-loadwire.js';
import { Loadgen, flag, ms, nowNs, pct, rssMb, untilCount, within } from './ads-common.js';

const N = flag('streams', 10_000);
const M = flag('connections', 100);
const CHANGES = flag('changes', 1000);
/** --ours-only: skip the bare baseline (profiling); the ratios are then not printed. */
const OURS_ONLY = process.argv.includes('--ours-only');

const nodeId = (i: number): string => `node-${i}`;
const basePort = (i: number): number => 20000 + (i % 40000);

/** The same input with every resource pre-encoded to bytes. */
function preEncoded(input: SnapshotInput): SnapshotInput {
  const out: Record<string, { name: string; resource: Uint8Array }[]> = {};
  for (const [t, list] of Object.entries(input)) {
    out[t] = (list ?? []).map((r) => ({
      name: r.name,
      resource: r.resource instanceof Uint8Array ? r.resource : encodeMessage(t, r.resource as PlainMessage),
    }));
  }
  return out;
}

interface Figures {
  readyMs: number;
  targeted: number[];
  meshReceivedMs: number;
  meshAckedMs: number;
}

async function runOurs(
  cache: SnapshotCache,
): Promise<Figures & { rssBefore: number; rssWith: number; meshPlainMs: number; targetedPlain: number[] }> {
  // The load generator multiplexes N/M proxies on one connection (a real proxy has its own): the
  // per-connection stream bound (16 by default) is raised to fit that.
  const server = new AdsServer({
    cache,
    registry: new Registry(),
    logger: silentLogger(),
    maxStreamsPerConnection: Math.ceil(N / M) + 1,
  });
  const { port } = await server.start({ port: 0, host: '127.0.0.1' });
  const rssBefore = rssMb();
  const lg = new Loadgen(N, M);
  const ready = await within(lg.start(`127.0.0.1:${port}`), 600, 'opening the streams');
  const rssWith = rssMb();
  console.log(
    `ours: ${N} streams ready in ${(ready.ms / 1000).toFixed(1)} s (loadgen RSS ${ready.rssMb.toFixed(0)} MB)`,
  );

  // Targeted pushes, one node at a time: first with pre-encoded input (the same bytes the bare
  // server writes), then with plain objects (the controller's real input: encoding included).
  lg.armTargeted();
  const targetedNode = (j: number): number => (j * 7919) % N;
  const preInputs = Array.from({ length: CHANGES }, (_, j) =>
    preEncoded(probeSnapshotInput({ appPort: basePort(targetedNode(j)) + 1 + (j % 2) })),
  );
  const targeted: number[] = [];
  for (let j = 0; j < CHANGES; j++) {
    const k = targetedNode(j);
    const got = lg.received(k);
    const t0 = nowNs();
    cache.setSnapshot(nodeId(k), preInputs[j]!);
    targeted.push(ms((await within(got, 30, `targeted push to node ${k}`)) - t0));
  }
  const targetedPlain: number[] = [];
  for (let j = 0; j < CHANGES; j++) {
    const k = targetedNode(j);
    const input = probeSnapshotInput({ appPort: basePort(k) + 3 + (j % 2) });
    const got = lg.received(k);
    const t0 = nowNs();
    cache.setSnapshot(nodeId(k), input);
    targetedPlain.push(ms((await within(got, 30, `targeted push to node ${k}`)) - t0));
  }
  // Restore a known state for every node before the mesh-wide change.
  for (let i = 0; i < N; i++) cache.setSnapshot(nodeId(i), probeSnapshotInput({ appPort: basePort(i) }));
  await settle(server);

  // Mesh-wide, pre-encoded input (same bytes the bare server writes).
  const inputs = Array.from({ length: N }, (_, i) =>
    preEncoded(probeSnapshotInput({ appPort: basePort(i) + 100 })),
  );
  const received = lg.armCount(N);
  const acksBase = server.metrics.totals.acks;
  const t0 = nowNs();
  for (let i = 0; i < N; i++) cache.setSnapshot(nodeId(i), inputs[i]!);
  const receivedAt = await within(received, 120, 'mesh-wide push');
  await untilCount(() => server.metrics.totals.acks, acksBase + N, 'mesh-wide ACKs');
  const meshAckedMs = ms(nowNs() - t0);
  const meshReceivedMs = ms(receivedAt - t0);

  // Mesh-wide again with plain objects: includes encoding every changed resource once.
  await settle(server);
  const plain = Array.from({ length: N }, (_, i) => probeSnapshotInput({ appPort: basePort(i) + 200 }));
  const received2 = lg.armCount(N);
  const acksBase2 = server.metrics.totals.acks;
  const t1 = nowNs();
  for (let i = 0; i < N; i++) cache.setSnapshot(nodeId(i), plain[i]!);
  await within(received2, 120, 'mesh-wide push (plain objects)');
  await untilCount(() => server.metrics.totals.acks, acksBase2 + N, 'mesh-wide ACKs (plain objects)');
  const meshPlainMs = ms(nowNs() - t1);

  await lg.stop();
  await server.stop(0);
  return {
    readyMs: ready.ms,
    targeted,
    targetedPlain,
    meshReceivedMs,
    meshAckedMs,
    rssBefore,
    rssWith,
    meshPlainMs,
  };
}

/** Waits until no response is in flight (all ACKs of the previous phase processed). */
async function settle(server: AdsServer): Promise<void> {
  let last = -1;
  while (server.metrics.totals.acks !== last) {
    last = server.metrics.totals.acks;
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Bare baseline: grpc-js streaming the same pre-encoded bytes, no protocol state at all. */
async function runBare(cache: SnapshotCache): Promise<Figures> {
  const server = new grpc.Server();
  const calls = new Map<number, grpc.ServerDuplexStream<Buffer, Buffer>>();
  let acks = 0;
  let nonce = 0;
  const response = (i: number, typeUrl: string): Buffer => {
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
        if (r.nonce) acks++;
        else call.write(response(idx, r.typeUrl));
      });
      call.on('error', () => undefined);
    },
    (b: Buffer) => b,
    (b: Buffer) => b,
    'bidi',
  );
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) =>
      e ? reject(e) : resolve(p),
    ),
  );
  const lg = new Loadgen(N, M);
  const ready = await within(lg.start(`127.0.0.1:${port}`), 600, 'opening the streams');
  console.log(`bare: ${N} streams ready in ${(ready.ms / 1000).toFixed(1)} s`);

  lg.armTargeted();
  const targeted: number[] = [];
  const prebuilt = Array.from({ length: CHANGES }, (_, j) => response((j * 7919) % N, CLUSTER_TYPE_URL));
  for (let j = 0; j < CHANGES; j++) {
    const k = (j * 7919) % N;
    const got = lg.received(k);
    const t0 = nowNs();
    calls.get(k)!.write(prebuilt[j]!);
    targeted.push(ms((await within(got, 30, `targeted push to node ${k}`)) - t0));
  }
  const mesh = Array.from({ length: N }, (_, i) => response(i, CLUSTER_TYPE_URL));
  await new Promise((r) => setTimeout(r, 300));
  const received = lg.armCount(N);
  const acksBase = acks;
  const t0 = nowNs();
  for (let i = 0; i < N; i++) calls.get(i)!.write(mesh[i]!);
  const receivedAt = await within(received, 120, 'mesh-wide push');
  await untilCount(() => acks, acksBase + N, 'bare mesh-wide ACKs');
  const meshAckedMs = ms(nowNs() - t0);
  await lg.stop();
  server.forceShutdown();
  return { readyMs: ready.ms, targeted, meshReceivedMs: ms(receivedAt - t0), meshAckedMs };
}

async function main(): Promise<void> {
  if (process.argv.includes('--tls')) {
    await (await import('./ads-tls.js')).runTlsBench();
    process.exit(0);
  }
  console.log(
    `bench:ads — ${N} streams over ${M} connections, ${CHANGES} targeted changes (2-core shared machine: figures are noisy)`,
  );
  const rss0 = rssMb();
  const cache = new SnapshotCache();
  const t0 = nowNs();
  for (let i = 0; i < N; i++) cache.setSnapshot(nodeId(i), probeSnapshotInput({ appPort: basePort(i) }));
  const setMs = ms(nowNs() - t0);
  console.log(
    `snapshots: ${N} proxies set from plain objects in ${setMs.toFixed(0)} ms (${((setMs * 1000) / N).toFixed(0)} µs/proxy), cache +${(rssMb() - rss0).toFixed(0)} MB`,
  );

  const ours = await runOurs(cache);
  if (OURS_ONLY) {
    console.log(ours);
    process.exit(0);
  }
  const bare = await runBare(cache);

  const o = [...ours.targeted].sort((a, b) => a - b);
  const b = [...bare.targeted].sort((a, b2) => a - b2);
  const perStream = ((ours.rssWith - ours.rssBefore) * 2 ** 20) / N;
  const f = (x: number): string => x.toFixed(2);
  console.log('');
  console.log(
    `controller RSS with ${N} streams: ${ours.rssWith.toFixed(0)} MB (goal < 1024 MB); ${(perStream / 1024).toFixed(1)} KiB per stream (RSS before streams ${ours.rssBefore.toFixed(0)} MB)`,
  );
  console.log(
    `targeted push p50: ours ${f(pct(o, 50))} ms, bare ${f(pct(b, 50))} ms, ratio ${f(pct(o, 50) / pct(b, 50))}`,
  );
  console.log(
    `targeted push p99: ours ${f(pct(o, 99))} ms (goal < 50 ms), bare ${f(pct(b, 99))} ms, ratio ${f(pct(o, 99) / pct(b, 99))}`,
  );
  const op = [...ours.targetedPlain].sort((a, b2) => a - b2);
  console.log(
    `targeted push from plain objects (encoding included): ours p50 ${f(pct(op, 50))} ms, p99 ${f(pct(op, 99))} ms`,
  );
  console.log(
    `mesh-wide push, all received: ours ${ours.meshReceivedMs.toFixed(0)} ms, bare ${bare.meshReceivedMs.toFixed(0)} ms`,
  );
  console.log(
    `mesh-wide push, all ACKed: ours ${ours.meshAckedMs.toFixed(0)} ms (goal < 2000 ms), bare ${bare.meshAckedMs.toFixed(0)} ms; ours/bare time ratio ${f(ours.meshAckedMs / bare.meshAckedMs)} → ours runs at ${((100 * bare.meshAckedMs) / ours.meshAckedMs).toFixed(0)}% of bare (goal ≥ 50%)`,
  );
  console.log(
    `mesh-wide push from plain objects (encoding included), all ACKed: ours ${ours.meshPlainMs.toFixed(0)} ms`,
  );
  process.exit(0);
}

main().catch((e: unknown) => {
  process.exitCode = 1;
  console.error(e);
  process.exit(1);
});
