/**
 * npm run bench:injector — admissions/s and p50/p99 latency of the webhook for a realistic pod
 * (3 containers, 6 probes) over HTTPS keep-alive, against a bare node:https server echoing the same
 * body, measured in the same run. Each server runs alone in a worker thread (one event loop, one
 * core); the load generator runs on the main thread.
 *
 * Env: FSM_BENCH_SECONDS (per phase, default 4), FSM_BENCH_CONCURRENCY (default 8).
 * Goals (issue 18): admissions/s at c=8 >= 0.5 x the bare server's in the same run; the handler
 * alone <= 60 us per admission. Each is printed with ours, bare, ratio and met/MISSED.
 * Profile: `node --cpu-prof --cpu-prof-dir <dir> dist/test/bench/injector.js` writes one profile
 * per thread (the webhook's worker thread is the one with handleAdmission in it).
 */
import { randomUUID } from 'node:crypto';
import https from 'node:https';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { createCA } from '../../pkg/tls/index.js';
import { defaultInjectorConfig, handleAdmission } from '../../pkg/injector/index.js';
import { admissionReview, namespace, realisticPod } from '../support/injector.js';
import { Latencies, fmt, goal, printComparison, type Goal } from '../support/bench-stats.js';

const SECONDS = Number(process.env['FSM_BENCH_SECONDS'] ?? 4);
const CONCURRENCY = Number(process.env['FSM_BENCH_CONCURRENCY'] ?? 8);
const WARMUP_MS = 1000;

interface Phase {
  rate: number;
  p50: number;
  p99: number;
  count: number;
  /** Server event-loop busy time per request (µs): its CPU cost, less sensitive to load-generator noise. */
  busyUs: number;
}

async function startWorker(
  mode: 'injector' | 'bare',
  cert: string,
  key: string,
): Promise<{ port: number; worker: Worker }> {
  const file = fileURLToPath(new URL('../support/injector-bench-worker.js', import.meta.url));
  const worker = new Worker(file, { workerData: { mode, cert, key } });
  const port = await new Promise<number>((resolve, reject) => {
    worker.once('message', (m: { port: number }) => resolve(m.port));
    worker.once('error', reject);
  });
  return { port, worker };
}

function activeMs(w: Worker): Promise<number> {
  return new Promise((resolve) => {
    const on = (m: { activeMs?: number }): void => {
      if (m.activeMs === undefined) return;
      w.off('message', on);
      resolve(m.activeMs);
    };
    w.on('message', on);
    w.postMessage('elu');
  });
}

async function stopWorker(w: Worker): Promise<void> {
  const exited = new Promise<void>((r) => w.once('exit', () => r()));
  w.postMessage('stop');
  await exited;
}

function post(
  agent: https.Agent,
  port: number,
  ca: string,
  body: Buffer,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/mutate-pod-creation',
        ca,
        servername: 'localhost',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': body.length },
      },
      (res) => {
        const parts: Buffer[] = [];
        res.on('data', (c: Buffer) => parts.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts).toString('utf8') }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function load(
  server: Worker,
  port: number,
  ca: string,
  body: Buffer,
  concurrency: number,
  seconds: number,
): Promise<Phase> {
  const agent = new https.Agent({ keepAlive: true, maxSockets: concurrency });
  const lat = new Latencies();
  let measuring = false;
  let count = 0;
  let stopAt = Date.now() + WARMUP_MS;
  const loop = async (): Promise<void> => {
    while (Date.now() < stopAt) {
      const t0 = process.hrtime.bigint();
      const r = await post(agent, port, ca, body);
      if (r.status !== 200) throw new Error(`status ${r.status}: ${r.body}`);
      if (measuring) {
        lat.add(Number(process.hrtime.bigint() - t0) / 1e6);
        count++;
      }
    }
  };
  // Warm-up (TLS handshakes, JIT), then the measured window on the same connections.
  await Promise.all(Array.from({ length: concurrency }, loop));
  measuring = true;
  const busy0 = await activeMs(server);
  const start = process.hrtime.bigint();
  stopAt = Date.now() + seconds * 1000;
  await Promise.all(Array.from({ length: concurrency }, loop));
  const elapsed = Number(process.hrtime.bigint() - start) / 1e9;
  const busy = (await activeMs(server)) - busy0;
  agent.destroy();
  return {
    rate: count / elapsed,
    p50: lat.percentile(50),
    p99: lat.percentile(99),
    count,
    busyUs: (busy * 1000) / count,
  };
}

