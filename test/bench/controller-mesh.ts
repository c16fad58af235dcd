/**
 * `npm run bench:controller -- --mesh [--proxies 10000 --services 1000 --endpoints 50000
 *   --streams <n> --changes 50]`: the mesh data path's scale (issue 15).
 *
 * Processes: the sandbox API server seeded with `--proxies` injected pods (each with a pod IP),
 * `--services` Services with a ClusterIP and one EndpointSlice each (`--endpoints` in all, every
 * endpoint a meshed pod); the built fsm-controller; a bare grpc-js server; and this process (the
 * proxies' ADS streams and the clocks). Measured in one run:
 *   1. time to ready (spawned → /health/ready 200) and RSS (VmRSS) at ready, once every proxy's
 *      snapshot is set, and with `--streams` proxies connected (mTLS, each with its own bootstrap
 *      credential, Delta xDS subscribed to every Service's ClusterLoadAssignment);
 *   2. endpoint change → all affected proxies ACKed: `--changes` EndpointSlice updates (one endpoint's
 *      ready condition flipped), one at a time; for each, PUT sent → the last connected stream has
 *      received the change and sent its ACK. Every proxy routes to every meshed Service, so every
 *      connected stream is affected; the resources each response carries are counted (Delta: one).
 *      Bare baseline: the same response bytes written by a bare grpc-js server (mTLS) to the same
 *      number of streams, → the last client has received them and written its ACK.
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { DiscoveryV1Api, KubeConfig } from '@kubernetes/client-node';
import {
  ADS_DELTA_METHOD_PATH,
  DEFAULT_FSM_NAMESPACE,
  DEFAULT_MESH_NAME,
} from '../../pkg/constants/index.js';
import { CLUSTER_LOAD_ASSIGNMENT_TYPE_URL, type PlainMessage } from '../../pkg/envoy/index.js';
import { meshClusterName } from '../../pkg/envoy/builders/index.js';
import { decodeDeltaResponse, encodeDeltaRequest } from '../support/ads-client.js';
import { Latencies, fmt, printComparison, rssMiB, sleep } from '../support/bench-stats.js';
import {
  BARE_PUSH_METHOD,
  type BarePushCommand,
  type BarePushEvent,
} from '../support/controller-bench-bare-push.js';
import {
  BENCH_NAMESPACE,
  BENCH_POD_PREFIX,
  BENCH_SERVICE_PREFIX,
  meshEndpointsOf,
  meshPodIP,
  type BenchApiCommand,
  type BenchApiEvent,
} from '../support/controller-bench-shared.js';
import { adsChannelOptions, meshAuthorityOf } from '../support/mesh-identity.js';
import { closedPort, httpRequest } from '../support/net.js';
import { fixtureUuid } from '../support/pods.js';
import { binaryPath } from '../support/process.js';

function flag(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return def;
  const n = Number(process.argv[i + 1]);
  if (!Number.isInteger(n) || n <= 0) {
    console.error(
      `bench:controller --mesh: --${name}: expected a positive integer, got ${JSON.stringify(process.argv[i + 1])}`,
    );
    process.exit(2);
  }
  return n;
}

const PROXIES = flag('proxies', 10_000);
const SERVICES = flag('services', 1000);
const ENDPOINTS = flag('endpoints', 50_000);
const STREAMS = Math.min(flag('streams', PROXIES), PROXIES);
const CHANGES = flag('changes', 50);
/** A run on a shared machine must not take it down: above this controller RSS the bench stops. */
const MAX_RSS_MIB = flag('max-rss-mib', 6000);
const PER_SERVICE = Math.max(1, Math.floor(ENDPOINTS / SERVICES));

const here = path.dirname(fileURLToPath(import.meta.url));
const supportJs = (name: string): string => path.join(here, '..', 'support', name);
const nowNs = (): bigint => process.hrtime.bigint();
const msSince = (t0: bigint): number => Number(nowNs() - t0) / 1e6;

