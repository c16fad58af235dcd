/**
 * What bench:ads' plain and mTLS modes share: flags, the clock and RSS, bounded waits, percentiles,
 * and the load generator child process (ads-loadgen.ts) with awaitable events.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import type { LoadgenCommand, LoadgenEvent, LoadgenTls } from './ads-loadgen.js';

export function flag(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return def;
  const v = Number(process.argv[i + 1]);
  if (!Number.isInteger(v) || v <= 0) {
    console.error(`--${name}: expected a positive integer, got ${JSON.stringify(process.argv[i + 1])}`);
    process.exit(2);
  }
  return v;
}

v8.setFlagsFromString('--expose_gc');
export const gc = vm.runInNewContext('gc') as () => void;
export const rssMb = (): number => {
  gc();
  return process.memoryUsage().rss / 2 ** 20;
};
export const nowNs = (): bigint => process.hrtime.bigint();
export const ms = (ns: bigint): number => Number(ns) / 1e6;
const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

/** A bench never hangs: a phase that makes no progress fails loudly, naming itself. */
export function within<T>(p: Promise<T>, seconds: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`bench:ads: ${what} did not complete within ${seconds} s`)),
      seconds * 1000,
    );
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

export async function untilCount(get: () => number, target: number, what: string): Promise<void> {
  const deadline = Date.now() + 120_000;
  while (get() < target) {
    if (Date.now() > deadline) throw new Error(`bench:ads: ${what}: ${get()} of ${target} after 120 s`);
    await tick();
  }
}

export function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** A load generator child process with awaitable events. */
export class Loadgen {
  private readonly child: ChildProcess;
  private readonly recvWaiters = new Map<number, (ns: bigint) => void>();
  private readyWaiter: ((e: Extract<LoadgenEvent, { evt: 'ready' }>) => void) | undefined;
  private countWaiter: ((ns: bigint) => void) | undefined;
  errors = 0;

  constructor(
    private readonly streams: number,
    private readonly connections: number,
  ) {
    const here = path.dirname(fileURLToPath(import.meta.url));
    this.child = fork(path.join(here, 'ads-loadgen.js'), [], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.child.on('message', (e: LoadgenEvent) => {
      if (e.evt === 'ready') this.readyWaiter?.(e);
      else if (e.evt === 'recv') {
        const w = this.recvWaiters.get(e.node);
        this.recvWaiters.delete(e.node);
        w?.(BigInt(e.ns));
      } else if (e.evt === 'counted') this.countWaiter?.(BigInt(e.ns));
      else if (e.evt === 'error' && this.errors++ < 5) console.error(`loadgen: ${e.message}`);
    });
  }
  private cmd(c: LoadgenCommand): void {
    this.child.send(c);
  }
  start(address: string, tls?: LoadgenTls): Promise<Extract<LoadgenEvent, { evt: 'ready' }>> {
    return new Promise((resolve) => {
      this.readyWaiter = resolve;
      this.cmd({
        cmd: 'start',
        address,
        streams: this.streams,
        connections: this.connections,
        ...(tls ? { tls } : {}),
      });
    });
  }
  armTargeted(): void {
    this.cmd({ cmd: 'arm', mode: 'targeted' });
  }
  received(node: number): Promise<bigint> {
    return new Promise((resolve) => this.recvWaiters.set(node, resolve));
  }
  armCount(expect: number): Promise<bigint> {
    const p = new Promise<bigint>((resolve) => (this.countWaiter = resolve));
    this.cmd({ cmd: 'arm', mode: 'count', expect });
    return p;
  }
  async stop(): Promise<void> {
    this.cmd({ cmd: 'stop' });
    await new Promise((r) => this.child.once('exit', r));
  }
}