function opsPerSecond(fn: () => unknown): number {
  for (let i = 0; i < 2000; i++) fn();
  let n = 0;
  const start = process.hrtime.bigint();
  const end = start + BigInt(Math.round(SECONDS * 1e9));
  let now = start;
  while (now < end) {
    for (let i = 0; i < 100; i++) fn();
    n += 100;
    now = process.hrtime.bigint();
  }
  return n / (Number(now - start) / 1e9);
}

async function main(): Promise<void> {
  const ca = await createCA('bench-ca');
  const serving = await ca.issue({
    commonName: 'fsm-injector',
    dnsNames: ['localhost'],
    ipAddresses: ['127.0.0.1'],
  });
  const body = Buffer.from(JSON.stringify(admissionReview(realisticPod())));

  const injector = await startWorker('injector', serving.certPem, serving.keyPem);
  const bare = await startWorker('bare', serving.certPem, serving.keyPem);
  try {
    // Sanity: the webhook really injects (a benchmark of errors would be meaningless).
    const agent = new https.Agent({ keepAlive: false });
    const check = JSON.parse((await post(agent, injector.port, ca.certPem, body)).body) as {
      response: { allowed: boolean; patch?: string };
    };
    if (!check.response.allowed || !check.response.patch)
      throw new Error('webhook did not inject the bench pod');
    const patchOps = (JSON.parse(Buffer.from(check.response.patch, 'base64').toString()) as unknown[]).length;

    console.log(
      `bench:injector  pod: 3 containers, 6 probes; body ${body.length} B, patch ${patchOps} ops; ` +
        `${SECONDS}s per phase after ${WARMUP_MS}ms warm-up; HTTPS keep-alive; servers in worker threads`,
    );
    // The handler alone, no network: what one core can do for the admission logic itself, against
    // the least any JSON webhook does (parse the review, serialise a reply of the same size).
    const ns = namespace('app', { mesh: 'fsm' });
    const ctx = { config: defaultInjectorConfig(), namespace: () => ns, newProxyUuid: () => randomUUID() };
    const text = body.toString('utf8');
    const replySize = handleAdmission(text, ctx).body.length;
    const handler = opsPerSecond(() => handleAdmission(text, ctx));
    const floor = opsPerSecond(() =>
      Buffer.from(JSON.stringify({ r: JSON.parse(text), pad: 'x'.repeat(replySize) })),
    );
    console.log('-- in-process handler (main thread, no TLS/HTTP)');
    const goals: string[] = [];
    const track = (name: string, g: Goal, value: string): Goal => {
      goals.push(`${name} ${g.text}: ${g.met ? 'met' : 'MISSED'} (${value})`);
      return g;
    };
    printComparison('admissions/s (handler only)', handler, floor, 'op/s', 0);
    const handlerUs = 1e6 / handler;
    printComparison(
      'us per admission (handler only)',
      handlerUs,
      1e6 / floor,
      'us',
      1,
      track('handler alone', goal('<= 60 us', handlerUs <= 60), `${fmt(handlerUs, 1)} us`),
    );

    for (const c of [1, CONCURRENCY]) {
      // Alternate so both servers see the same machine conditions.
      const ours = await load(injector.worker, injector.port, ca.certPem, body, c, SECONDS);
      const base = await load(bare.worker, bare.port, ca.certPem, body, c, SECONDS);
      console.log(`-- concurrency ${c} (ours ${ours.count} admissions, bare ${base.count} echoes)`);
      const ratio = ours.rate / base.rate;
      printComparison(
        `admissions/s (c=${c})`,
        ours.rate,
        base.rate,
        'req/s',
        0,
        c === CONCURRENCY
          ? track(`admissions/s c=${c}`, goal('>= 0.5 x bare', ratio >= 0.5), `ratio ${fmt(ratio, 3)}`)
          : undefined,
      );
      printComparison(`p50 latency (c=${c})`, ours.p50, base.p50, 'ms', 3);
      printComparison(`p99 latency (c=${c})`, ours.p99, base.p99, 'ms', 3);
      printComparison(`server busy per request (c=${c})`, ours.busyUs, base.busyUs, 'us', 1);
      printComparison(`one-core capacity (c=${c})`, 1e6 / ours.busyUs, 1e6 / base.busyUs, 'req/s', 0);
    }
    console.log(`goals: ${goals.join('; ')}`);
    console.log(
      '(bare: a node:https server echoing the body; handler floor: parse the review, serialise a reply of the same size)',
    );
  } finally {
    await stopWorker(injector.worker);
    await stopWorker(bare.worker);
  }
}

await main();
