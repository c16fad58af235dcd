/**
 * The bookbuyer app (SANDBOX_IMAGES.bookbuyer): a meshed client. Every few seconds it buys a book —
 * an HTTP GET of SANDBOX_BOOKBUYER_TARGET_ENV (the demo: the bookstore Service's ClusterIP) — and
 * logs the answer or the failure. Where the pod has no network namespace (loopback mode) nothing
 * redirects its connections, so it does what fsm-init's rule would: it dials its sidecar's capture
 * listener (SANDBOX_OUTBOUND_PROXY_ENV) and names where it meant to go in a PROXY protocol v1
 * header. Without that variable it dials the target directly (the kernel redirects it).
 */
import http from 'node:http';
import net from 'node:net';
import {
  SANDBOX_BOOKBUYER_PERIOD_MS,
  SANDBOX_BOOKBUYER_TARGET_ENV,
  SANDBOX_OUTBOUND_PROXY_ENV,
} from '../../constants/index.js';
import type { Workload, WorkloadSpec } from './types.js';

interface HostPort {
  host: string;
  port: number;
}

function hostPort(value: string, what: string): HostPort {
  const i = value.lastIndexOf(':');
  const host = value.slice(0, i);
  const port = Number(value.slice(i + 1));
  if (i <= 0 || net.isIP(host) === 0 || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(`${what}: expected <ip>:<port>, got ${JSON.stringify(value)}`);
  }
  return { host, port };
}

/** The target URL of the env, checked (a bad value is a clear start failure naming the variable). */
export function bookbuyerTarget(env: Readonly<Record<string, string>>): { dest: HostPort; path: string } {
  const raw = env[SANDBOX_BOOKBUYER_TARGET_ENV];
  if (!raw) throw new Error(`${SANDBOX_BOOKBUYER_TARGET_ENV} is not set: the bookbuyer needs a URL to call`);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error(`${SANDBOX_BOOKBUYER_TARGET_ENV}: not a URL: ${JSON.stringify(raw)}`);
  }
  if (url.protocol !== 'http:')
    throw new Error(`${SANDBOX_BOOKBUYER_TARGET_ENV}: only http:// URLs, got ${raw}`);
  const dest = hostPort(`${url.hostname}:${url.port || '80'}`, SANDBOX_BOOKBUYER_TARGET_ENV);
  return { dest, path: `${url.pathname}${url.search}` };
}

export async function startBookbuyer(spec: WorkloadSpec): Promise<Workload> {
  const env = spec.env ?? {};
  const { dest, path } = bookbuyerTarget(env);
  const proxyValue = env[SANDBOX_OUTBOUND_PROXY_ENV];
  const proxy = proxyValue ? hostPort(proxyValue, SANDBOX_OUTBOUND_PROXY_ENV) : undefined;
  const via = proxy ? ` via the sidecar ${proxy.host}:${proxy.port}` : '';
  let healthy = true;
  let bought = 0;
  const connect = (): net.Socket => {
    if (!proxy) return net.connect({ host: dest.host, port: dest.port, localAddress: spec.host });
    const socket = net.connect({ host: proxy.host, port: proxy.port, localAddress: spec.host });
    const family = net.isIP(dest.host) === 6 ? 'TCP6' : 'TCP4';
    socket.write(`PROXY ${family} ${spec.host} ${dest.host} 0 ${dest.port}\r\n`);
    return socket;
  };
  const buy = (): void => {
    const req = http.request(
      {
        host: dest.host,
        port: dest.port,
        path,
        headers: { 'user-agent': spec.name },
        createConnection: connect,
        timeout: 2000,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => {
          if (res.statusCode === 200) bought++;
          spec.log?.(
            `${spec.name}: GET http://${dest.host}:${dest.port}${path}${via} → ${res.statusCode} ${body.trim()} (books bought: ${bought})`,
          );
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error('timed out after 2000 ms')));
    // The reason as an app's log would put it (code and message, no `Error:` class prefix).
    req.on('error', (err: NodeJS.ErrnoException) =>
      spec.log?.(
        `${spec.name}: GET http://${dest.host}:${dest.port}${path}${via} failed: ${err.code ? `${err.code} ` : ''}${err.message}`,
      ),
    );
    req.end();
  };
  spec.log?.(`${spec.name}: buying books from http://${dest.host}:${dest.port}${path}${via}`);
  const timer = setInterval(() => {
    if (healthy) buy();
  }, SANDBOX_BOOKBUYER_PERIOD_MS);
  timer.unref();
  buy();
  return {
    spec,
    get healthy() {
      return healthy;
    },
    async setHealthy(h) {
      healthy = h;
      spec.log?.(`${spec.name}: ${h ? 'buying again' : 'broken: stopped buying'}`);
    },
    async stop() {
      clearInterval(timer);
    },
  };
}