function within<T>(p: Promise<T>, seconds: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`bench:controller --mesh: ${what} did not complete within ${seconds} s`)),
      seconds * 1000,
    );
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

function onceMessage<T>(child: ChildProcess, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    child.once('message', (m: T) => resolve(m));
    child.once('exit', (code) => reject(new Error(`${what} exited (${code})`)));
  });
}

const identity = (b: Buffer): Buffer => b;

/** One proxy's Delta EDS stream: ACKs every response; `waitFor(name)` resolves at the ACK of the first naming it. */
class MeshStream {
  readonly call: grpc.ClientDuplexStream<PlainMessage, Buffer>;
  readonly first: Promise<void>;
  private waiter?: { name: string; resolve: (r: { at: bigint; resources: number; bytes: Buffer }) => void };

  constructor(
    readonly client: grpc.Client,
    nodeId: string,
    names: string[],
  ) {
    this.call = client.makeBidiStreamRequest(ADS_DELTA_METHOD_PATH, encodeDeltaRequest, identity);
    let seen: () => void = () => undefined;
    this.first = new Promise((r) => (seen = r));
    this.call.on('error', () => undefined);
    this.call.on('data', (bytes: Buffer) => {
      const r = decodeDeltaResponse(bytes);
      this.call.write({ type_url: r.type_url, response_nonce: r.nonce });
      const at = nowNs();
      seen();
      const w = this.waiter;
      if (w && r.names.includes(w.name)) {
        this.waiter = undefined;
        w.resolve({ at, resources: r.resources.length + r.removed_resources.length, bytes });
      }
    });
    this.call.write({
      node: { id: nodeId },
      type_url: CLUSTER_LOAD_ASSIGNMENT_TYPE_URL,
      resource_names_subscribe: names,
    });
  }

  waitFor(name: string): Promise<{ at: bigint; resources: number; bytes: Buffer }> {
    return new Promise((resolve) => (this.waiter = { name, resolve }));
  }
}

/** A bare client stream: ACKs (one byte) every message; `next()` resolves at the ACK of the next one. */
class BareStream {
  private readonly call: grpc.ClientDuplexStream<Buffer, Buffer>;
  private waiter?: (at: bigint) => void;
  constructor(readonly client: grpc.Client) {
    this.call = client.makeBidiStreamRequest(BARE_PUSH_METHOD, identity, identity);
    this.call.on('error', () => undefined);
    this.call.on('data', () => {
      this.call.write(Buffer.from([1]));
      const at = nowNs();
      const w = this.waiter;
      this.waiter = undefined;
      w?.(at);
    });
    this.call.write(Buffer.from([0]));
  }
  next(): Promise<bigint> {
    return new Promise((r) => (this.waiter = r));
  }
}

/** The controller's V8 heap in use and its external memory (Buffers), MiB, from /metrics. */
async function heapMiB(base: string): Promise<{ heap: number; external: number }> {
  const body = (await httpRequest(`${base}/metrics`)).body;
  const metric = (name: string): number =>
    Number(new RegExp(`^${name} (\\S+)`, 'm').exec(body)?.[1] ?? NaN) / 2 ** 20;
  return { heap: metric('nodejs_heap_size_used_bytes'), external: metric('nodejs_external_memory_bytes') };
}

async function guardRss(child: ChildProcess, what: string): Promise<void> {
  const rss = await rssMiB(child.pid!).catch(() => 0);
  if (rss > MAX_RSS_MIB) {
    throw new Error(
      `fsm-controller RSS ${fmt(rss, 0)} MiB > --max-rss-mib ${MAX_RSS_MIB} while ${what}: stopped`,
    );
  }
}

async function waitHttp(
  url: string,
  ok: (body: string, status: number) => boolean,
  child: ChildProcess,
): Promise<bigint> {
  for (;;) {
    if (child.exitCode !== null) throw new Error(`fsm-controller exited (${child.exitCode})`);
    await guardRss(child, `waiting for ${url}`);
    const r = await httpRequest(url).catch(() => ({ status: 0, body: '' }));
    if (ok(r.body, r.status)) return nowNs();
    await sleep(25);
  }
}

