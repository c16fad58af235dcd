/**
 * Load generator of `npm run bench:ads`, run as a separate process (child_process.fork): opens N
 * SotW ADS streams over M HTTP/2 connections, each for node `node-<i>`, subscribes to CDS and LDS
 * (wildcard) and RDS (the probe route config), ACKs every response, and reports to the parent over
 * IPC. Timestamps are process.hrtime (CLOCK_MONOTONIC, shared by both processes).
 */
import * as grpc from '@grpc/grpc-js';
import {
  ADS_SOTW_METHOD_PATH,
  SDS_TRUST_BUNDLE_NAME,
  SDS_WORKLOAD_CERT_NAME,
} from '../../pkg/constants/index.js';
import {
  CLUSTER_TYPE_URL,
  LISTENER_TYPE_URL,
  ROUTE_CONFIGURATION_TYPE_URL,
  SECRET_TYPE_URL,
} from '../../pkg/envoy/index.js';
import { MeshAuthority, readMeshCa } from '../../pkg/identity/index.js';
import { PROBE_ROUTE_CONFIG_NAME } from '../support/ads-fixtures.js';
import { encodeRequest, readResponse } from '../support/ads-loadwire.js';

/**
 * mTLS mode: every stream is its own proxy on its own connection, presenting its own bootstrap
 * certificate (issued here by the mesh CA the parent passes) and asking for its SDS secrets too.
 */
export interface LoadgenTls {
  /** The mesh CA Secret's data (ca.crt, ca.key, trust-bundle.pem). */
  caData: Record<string, string>;
  serverName: string;
  namespace: string;
  serviceAccount: string;
}

export type LoadgenCommand =
  | { cmd: 'start'; address: string; streams: number; connections: number; tls?: LoadgenTls }
  | { cmd: 'arm'; mode: 'targeted' }
  | { cmd: 'arm'; mode: 'count'; expect: number }
  | { cmd: 'stop' };

export type LoadgenEvent =
  | { evt: 'ready'; ms: number; rssMb: number; retries?: number }
  | { evt: 'recv'; node: number; ns: string }
  | { evt: 'counted'; ns: string }
  | { evt: 'error'; message: string };

let TYPES = [CLUSTER_TYPE_URL, LISTENER_TYPE_URL, ROUTE_CONFIGURATION_TYPE_URL];
const RDS_NAMES = [PROBE_ROUTE_CONFIG_NAME];
const SDS_NAMES = [SDS_WORKLOAD_CERT_NAME, SDS_TRUST_BUNDLE_NAME];

function send(e: LoadgenEvent): void {
  process.send?.(e);
}

const clients: grpc.Client[] = [];
const calls: grpc.ClientDuplexStream<Buffer, Buffer>[] = [];
let mode: 'idle' | 'targeted' | 'count' = 'idle';
let countExpect = 0;
let counted = 0;

/**
 * One stream. `retry`: called instead of reporting an error when the stream fails before its
 * initial responses (mTLS mode: a proxy reconnects with backoff, as Envoy does).
 */
function openStream(client: grpc.Client, i: number, onInitial: () => void, retry?: () => void): void {
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
    const names =
      r.typeUrl === ROUTE_CONFIGURATION_TYPE_URL ? RDS_NAMES : r.typeUrl === SECRET_TYPE_URL ? SDS_NAMES : [];
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
    if (retry && initial < TYPES.length) return retry();
    if (mode !== 'idle' || initial < TYPES.length) send({ evt: 'error', message: `${nodeId}: ${e.message}` });
  });
  call.write(encodeRequest({ nodeId, typeUrl: CLUSTER_TYPE_URL }));
  call.write(encodeRequest({ typeUrl: LISTENER_TYPE_URL }));
  call.write(encodeRequest({ typeUrl: ROUTE_CONFIGURATION_TYPE_URL, names: RDS_NAMES }));
  if (TYPES.includes(SECRET_TYPE_URL))
    call.write(encodeRequest({ typeUrl: SECRET_TYPE_URL, names: SDS_NAMES }));
}

/** mTLS: one client (connection) per stream, each with its node's own bootstrap certificate. */
async function startTls(c: Extract<LoadgenCommand, { cmd: 'start' }>, tls: LoadgenTls): Promise<void> {
  TYPES = [CLUSTER_TYPE_URL, LISTENER_TYPE_URL, ROUTE_CONFIGURATION_TYPE_URL, SECRET_TYPE_URL];
  const check = readMeshCa(tls.caData, 'bench');
  if (!check.ok) throw new Error(check.problem);
  const mesh = await MeshAuthority.load(check.material);
  const bundle = Buffer.from(mesh.bundlePem);
  const certs = await Promise.all(
    Array.from({ length: c.streams }, (_, i) =>
      mesh.bootstrap({
        proxyUuid: `node-${i}`,
        namespace: tls.namespace,
        serviceAccount: tls.serviceAccount,
      }),
    ),
  );
  let retries = 0;
  const connect = (j: number, attempt: number): void => {
    const client = new grpc.Client(
      c.address,
      grpc.credentials.createSsl(bundle, Buffer.from(certs[j]!.keyPem), Buffer.from(certs[j]!.certPem)),
      {
        'grpc.use_local_subchannel_pool': 1,
        'grpc.ssl_target_name_override': tls.serverName,
        'grpc.default_authority': tls.serverName,
        'grpc.max_receive_message_length': 64 * 1024 * 1024,
      },
    );
    clients.push(client);
    openStream(client, j, onInitial, () => {
      // Refused under the herd (handshake timeout, backlog): reconnect like Envoy, 250 ms doubling
      // to 10 s, each delay uniform in [ceiling/2, ceiling].
      retries++;
      client.close();
      const ceiling = Math.min(10_000, 250 * 2 ** attempt);
      setTimeout(() => connect(j, attempt + 1), ceiling * (0.5 + Math.random() / 2));
    });
  };
  const t0 = process.hrtime.bigint();
  let ready = 0;
  const onInitial = (): void => {
    if (++ready === c.streams) {
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      send({ evt: 'ready', ms, rssMb: process.memoryUsage().rss / 2 ** 20, retries });
    }
  };
  const batch = 250;
  for (let i = 0; i < c.streams; i += batch) {
    for (let j = i; j < Math.min(c.streams, i + batch); j++) connect(j, 0);
    await new Promise((r) => setImmediate(r));
  }
}

async function start(c: Extract<LoadgenCommand, { cmd: 'start' }>): Promise<void> {
  if (c.tls) return startTls(c, c.tls);
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
