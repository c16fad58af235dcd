/**
 * Hostile HTTP clients for the servers' hardening tests, on 127.0.0.1 only and always bounded:
 * slowloris (a request head that never ends), idle connections (never a byte), TLS connections that
 * never send a ClientHello, and pipelined floods that never read. Each attack records when the
 * server closed each connection; `destroy()` ends whatever is still open.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import tls from 'node:tls';

export interface Attack {
  /** Connections opened. */
  readonly opened: number;
  /** Connections the server has closed so far. */
  closed(): number;
  /** ms from open to close of the connections closed so far. */
  closeTimes(): number[];
  /** Resolves when every connection is closed, or after `ms` (then false). */
  allClosed(ms: number): Promise<boolean>;
  /** Starts reading what the server sent (a paused socket never sees the server close it). */
  read(): void;
  destroy(): void;
}

interface Tracked {
  socket: net.Socket;
  openedAt: number;
  closedAt?: number;
  timer?: NodeJS.Timeout;
}

function attack(tracked: Tracked[]): Attack {
  return {
    opened: tracked.length,
    closed: () => tracked.filter((t) => t.closedAt !== undefined).length,
    closeTimes: () => tracked.filter((t) => t.closedAt !== undefined).map((t) => t.closedAt! - t.openedAt),
    async allClosed(ms) {
      const end = Date.now() + ms;
      while (Date.now() < end) {
        if (tracked.every((t) => t.closedAt !== undefined)) return true;
        await new Promise((r) => setTimeout(r, 100));
      }
      return tracked.every((t) => t.closedAt !== undefined);
    },
    read() {
      for (const t of tracked) t.socket.resume();
    },
    destroy() {
      for (const t of tracked) {
        clearInterval(t.timer);
        t.socket.destroy();
      }
    },
  };
}

/** Opens connections in batches (so the accept queue is never the limit) and tracks their close. */
async function open(
  n: number,
  connect: () => net.Socket,
  onReady: (t: Tracked) => void,
  readyEvent: 'connect' | 'secureConnect' = 'connect',
): Promise<Tracked[]> {
  const tracked: Tracked[] = [];
  for (let i = 0; i < n; i += 100) {
    const batch: Promise<void>[] = [];
    for (let j = i; j < Math.min(n, i + 100); j++) {
      const socket = connect();
      const t: Tracked = { socket, openedAt: Date.now() };
      tracked.push(t);
      socket.on('error', () => undefined);
      socket.on('close', () => {
        t.closedAt ??= Date.now();
        clearInterval(t.timer);
      });
      socket.resume(); // whatever the server answers (a 408, a 400) is read and dropped
      batch.push(
        new Promise<void>((resolve) => {
          socket.once(readyEvent, () => {
            t.openedAt = Date.now();
            onReady(t);
            resolve();
          });
          socket.once('close', () => resolve());
        }),
      );
    }
    await Promise.all(batch);
  }
  return tracked;
}

/**
 * Slowloris: each connection sends the start of a request head, then one more header line every
 * `dripMs`, never the blank line that ends it.
 */
export async function slowloris(
  port: number,
  n: number,
  opts: { tls?: { ca: string }; path?: string; dripMs?: number } = {},
): Promise<Attack> {
  const head = `GET ${opts.path ?? '/'} HTTP/1.1\r\nHost: 127.0.0.1\r\n`;
  const connect = (): net.Socket =>
    opts.tls
      ? tls.connect({ port, host: '127.0.0.1', ca: opts.tls.ca, servername: 'localhost' })
      : net.connect(port, '127.0.0.1');
  const tracked = await open(
    n,
    connect,
    (t) => {
      t.socket.write(head);
      let i = 0;
      t.timer = setInterval(() => {
        if (t.socket.writable) t.socket.write(`X-Slow-${i++}: 1\r\n`);
      }, opts.dripMs ?? 2000);
    },
    opts.tls ? 'secureConnect' : 'connect',
  );
  return attack(tracked);
}

/** TCP connections that never send a byte (over TLS: never a ClientHello). */
export async function idleConnections(port: number, n: number): Promise<Attack> {
  return attack(
    await open(
      n,
      () => net.connect(port, '127.0.0.1'),
      () => undefined,
    ),
  );
}

/** Each connection writes `requests` pipelined GETs of `path` at once and never reads the answers. */
export async function pipelineFlood(
  port: number,
  connections: number,
  requests: number,
  path: string,
  headers: Record<string, string> = {},
): Promise<Attack> {
  const extra = Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  const one = `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n${extra}\r\n`;
  const tracked = await open(
    connections,
    () => net.connect(port, '127.0.0.1'),
    (t) => {
      t.socket.pause();
      t.socket.write(one.repeat(requests));
    },
  );
  // open() resumed the sockets to drop answers; this attack must not read.
  for (const t of tracked) t.socket.pause();
  return attack(tracked);
}

/** One request on a fresh connection (as kubelet probes), with its latency. */
export async function timedGet(
  url: string,
  opts: { ca?: string } = {},
): Promise<{ status: number; ms: number } | { error: string; ms: number }> {
  const t0 = process.hrtime.bigint();
  const ms = (): number => Number(process.hrtime.bigint() - t0) / 1e6;
  const mod = url.startsWith('https:') ? await import('node:https') : http;
  return new Promise((resolve) => {
    const req = mod.get(
      url,
      { agent: false, timeout: 5000, ...(opts.ca ? { ca: opts.ca, servername: 'localhost' } : {}) },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: ms() }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('no answer within 5 s')));
    req.on('error', (e) => resolve({ error: e.message, ms: ms() }));
  });
}

/** Resident set size of a process, MiB (Linux /proc). */
export function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]) / 1024;
}

/** min / median / max of a list of ms, for the printed figures. */
export function spread(ms: number[]): string {
  if (ms.length === 0) return 'none';
  const s = [...ms].sort((a, b) => a - b);
  const f = (x: number): string => (x >= 1000 ? `${(x / 1000).toFixed(1)} s` : `${x.toFixed(0)} ms`);
  return `min ${f(s[0]!)}, median ${f(s[Math.floor(s.length / 2)]!)}, max ${f(s[s.length - 1]!)}`;
}
