/**
 * npm run bench:healthcheck [-- --clients 32 --seconds 5 --rounds 1 --node-flags "<flags>" --flag-matrix
 *                              --cpu-prof <dir>]
 *
 * fsm-healthcheck runs in every pod with a TCP or gRPC probe, so its idle memory is paid per pod.
 * 1. Idle RSS (VmRSS, 2 s after the process listens): the built fsm-healthcheck started as
 *    production starts it (node HEALTHCHECK_NODE_FLAGS, the injected container's command;
 *    --node-flags overrides), beside a bare node:http server on the same Node (the floor of any
 *    Node HTTP server; also with ours' flags) and a bare `node -e "setInterval(()=>{},1e9)"`.
 *    --flag-matrix also prints idle RSS of ours and the bare server under each Node flag measured.
 *    Then a day of probes: --day-checks sequential checks, each on a new connection as kubelet's
 *    prober makes them (8,640 = one probe every 10 s for a day), RSS right after: ours as production
 *    starts it, ours without Node flags, and the floor checker below.
 * 2. Load: N concurrent keep-alive HTTP clients send GET /fsm-healthcheck (Original-Tcp-Port) to
 *    fsm-healthcheck, which TCP-connects to a local target listener and answers. Bare baseline (same
 *    run, same N, same target): the clients make that TCP connect themselves. Phases alternate
 *    bare/ours for --rounds rounds; added p99 = ours p99 − bare p99. For scale, the same load on
 *    the least any Node checker does (a bare node:http server that makes the connect and answers
 *    200: no header checks, no allow-list, no connection limits, no logging) is printed too.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, readdir } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { HEALTHCHECK_NODE_FLAGS } from '../../pkg/constants/index.js';
import { Latencies, fmt, goal, printComparison, rssAnonMiB, rssMiB, sleep } from '../support/bench-stats.js';
import { binaryPath } from '../support/process.js';

const { values } = parseArgs({
  options: {
    clients: { type: 'string', default: '32' },
    seconds: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '1' },
    rounds: { type: 'string', default: '1' },
    'node-flags': { type: 'string' },
    'flag-matrix': { type: 'boolean', default: false },
    'cpu-prof': { type: 'string' },
    'day-checks': { type: 'string', default: '8640' },
    settle: { type: 'string', default: '40' },
  },
});
const CLIENTS = Number(values.clients);
const SECONDS = Number(values.seconds);
const WARMUP = Number(values.warmup);
const ROUNDS = Number(values.rounds);
const NODE_FLAGS = (values['node-flags'] ?? HEALTHCHECK_NODE_FLAGS.join(' ')).split(' ').filter(Boolean);
const CPU_PROF_DIR = values['cpu-prof'];
const DAY_CHECKS = Number(values['day-checks']);
/** After the load, RSS is sampled this long (s): V8's memory reducer gives memory back after ~10-30 s. */
const SETTLE_S = Number(values.settle);
/** Idle RSS is read this long after the process listens (startup garbage collected, heap settled). */
const IDLE_SETTLE_MS = 2000;
/** RSS goal: at most this many times a bare node:http server's. */
const RSS_GOAL_RATIO = 1.15;
/** Added p99 goal at CLIENTS concurrent clients (ms). */
const ADDED_P99_GOAL_MS = 1;

/** The Node flags measured by --flag-matrix (each alone, then the adopted set). */
const FLAG_MATRIX = [
  '',
  '--max-semi-space-size=1',
  '--max-old-space-size=16',
  '--v8-pool-size=0',
  '--single-threaded',
  '--no-opt',
  '--lite-mode',
  '--jitless',
  '--jitless --max-semi-space-size=1 --v8-pool-size=0',
];

interface Child {
  proc: ChildProcess;
  port: number;
}

function child(args: string[], nodeFlags: readonly string[] = []): Promise<Child> {
  const proc = spawn(process.execPath, [...nodeFlags, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    proc.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const m = /"address":"[^"]*:(\d+)"|^PORT (\d+)$/m.exec(out);
      if (m) resolve({ proc, port: Number(m[1] ?? m[2]) });
    });
    proc.once('exit', (code) => reject(new Error(`${args.join(' ')} exited ${code}: ${out}`)));
  });
}

async function stop(c: Child | ChildProcess): Promise<void> {
  const proc = 'proc' in c ? c.proc : c;
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise((r) => proc.once('exit', r));
  proc.kill('SIGTERM');
  await exited;
}

/** The target app: a listener that accepts and closes, in its own process. */
const TARGET_SRC =
  "const s=require('net').createServer(c=>{c.on('error',()=>{});c.end()});" +
  "s.listen({port:0,host:'127.0.0.1',backlog:4096},()=>console.log('PORT '+s.address().port))";

