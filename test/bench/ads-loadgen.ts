/**
 * Load generator of `npm run bench:ads`, run as a separate process (child_process.fork): opens N
 * SotW ADS streams over M HTTP/2 connections, each for node `node-<i>`, subscribes to CDS and LDS
 * (wildcard) and RDS (the probe route config), ACKs every response, and reports to the parent over
 * IPC. Timestamps are process.hrtime (CLOCK_MONOTONIC, shared by both processes).
 */
import * as grpc from '@grpc/grpc-js';
import { ADS_SOTW_METHOD_PATH } from '../../pkg/constants/index.js';
import { CLUSTER_TYPE_URL, LISTENER_TYPE_URL, ROUTE_CONFIGURATION_TYPE_URL } from '../../pkg/envoy/index.js';
import { PROBE_ROUTE_CONFIG_NAME } from '../support/ads-fixtures.js';
import { encodeRequest, readResponse } from '../support/ads-loadwire.js';

export type LoadgenCommand =
  | { cmd: 'start'; address: string; streams: number; connections: number }
  | { cmd: 'arm'; mode: 'targeted' }
  | { cmd: 'arm'; mode: 'count'; expect: number }
  | { cmd: 'stop' };

export type LoadgenEvent =
  | { evt: 'ready'; ms: number; rssMb: number }
  | { evt: 'recv'; node: number; ns: string }
  | { evt: 'counted'; ns: string }
  | { evt: 'error'; message: string };

const TYPES = [CLUSTER_TYPE_URL, LISTENER_TYPE_URL, ROUTE_CONFIGURATION_TYPE_URL];
const RDS_NAMES = [PROBE_ROUTE_CONFIG_NAME];

function send(e: LoadgenEvent): void {
  process.send?.(e);
}

const clients: grpc.Client[] = [];
const calls: grpc.ClientDuplexStream<Buffer, Buffer>[] = [];
let mode: 'idle' | 'targeted' | 'count' = 'idle';
let countExpect = 0;
let counted = 0;

function openStream(client: grpc.Client, i: number, onInitial: () => void): void {
  const call = client.makeBidiStreamRequest<Buffer, Buffer>(
    ADS_SOTW_METHOD_PATH,
    (b) => b,
    (b) => b,
  );
  calls.push(call);
  let initial = 0;
  const nodeId = `node-${i}`;
  call.on('data', (b: Buffer) => {
    const r = readResponse(b);
    const names = r.typeUrl === ROUTE_CONFIGURATION_TYPE_URL ? RDS_NAMES : [];
    call.write(encodeRequest({ typeUrl: r.typeUrl, version: r.version, nonce: r.nonce, names }));
    if (initial < TYPES.length) {
      if (++initial === TYPES.length) onInitial();
      return;
    }
    if (r.typeUrl !== CLUSTER_TYPE_URL) return;
    if (mode === 'targeted') send({ evt: 'recv', node: i, ns: process.hrtime.bigint().toString() });
    else if (mode === 'count' && ++counted === countExpect) {
      send({ evt: 'counted', ns: process.hrtime.bigint().toString() });
    }
  });
  call.on('error', (e: Error) => {
    if (mode !== 'idle' || initial < TYPES.length) send({ evt: 'error', message: `${nodeId}: ${e.message}` });
  });
  call.write(encodeRequest({ nodeId, typeUrl: CLUSTER_TYPE_URL }));
  call.write(encodeRequest({ typeUrl: LISTENER_TYPE_URL }));
  call.write(encodeRequest({ typeUrl: ROUTE_CONFIGURATION_TYPE_URL, names: RDS_NAMES }));
}

async function start(c: Extract<LoadgenCommand, { cmd: 'start' }>): Promise<void> {
  const t0 = process.hrtime.bigint();
  for (let k = 0; k < c.connections; k++) {
    clients.push(
      new grpc.Client(c.address, grpc.credentials.createInsecure(), {
        'grpc.use_local_subchannel_pool': 1,
        'grpc.max_receive_message_length': 64 * 1024 * 1024,
      }),
    );
  }
  let ready = 0;
  const onInitial = (): void => {
    if (++ready === c.streams) {
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      send({ evt: 'ready', ms, rssMb: process.memoryUsage().rss / 2 ** 20 });
    }
  };
  // Open in batches so that connection setup is not one thundering herd.
  const batch = 250;
  for (let i = 0; i < c.streams; i += batch) {
    for (let j = i; j < Math.min(c.streams, i + batch); j++)
      openStream(clients[j % c.connections]!, j, onInitial);
    await new Promise((r) => setImmediate(r));
  }
}

process.on('message', (m: LoadgenCommand) => {
  switch (m.cmd) {
    case 'start':
      start(m).catch((e: unknown) => send({ evt: 'error', message: String(e) }));
      break;
    case 'arm':
      mode = m.mode;
      if (m.mode === 'count') {
        countExpect = m.expect;
        counted = 0;
      }
      break;
    case 'stop':
      mode = 'idle';
      for (const call of calls) call.cancel();
      for (const cl of clients) cl.close();
      setTimeout(() => process.exit(0), 200).unref();
      process.disconnect?.();
      break;
  }
});

// The parent (the benchmark) is gone: never linger.
process.on('disconnect', () => process.exit(0));
