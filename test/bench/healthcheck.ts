/**
 * npm run bench:healthcheck [-- --clients 32 --seconds 5]
 *
 * Ours: N concurrent keep-alive HTTP clients send GET /fsm-healthcheck (Original-Tcp-Port) to the
 * built fsm-healthcheck binary, which TCP-connects to a local target listener and answers.
 * Bare baseline (same run, same N, same target): the clients do that TCP connect themselves.
 * Also: idle RSS of fsm-healthcheck next to an idle bare `node` process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { parseArgs } from 'node:util';
import { Latencies, fmt, printComparison, rssMiB, sleep } from '../support/bench-stats.js';
import { binaryPath } from '../support/process.js';

const { values } = parseArgs({
  options: {
    clients: { type: 'string', default: '32' },
    seconds: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '1' },
  },
});
const CLIENTS = Number(values.clients);
const SECONDS = Number(values.seconds);
const WARMUP = Number(values.warmup);

function child(args: string[]): Promise<{ proc: ChildProcess; port: number }> {
  const proc = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
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

/** The target app: a listener that accepts and closes, in its own process. */
const TARGET_SRC =
  "const s=require('net').createServer(c=>{c.on('error',()=>{});c.end()});" +
  "s.listen({port:0,host:'127.0.0.1',backlog:4096},()=>console.log('PORT '+s.address().port))";

interface Run {
  latencies: Latencies;
  ok: number;
  failed: number;
  seconds: number;
}

/** CLIENTS concurrent loops for durationMs; loop `idx` calls one(idx) back to back. */
async function loop(durationMs: number, one: (idx: number) => Promise<boolean>): Promise<Run> {
  const latencies = new Latencies();
  let ok = 0;
  let failed = 0;
  const end = performance.now() + durationMs;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: CLIENTS }, async (_, idx) => {
      while (performance.now() < end) {
        const s = performance.now();
        const good = await one(idx);
        latencies.add(performance.now() - s);
        if (good) ok++;
        else failed++;
      }
    }),
  );
  return { latencies, ok, failed, seconds: (performance.now() - t0) / 1000 };
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

/** A minimal keep-alive HTTP/1.1 client over one socket: one request in flight, Content-Length bodies. */
class KeepAliveClient {
  private socket: net.Socket;
  private buf = '';
  private pending?: (status: number) => void;
  constructor(
    port: number,
    private readonly request: string,
  ) {
    this.socket = net.connect(port, '127.0.0.1');
    this.socket.setNoDelay(true);
    this.socket.setEncoding('latin1');
    this.socket.on('data', (d: string) => {
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
    this.socket.on('error', () => this.pending?.(0));
  }
  send(): Promise<boolean> {
    return new Promise((resolve) => {
      this.pending = (status) => resolve(status === 200);
      this.socket.write(this.request);
    });
  }
  close(): void {
    this.socket.destroy();
  }
}

function report(name: string, r: Run): void {
  console.log(
    `  ${name.padEnd(5)} ${fmt(r.ok / r.seconds, 0).padStart(7)} checks/s  p50 ${fmt(r.latencies.percentile(50), 3)} ms  p99 ${fmt(r.latencies.percentile(99), 3)} ms  failed ${r.failed}`,
  );
}

async function main(): Promise<void> {
  const target = await child(['-e', TARGET_SRC]);
  // Default verbosity (info): the "listening" line carries the port; successful checks log nothing.
  const hc = await child([
    binaryPath('fsm-healthcheck'),
    '--port',
    '0',
    '--dial-timeout',
    '1s',
    '--allowed-ports',
    String(target.port),
  ]);
  const idle = spawn(process.execPath, ['-e', 'setInterval(()=>{},1e6)'], { stdio: 'ignore' });
  try {
    await sleep(1500);
    const rssOurs = await rssMiB(hc.proc.pid!);
    const rssBare = await rssMiB(idle.pid!);

    const request =
      `GET /fsm-healthcheck HTTP/1.1\r\nHost: 127.0.0.1\r\nOriginal-Tcp-Port: ${target.port}\r\n` +
      `User-Agent: kube-probe/1.31\r\nAccept: */*\r\n\r\n`;
    // One keep-alive connection per client loop, as kubelet keeps one per probe worker.
    const clients = Array.from({ length: CLIENTS }, () => new KeepAliveClient(hc.port, request));
    const ours1 = (idx: number): Promise<boolean> => clients[idx]!.send();
    const bare1 = (): Promise<boolean> => bareConnect(target.port);

    console.log(
      `fsm-healthcheck benchmark: ${CLIENTS} concurrent clients, ${SECONDS}s per phase, node ${process.version}`,
    );
    await loop(WARMUP * 1000, bare1);
    const bare = await loop(SECONDS * 1000, bare1);
    await sleep(500);
    await loop(WARMUP * 1000, ours1);
    const ours = await loop(SECONDS * 1000, ours1);
    const rssLoaded = await rssMiB(hc.proc.pid!);
    for (const c of clients) c.close();

    report('bare', bare);
    report('ours', ours);
    printComparison('throughput (checks/s)', ours.ok / ours.seconds, bare.ok / bare.seconds, '/s', 0);
    printComparison('p50 latency', ours.latencies.percentile(50), bare.latencies.percentile(50), 'ms', 3);
    printComparison('p99 latency', ours.latencies.percentile(99), bare.latencies.percentile(99), 'ms', 3);
    console.log(
      `added p99 latency                  ${fmt(ours.latencies.percentile(99) - bare.latencies.percentile(99), 3)} ms (goal < 1 ms)`,
    );
    printComparison('idle RSS', rssOurs, rssBare, 'MiB', 1);
    console.log(`RSS after load                     ours ${fmt(rssLoaded, 1)} MiB (goal at idle < 40 MB)`);
    if (ours.failed > 0 || bare.failed > 0) console.log('WARNING: some checks failed; figures are suspect');
  } finally {
    hc.proc.kill('SIGTERM');
    target.proc.kill('SIGKILL');
    idle.kill('SIGKILL');
  }
}

await main();
