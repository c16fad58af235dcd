/**
 * One raw GET against the API server with the KubeConfig's TLS and credentials, returning the
 * parsed JSON. Informers list through this (no per-object model deserialization: cached objects are
 * the JSON the server sent) and watch through the client's Watch.
 */
import http from 'node:http';
import https from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';

/** An HTTP error answered by the API server, with its Status reason and message when present. */
export class KubeApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

const MAX_BODY_BYTES = 1024 * 1024 * 1024;

/**
 * Socket error codes that mean nothing answered: the API server is down or unreachable (not an
 * answer with an error, and not a connection that was cut after it answered).
 */
const UNREACHABLE_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EHOSTDOWN',
  'EADDRNOTAVAIL',
  'ENOTFOUND',
  'EAI_AGAIN',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/** The system error codes in an error, its causes (fetch wraps them) and aggregated errors. */
function errorCodes(err: unknown, depth = 0): string[] {
  if (depth > 4 || typeof err !== 'object' || err === null) return [];
  const e = err as { code?: unknown; cause?: unknown; errors?: unknown };
  const own = typeof e.code === 'string' ? [e.code] : [];
  const nested = Array.isArray(e.errors) ? e.errors.flatMap((x) => errorCodes(x, depth + 1)) : [];
  return [...own, ...errorCodes(e.cause, depth + 1), ...nested];
}

/** True when a request failed because no API server answered at all (connection refused, ...). */
export function isUnreachable(err: unknown): boolean {
  const codes = errorCodes(err);
  return codes.length > 0 && codes.every((c) => UNREACHABLE_CODES.has(c));
}

/** An error's message with its cause's (`fetch failed` alone says nothing). */
export function describeRequestError(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  // Duck-typed: errors from undici may come from another realm than this module's Error.
  const cause = (err as { cause?: { message?: unknown; code?: unknown } } | null)?.cause;
  const detail =
    typeof cause?.message === 'string' && cause.message !== ''
      ? cause.message
      : typeof cause?.code === 'string'
        ? cause.code
        : '';
  return detail && !message.includes(detail) ? `${message}: ${detail}` : message;
}

/**
 * Keep-alive agents per KubeConfig: the client's agent does not keep connections alive, so each
 * request pays a TLS handshake; a paged list of 50,000 objects is 100 requests, so a connection
 * is reused instead.
 */
const agents = new WeakMap<KubeConfig, { key: string; agent: https.Agent }>();

function keepAliveAgent(kc: KubeConfig, opts: https.RequestOptions): https.Agent {
  const tls = { ca: opts.ca, cert: opts.cert, key: opts.key, pfx: opts.pfx, passphrase: opts.passphrase };
  const key = JSON.stringify([tls, opts.rejectUnauthorized, opts.servername]);
  const cached = agents.get(kc);
  if (cached && cached.key === key) return cached.agent;
  cached?.agent.destroy();
  const agent = new https.Agent({
    ...tls,
    ...(opts.rejectUnauthorized !== undefined ? { rejectUnauthorized: opts.rejectUnauthorized } : {}),
    ...(opts.servername ? { servername: opts.servername } : {}),
    keepAlive: true,
    keepAliveMsecs: 10_000,
    maxSockets: 4,
  });
  agents.set(kc, { key, agent });
  return agent;
}

/** Closes the keep-alive connections held for this KubeConfig (informers call it on stop). */
export function releaseConnections(kc: KubeConfig): void {
  agents.get(kc)?.agent.destroy();
  agents.delete(kc);
}

export async function getJson(
  kc: KubeConfig,
  path: string,
  query: Record<string, string | number | boolean | undefined> = {},
  signal?: AbortSignal,
): Promise<unknown> {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('kubeconfig: no current cluster');
  const url = new URL(cluster.server.replace(/\/+$/, '') + path);
  for (const [k, v] of Object.entries(query))
    if (v !== undefined && v !== '') url.searchParams.set(k, String(v));
  const opts: https.RequestOptions = { method: 'GET', headers: { Accept: 'application/json' }, signal };
  await kc.applyToHTTPSOptions(opts);
  const mod = url.protocol === 'http:' ? http : https;
  // Through a proxy, the client's own agent knows the way; otherwise reuse a keep-alive connection.
  if (mod === https && !cluster.proxyUrl) opts.agent = keepAliveAgent(kc, opts);
  return new Promise((resolve, reject) => {
    const req = mod.request(url, opts, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_BODY_BYTES) {
          req.destroy(new Error(`GET ${path}: response larger than ${MAX_BODY_BYTES} bytes`));
          return;
        }
        chunks.push(c);
      });
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const code = res.statusCode ?? 0;
        let body: unknown;
        try {
          body = JSON.parse(text) as unknown;
        } catch {
          body = undefined;
        }
        if (code !== 200) {
          const st = (body ?? {}) as { reason?: string; message?: string };
          reject(
            new KubeApiError(
              code,
              st.reason ?? http.STATUS_CODES[code] ?? 'Unknown',
              `GET ${path}: ${code} ${st.message ?? (text.slice(0, 200) || http.STATUS_CODES[code])}`,
            ),
          );
          return;
        }
        if (body === undefined) {
          reject(new Error(`GET ${path}: the response is not JSON`));
          return;
        }
        resolve(body);
      });
    });
    req.on('error', reject);
    req.end();
  });
}