/** The bare baseline of memory: a node:http server that answers 200, nothing else. */
const BARE_HTTP_SRC =
  "const s=require('http').createServer((q,r)=>r.end('ok'));" +
  "s.listen(0,'127.0.0.1',()=>console.log('PORT '+s.address().port))";

/** The floor of a Node checker: node:http, the connect, a 200; nothing else. */
const FLOOR_CHECKER_SRC =
  "const http=require('http'),net=require('net');" +
  'const s=http.createServer({keepAlive:true},(q,r)=>{' +
  "const c=net.connect({host:'127.0.0.1',port:Number(q.headers['original-tcp-port'])});" +
  "c.once('connect',()=>{c.destroy();r.writeHead(200,{'Content-Type':'text/plain','Content-Length':3});r.end('ok\\n')});" +
  "c.once('error',()=>{c.destroy();r.writeHead(503,{'Content-Length':0});r.end()})});" +
  "s.listen(0,'127.0.0.1',()=>console.log('PORT '+s.address().port))";

function startOurs(targetPort: number, nodeFlags: readonly string[], cpuProf = false): Promise<Child> {
  const prof = cpuProf && CPU_PROF_DIR ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(CPU_PROF_DIR)}`] : [];
  return child(
    [
      ...prof,
      binaryPath('fsm-healthcheck'),
      '--port',
      '0',
      '--bind-address',
      '127.0.0.1',
      '--dial-timeout',
      '1s',
      '--allowed-ports',
      String(targetPort),
    ],
    nodeFlags,
  );
}

/** Idle RSS of a freshly started process, IDLE_SETTLE_MS after it listens. */
async function idleRss(start: () => Promise<Child>): Promise<number> {
  return (await idleMemory(start)).rss;
}

/** Idle RSS and its anonymous part (RssAnon) of a freshly started process. */
async function idleMemory(start: () => Promise<Child>): Promise<{ rss: number; anon: number }> {
  const c = await start();
  try {
    await sleep(IDLE_SETTLE_MS);
    return { rss: await rssMiB(c.proc.pid!), anon: await rssAnonMiB(c.proc.pid!) };
  } finally {
    await stop(c);
  }
}

/** One check on a new connection (Connection: close), as kubelet's prober sends it. */
function probeOnce(port: number, request: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    let head = '';
    s.setEncoding('latin1');
    s.on('data', (d: string) => (head += d));
    s.on('close', () => resolve(head.startsWith('HTTP/1.1 200')));
    s.on('error', () => undefined); // 'close' follows
    s.write(request.replace('\r\n\r\n', '\r\nConnection: close\r\n\r\n'));
  });
}

/** RSS of a fresh checker after DAY_CHECKS sequential probes (and whether each answered 200). */
async function rssAfterDay(
  start: () => Promise<Child>,
  request: string,
): Promise<{ rss: number; failed: number }> {
  const c = await start();
  try {
    let failed = 0;
    for (let i = 0; i < DAY_CHECKS; i++) if (!(await probeOnce(c.port, request))) failed++;
    await sleep(IDLE_SETTLE_MS);
    return { rss: await rssMiB(c.proc.pid!), failed };
  } finally {
    await stop(c);
  }
}

/** Idle RSS of a process that announces nothing: read after its startup and IDLE_SETTLE_MS. */
async function idleRssOf(proc: ChildProcess): Promise<number> {
  try {
    await sleep(500 + IDLE_SETTLE_MS);
    return await rssMiB(proc.pid!);
  } finally {
    await stop(proc);
  }
}

interface Run {
  latencies: Latencies;
  ok: number;
  failed: number;
  seconds: number;
}

/** CLIENTS concurrent loops for durationMs; loop `idx` calls one(idx) back to back. */
async function loop(durationMs: number, one: (idx: number) => Promise<boolean>, into?: Run): Promise<Run> {
  const r = into ?? { latencies: new Latencies(), ok: 0, failed: 0, seconds: 0 };
  const end = performance.now() + durationMs;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: CLIENTS }, async (_, idx) => {
      while (performance.now() < end) {
        const s = performance.now();
        const good = await one(idx);
        r.latencies.add(performance.now() - s);
        if (good) r.ok++;
        else r.failed++;
      }
    }),
  );
  r.seconds += (performance.now() - t0) / 1000;
  return r;
}

/** Bare baseline: the TCP connect itself. */
function bareConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/**
 * A minimal keep-alive HTTP/1.1 client over one socket: one request in flight, Content-Length
 * bodies. A connection the server closed while idle (its keep-alive timeout, between phases) is
 * opened again by the next request, as kubelet's client does.
 */
class KeepAliveClient {
  private socket?: net.Socket;
  private buf = '';
  private pending?: (status: number) => void;
  constructor(
    private readonly port: number,
    private readonly request: string,
  ) {}
  private open(): net.Socket {
    const s = net.connect(this.port, '127.0.0.1');
    s.setNoDelay(true);
    s.setEncoding('latin1');
    s.on('data', (d: string) => {
      this.buf += d;
      const head = this.buf.indexOf('\r\n\r\n');
      if (head < 0) return;
      const len = Number(/content-length: *(\d+)/i.exec(this.buf.slice(0, head))?.[1] ?? 0);
      if (this.buf.length < head + 4 + len) return;
      const status = Number(this.buf.slice(9, 12));
      this.buf = this.buf.slice(head + 4 + len);
      const p = this.pending;
      this.pending = undefined;
      p?.(status);
    });
    s.on('error', () => undefined); // 'close' follows
    s.on('close', () => {
      if (this.socket === s) this.socket = undefined;
      this.buf = '';
      const p = this.pending;
      this.pending = undefined;
      p?.(0);
    });
    return s;
  }
  send(): Promise<boolean> {
    return new Promise((resolve) => {
      this.pending = (status) => resolve(status === 200);
      (this.socket ??= this.open()).write(this.request);
    });
  }
  close(): void {
    this.socket?.destroy();
  }
}

function report(name: string, r: Run): void {
  console.log(
    `  ${name.padEnd(5)} ${fmt(r.ok / r.seconds, 0).padStart(7)} checks/s  p50 ${fmt(r.latencies.percentile(50), 3)} ms  p99 ${fmt(r.latencies.percentile(99), 3)} ms  failed ${r.failed}`,
  );
}

async function flagMatrix(targetPort: number): Promise<void> {
  console.log('');
  console.log(`idle RSS under each Node flag, ${IDLE_SETTLE_MS / 1000} s after listening:`);
  for (const flags of FLAG_MATRIX) {
    const argv = flags.split(' ').filter(Boolean);
    const ours = await idleRss(() => startOurs(targetPort, argv));
    const bare = await idleRss(() => child(['-e', BARE_HTTP_SRC], argv));
    printComparison(flags || '(none)', ours, bare, 'MiB', 1);
  }
}

async function main(): Promise<void> {
  const target = await child(['-e', TARGET_SRC]);
  try {
    console.log(
      `fsm-healthcheck benchmark: ${CLIENTS} concurrent clients, ${SECONDS}s per phase × ${ROUNDS} round(s), ` +
        `node ${process.version}, ours started as node ${NODE_FLAGS.join(' ')} <fsm-healthcheck>`,
    );
    const request =
      `GET /fsm-healthcheck HTTP/1.1\r\nHost: 127.0.0.1\r\nOriginal-Tcp-Port: ${target.port}\r\n` +
      `User-Agent: kube-probe/1.31\r\nAccept: */*\r\n\r\n`;
    // 1. idle RSS, each process fresh
    const idleOurs = await idleMemory(() => startOurs(target.port, NODE_FLAGS));
    const idleBareHttp = await idleMemory(() => child(['-e', BARE_HTTP_SRC]));
    const [rssOurs, rssBareHttp] = [idleOurs.rss, idleBareHttp.rss];
    const rssBareHttpFlags = await idleRss(() => child(['-e', BARE_HTTP_SRC], NODE_FLAGS));
    const rssBareIdle = await idleRssOf(
      spawn(process.execPath, ['-e', 'setInterval(()=>{},1e9)'], { stdio: 'ignore' }),
    );

    // a day of probes
    const dayOurs = await rssAfterDay(() => startOurs(target.port, NODE_FLAGS), request);
    const dayOursNoFlags = await rssAfterDay(() => startOurs(target.port, []), request);
    const dayFloor = await rssAfterDay(() => child(['-e', FLOOR_CHECKER_SRC]), request);

    // 2. load
    if (CPU_PROF_DIR) await mkdir(CPU_PROF_DIR, { recursive: true });
    const hc = await startOurs(target.port, NODE_FLAGS, true);
    const floorServer = await child(['-e', FLOOR_CHECKER_SRC]);
    // One keep-alive connection per client loop, as kubelet keeps one per probe worker.
    const clients = Array.from({ length: CLIENTS }, () => new KeepAliveClient(hc.port, request));
    const floorClients = Array.from(
      { length: CLIENTS },
      () => new KeepAliveClient(floorServer.port, request),
    );
    const ours1 = (idx: number): Promise<boolean> => clients[idx]!.send();
    const floor1 = (idx: number): Promise<boolean> => floorClients[idx]!.send();
    const bare1 = (): Promise<boolean> => bareConnect(target.port);
    await loop(WARMUP * 1000, bare1);
    await loop(WARMUP * 1000, ours1);
    await loop(WARMUP * 1000, floor1);
    let bare: Run | undefined;
    let ours: Run | undefined;
    let floor: Run | undefined;
    for (let r = 0; r < ROUNDS; r++) {
      bare = await loop(SECONDS * 1000, bare1, bare);
      await sleep(250);
      ours = await loop(SECONDS * 1000, ours1, ours);
      await sleep(250);
      floor = await loop(SECONDS * 1000, floor1, floor);
      await sleep(250);
    }
    const rssLoaded = await rssMiB(hc.proc.pid!);
    for (const c of [...clients, ...floorClients]) c.close();
    await stop(floorServer);
    await sleep(IDLE_SETTLE_MS);
    const rssAfter = await rssMiB(hc.proc.pid!);
    let rssSettled = rssAfter;
    for (let t = IDLE_SETTLE_MS; t < SETTLE_S * 1000; t += 2000) {
      await sleep(2000);
      rssSettled = Math.min(rssSettled, await rssMiB(hc.proc.pid!));
    }
    await stop(hc);

    console.log('');
    console.log('1. idle RSS (VmRSS), each process fresh, read 2 s after it listens');
    printComparison(
      'idle RSS vs bare node:http server',
      rssOurs,
      rssBareHttp,
      'MiB',
      1,
      goal(
        `≤ ${RSS_GOAL_RATIO} × bare = ${fmt(RSS_GOAL_RATIO * rssBareHttp, 1)} MiB`,
        rssOurs <= RSS_GOAL_RATIO * rssBareHttp,
      ),
    );
    printComparison('  vs bare http, same Node flags', rssOurs, rssBareHttpFlags, 'MiB', 1);
    printComparison('  vs bare node -e setInterval', rssOurs, rssBareIdle, 'MiB', 1);
    printComparison('  anonymous part (RssAnon)', idleOurs.anon, idleBareHttp.anon, 'MiB', 1);
    console.log(
      `after ${DAY_CHECKS} probes on new connections (a day of one every 10 s), 2 s later; bare = the floor checker:`,
    );
    printComparison('  RSS, Node flags as production', dayOurs.rss, dayFloor.rss, 'MiB', 1);
    printComparison('  RSS, no Node flags', dayOursNoFlags.rss, dayFloor.rss, 'MiB', 1);
    if (dayOurs.failed + dayOursNoFlags.failed + dayFloor.failed > 0)
      console.log('WARNING: some probes of the day failed; figures are suspect');
    console.log('');
    console.log(
      `2. load: GET /fsm-healthcheck → TCP connect, ${CLIENTS} keep-alive clients; bare = the connect alone`,
    );
    report('bare', bare!);
    report('ours', ours!);
    report('floor', floor!);
    console.log('  (floor: a bare node:http server that makes the connect and answers 200, nothing else)');
    printComparison('throughput (checks/s)', ours!.ok / ours!.seconds, bare!.ok / bare!.seconds, '/s', 0);
    printComparison('p50 latency', ours!.latencies.percentile(50), bare!.latencies.percentile(50), 'ms', 3);
    printComparison('p99 latency', ours!.latencies.percentile(99), bare!.latencies.percentile(99), 'ms', 3);
    const added = ours!.latencies.percentile(99) - bare!.latencies.percentile(99);
    console.log(
      `${'added p99 latency'.padEnd(34)} ours ${fmt(added, 3).padStart(10)} ms     ` +
        `goal < ${ADDED_P99_GOAL_MS} ms: ${added < ADDED_P99_GOAL_MS ? 'met' : 'MISSED'}`,
    );
    console.log(
      `RSS under load ${fmt(rssLoaded, 1)} MiB; ${IDLE_SETTLE_MS / 1000} s after the clients left ` +
        `${fmt(rssAfter, 1)} MiB; lowest within ${SETTLE_S} s ${fmt(rssSettled, 1)} MiB`,
    );
    if (ours!.failed > 0 || bare!.failed > 0 || floor!.failed > 0)
      console.log('WARNING: some checks failed; figures are suspect');
    if (values['flag-matrix']) await flagMatrix(target.port);
    if (CPU_PROF_DIR) {
      const files = (await readdir(CPU_PROF_DIR)).filter((f) => f.endsWith('.cpuprofile'));
      console.log(`fsm-healthcheck CPU profile(s) in ${path.resolve(CPU_PROF_DIR)}: ${files.join(', ')}`);
    }
  } finally {
    target.proc.kill('SIGKILL');
  }
}

await main();