export async function runMesh(): Promise<void> {
  console.log(
    `bench:controller --mesh: ${PROXIES} proxies, ${SERVICES} Services, ${PER_SERVICE * SERVICES} endpoints ` +
      `(${PER_SERVICE} per Service), ${STREAMS} connected proxies, ${CHANGES} endpoint changes; machine shared and loaded: figures are noisy.`,
  );
  const api = fork(supportJs('controller-bench-apiserver.js'), [], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let ctl: ChildProcess | undefined;
  let bare: ChildProcess | undefined;
  const clients: grpc.Client[] = [];
  try {
    const seededP = onceMessage<BenchApiEvent>(api, 'API server process');
    const cmd: BenchApiCommand = {
      cmd: 'seed-mesh',
      pods: PROXIES,
      services: SERVICES,
      endpointsPerService: PER_SERVICE,
      meshName: DEFAULT_MESH_NAME,
    };
    api.send(cmd);
    const seeded = await within(seededP, 900, 'seeding');
    if (seeded.evt !== 'seeded') throw new Error(seeded.message);
    console.log(`seeded in ${fmt(seeded.seedMs / 1000)} s (API server RSS ${fmt(seeded.rssMb, 0)} MiB)`);

    // 1. the controller: ready, every snapshot set, RSS
    const [adsPort, healthPort] = [await closedPort(), await closedPort()];
    const spawned = nowNs();
    ctl = spawn(
      process.execPath,
      [
        binaryPath('fsm-controller'),
        '--kubeconfig',
        seeded.kubeconfigPath,
        '--ads-port',
        String(adsPort),
        '--health-port',
        String(healthPort),
        '--bind-address',
        '127.0.0.1',
        '--verbosity',
        'warn',
      ],
      { stdio: ['ignore', 'ignore', 'inherit'] },
    );
    const base = `http://127.0.0.1:${healthPort}`;
    const readyNs = await within(
      waitHttp(`${base}/health/ready`, (_b, s) => s === 200, ctl),
      600,
      'controller readiness',
    );
    const readyMs = Number(readyNs - spawned) / 1e6;
    const rssReady = await rssMiB(ctl.pid!);
    console.log(`ready after ${fmt(readyMs / 1000)} s, RSS ${fmt(rssReady, 0)} MiB`);
    const allSetNs = await within(
      waitHttp(
        `${base}/metrics`,
        (b) => Number(/^fsm_controller_proxies (\d+)/m.exec(b)?.[1] ?? -1) >= PROXIES,
        ctl,
      ),
      900,
      'every proxy snapshot',
    );
    const allSetMs = Number(allSetNs - spawned) / 1e6;
    const rssAll = await rssMiB(ctl.pid!);
    console.log(`every proxy snapshot set after ${fmt(allSetMs / 1000)} s, RSS ${fmt(rssAll, 0)} MiB`);

    // The proxies: mTLS with their own bootstrap credentials, Delta EDS of every Service.
    const kc = new KubeConfig();
    kc.loadFromFile(seeded.kubeconfigPath);
    const authority = await meshAuthorityOf(kc, DEFAULT_FSM_NAMESPACE);
    const names = Array.from({ length: SERVICES }, (_, k) =>
      meshClusterName(BENCH_NAMESPACE, `${BENCH_SERVICE_PREFIX}-${k}`, 80),
    );
    const tConnect = nowNs();
    const streams: MeshStream[] = [];
    const certs: { certPem: string; keyPem: string }[] = [];
    for (let i = 0; i < STREAMS; i++) {
      const pod = `${BENCH_POD_PREFIX}-${Math.floor((i * PROXIES) / STREAMS)}`;
      const uuid = fixtureUuid(BENCH_NAMESPACE, pod);
      const cert = await authority.bootstrap({
        proxyUuid: uuid,
        namespace: BENCH_NAMESPACE,
        serviceAccount: 'bench',
      });
      certs.push(cert);
      const client = new grpc.Client(
        `127.0.0.1:${adsPort}`,
        grpc.credentials.createSsl(
          Buffer.from(authority.bundlePem),
          Buffer.from(cert.keyPem),
          Buffer.from(cert.certPem),
        ),
        {
          'grpc.use_local_subchannel_pool': 1,
          'grpc.max_receive_message_length': 64 << 20,
          ...adsChannelOptions(DEFAULT_FSM_NAMESPACE),
        },
      );
      clients.push(client);
      streams.push(new MeshStream(client, uuid, names));
      if ((i + 1) % 500 === 0) {
        await guardRss(ctl, `connecting proxies (${i + 1})`);
        console.log(`${i + 1} proxies connecting, controller RSS ${fmt(await rssMiB(ctl.pid!), 0)} MiB`);
      }
    }
    await within(Promise.all(streams.map((s) => s.first)), 900, `first EDS response on ${STREAMS} streams`);
    const connectMs = msSince(tConnect);
    const rssConnected = await rssMiB(ctl.pid!);
    console.log(
      `${STREAMS} proxies got their first EDS response after ${fmt(connectMs / 1000)} s, RSS ${fmt(rssConnected, 0)} MiB`,
    );
    await sleep(3000);
    const mem = await heapMiB(base);
    console.log(
      `   3 s later: RSS ${fmt(await rssMiB(ctl.pid!), 0)} MiB, V8 heap used ${fmt(mem.heap, 0)} MiB, external (Buffers) ${fmt(mem.external, 0)} MiB`,
    );

    // The bare grpc-js server and its clients (the same number of mTLS streams).
    bare = fork(supportJs('controller-bench-bare-push.js'), [], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const serving = await authority.serving(['bench-bare'], 3_600_000);
    const listening = onceMessage<BarePushEvent>(bare, 'bare push process');
    const start: BarePushCommand = {
      cmd: 'start',
      certPem: serving.certPem,
      keyPem: serving.keyPem,
      caPem: authority.bundlePem,
    };
    bare.send(start);
    const l = await within(listening, 60, 'bare server');
    if (l.evt !== 'listening') throw new Error(l.message);
    const bareStreams = certs.map((cert) => {
      const client = new grpc.Client(
        `127.0.0.1:${l.port}`,
        grpc.credentials.createSsl(
          Buffer.from(authority.bundlePem),
          Buffer.from(cert.keyPem),
          Buffer.from(cert.certPem),
        ),
        {
          'grpc.use_local_subchannel_pool': 1,
          'grpc.ssl_target_name_override': 'bench-bare',
          'grpc.default_authority': 'bench-bare',
        },
      );
      clients.push(client);
      return new BareStream(client);
    });
    await sleep(2000); // the bare streams are open on the server before the first push

    // 2. endpoint change → every connected proxy ACKed; bare: the same bytes
    const discovery = kc.makeApiClient(DiscoveryV1Api);
    const ours = new Latencies();
    const bareLat = new Latencies();
    let resourcesPerStream = 0;
    let maxResources = 0;
    let bytesPerStream = 0;
    for (let c = 0; c < CHANGES; c++) {
      const k = c % SERVICES;
      const svc = `${BENCH_SERVICE_PREFIX}-${k}`;
      const flip = Math.floor(c / SERVICES) % 2 === 0; // first pass: one endpoint not ready; next: ready again
      const cluster = names[k]!;
      const waits = streams.map((s) => s.waitFor(cluster));
      const endpoints = meshEndpointsOf(k, PER_SERVICE, PROXIES).map((i, j) => ({
        addresses: [meshPodIP(i)],
        conditions: { ready: j === 0 ? !flip : true },
        targetRef: { kind: 'Pod', namespace: BENCH_NAMESPACE, name: `${BENCH_POD_PREFIX}-${i}` },
      }));
      const cur = await discovery.readNamespacedEndpointSlice({
        name: `${svc}-slice`,
        namespace: BENCH_NAMESPACE,
      });
      const t0 = nowNs();
      await discovery.replaceNamespacedEndpointSlice({
        name: `${svc}-slice`,
        namespace: BENCH_NAMESPACE,
        body: { ...cur, endpoints },
      });
      const got = await within(Promise.all(waits), 60, `change ${c} (${svc}) → ${STREAMS} ACKs`);
      ours.add(Math.max(...got.map((g) => Number(g.at - t0) / 1e6)));
      resourcesPerStream += got.reduce((a, g) => a + g.resources, 0) / got.length;
      maxResources = Math.max(maxResources, ...got.map((g) => g.resources));
      const bytes = got[0]!.bytes;
      bytesPerStream = bytes.length;
      // Bare: the same bytes to the same number of streams.
      const bareWaits = bareStreams.map((s) => s.next());
      const b0 = nowNs();
      const push: BarePushCommand = { cmd: 'push', base64: bytes.toString('base64') };
      bare.send(push);
      const acks = await within(Promise.all(bareWaits), 60, `bare push ${c}`);
      bareLat.add(Math.max(...acks.map((a) => Number(a - b0) / 1e6)));
    }

    console.log('');
    console.log(
      '1. fsm-controller spawned → /health/ready 200; RSS (VmRSS). Bare: none (a fresh process has no mesh to hold)',
    );
    console.log(
      `   time to ready ${fmt(readyMs / 1000)} s; every proxy snapshot set after ${fmt(allSetMs / 1000)} s; ${STREAMS} proxies connected in ${fmt(connectMs / 1000)} s`,
    );
    console.log(
      `   RSS at ready ${fmt(rssReady, 0)} MiB, every snapshot set ${fmt(rssAll, 0)} MiB, ${STREAMS} streams connected ${fmt(rssConnected, 0)} MiB`,
    );
    console.log('');
    console.log(
      `2. endpoint change (EndpointSlice PUT sent) → all ${STREAMS} connected proxies received it and ACKed;`,
    );
    console.log(
      `   bare = the same ${bytesPerStream}-byte DeltaDiscoveryResponse written by a bare grpc-js server to ${STREAMS} mTLS streams → all ACKed`,
    );
    printComparison('endpoint change → all ACKed p50', ours.percentile(50), bareLat.percentile(50), 'ms');
    printComparison('endpoint change → all ACKed p99', ours.percentile(99), bareLat.percentile(99), 'ms');
    printComparison('endpoint change → all ACKed max', ours.percentile(100), bareLat.percentile(100), 'ms');
    console.log(
      `   resources per affected stream per change: mean ${fmt(resourcesPerStream / CHANGES)}, max ${maxResources} (Delta xDS)`,
    );
    console.log('');
    const goal = (ok: boolean): string => (ok ? 'met' : 'MISSED');
    console.log(
      `goals: RSS < 2 GB: ${goal(Math.max(rssAll, rssConnected) < 2048)} (${fmt(Math.max(rssAll, rssConnected), 0)} MiB); ` +
        `endpoint change → all ACKed p99 < 1 s: ${goal(ours.percentile(99) < 1000)} (${fmt(ours.percentile(99))} ms)` +
        (STREAMS < PROXIES || PROXIES < 10_000
          ? ` — at this run's scale (${PROXIES} proxies, ${STREAMS} connected), not the goal's 10,000`
          : ''),
    );
  } finally {
    for (const c of clients) c.close();
    bare?.kill('SIGTERM');
    if (ctl && ctl.exitCode === null) {
      const exited = new Promise((r) => ctl!.once('exit', r));
      ctl.kill('SIGTERM');
      await within(exited, 60, 'controller exit').catch(() => ctl!.kill('SIGKILL'));
    }
    const stop: BenchApiCommand = { cmd: 'stop' };
    if (api.connected) api.send(stop);
  }
}
