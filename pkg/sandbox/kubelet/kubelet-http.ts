/**
 * Kubelet's HTTP GET, as its probes and HTTP lifecycle hooks send it (Go's net/http client with
 * kubelet's redirect policy), and worded as kubelet's messages word it:
 *
 * - a fresh connection per request, User-Agent kube-probe/<minor>, Accept: *\/*, the handler's headers
 *   (a Host header sets the request's host);
 * - HTTPS without certificate verification;
 * - redirects (301, 302, 303, 307, 308 with a Location, resolved against the current URL) are
 *   followed only to the same host name — another port on the same host counts as the same host —
 *   until 10 requests were made: a redirect answering the 10th is the error `stopped after 10
 *   redirects` (Go's checker sees 10 requests in `via`); a redirect to another host stops
 *   following and its 3xx answer is the result (kubelet then reports a probe warning). The handler's
 *   headers go along; its Host header only when the Location is relative (Go's rule);
 * - one timeout bounds the whole exchange, redirects included (Go's Client.Timeout);
 * - at most 10 KiB of each body is read.
 */
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { describeSocketError } from '../../healthcheck/index.js';
import { createConnectionVia, loopbackNetwork, type NodeNetwork } from '../netns/index.js';

/** Kubelet's User-Agent on probes (the minor version follows the sandbox API server's). */
export const PROBE_USER_AGENT = 'kube-probe/1.32';
/** Kubelet reads at most 10 KiB of a probe's body. */
export const MAX_BODY = 10 * 1024;
/** Go's http.Client (and kubelet's redirect checker) stops after this many redirects. */
export const MAX_REDIRECTS = 10;
const REDIRECT_CODES = new Set([301, 302, 303, 307, 308]);

export interface KubeletGet {
  url: string;
  /** The handler's httpHeaders, in order (a repeated name: the last one wins, as kubelet's header map). */
  headers: readonly { name: string; value: string }[];
  timeoutMs: number;
  userAgent?: string;
  /** How the node reaches the pod (default: loopback, a direct connection). */
  network?: NodeNetwork;
}

export type KubeletGetResult =
  | {
      kind: 'response';
      status: number;
      body: string;
      /** The URL that answered (after followed redirects). */
      url: string;
      /** Redirects followed. */
      redirects: number;
    }
  | { kind: 'error'; message: string };

/**
 * Go's words for a failed request: a dial error, or — once connected — the peer closing without an
 * answer (`EOF`) or resetting the connection (`read tcp <local>-><remote>: read: connection reset by
 * peer`), as a plaintext probe sees a proxy port that requires mTLS.
 */
function dialMessage(url: URL, err: NodeJS.ErrnoException & { localAddress?: string }): string {
  const remote = `${url.hostname}:${url.port || (url.protocol === 'https:' ? 443 : 80)}`;
  if (err.code === 'ECONNRESET' && err.message === 'socket hang up') return 'EOF';
  if (err.code === 'ECONNRESET') {
    return `read tcp ${err.localAddress ? `${err.localAddress}->` : ''}${remote}: read: connection reset by peer`;
  }
  const reason = err.code === 'ECONNREFUSED' ? 'connect: connection refused' : describeSocketError(err);
  return `dial tcp ${remote}: ${reason}`;
}

interface OneAnswer {
  status: number;
  location?: string;
  body: string;
}

function once(
  url: URL,
  headers: Record<string, string>,
  signal: AbortSignal,
  network: NodeNetwork,
  timeoutMs: number,
): Promise<OneAnswer> {
  return new Promise((resolve, reject) => {
    const secure = url.protocol === 'https:';
    const mod = secure ? https : http;
    // Kubelet does not verify probe certificates; a fresh connection per request, as kubelet's.
    const createConnection = createConnectionVia(
      network,
      secure ? { rejectUnauthorized: false } : undefined,
      timeoutMs,
    );
    const req = mod.request(
      url,
      {
        method: 'GET',
        headers,
        // No agent with createConnection: node's client ignores createConnection when agent is false.
        agent: createConnection ? undefined : false,
        rejectUnauthorized: false,
        signal,
        ...(createConnection ? { createConnection } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        let read = 0;
        res.on('data', (c: Buffer) => {
          if (read < MAX_BODY) chunks.push(c.subarray(0, MAX_BODY - read));
          read += c.length;
          if (read > MAX_BODY) res.destroy();
        });
        res.on('close', () => {
          const location = res.headers.location;
          resolve({
            status: res.statusCode ?? 0,
            ...(location !== undefined ? { location } : {}),
            body: Buffer.concat(chunks).toString('utf8'),
          });
        });
      },
    );
    // The local end of a connection that was made (a node-network dial has no IP one to give).
    let local: string | undefined;
    req.once('socket', (socket: net.Socket) => {
      const note = (): void => {
        if (socket.localAddress && net.isIP(socket.localAddress))
          local = `${socket.localAddress}:${socket.localPort}`;
      };
      if (socket.connecting) socket.once('connect', note);
      else note();
    });
    req.on('error', (err: NodeJS.ErrnoException & { localAddress?: string }) => {
      if (local) err.localAddress = local;
      reject(err);
    });
    req.end();
  });
}

/** One kubelet GET with its redirect policy. Never rejects. */
export async function kubeletGet(get: KubeletGet): Promise<KubeletGetResult> {
  const first = new URL(get.url);
  const base: Record<string, string> = { 'User-Agent': get.userAgent ?? PROBE_USER_AGENT, Accept: '*/*' };
  let host: string | undefined;
  for (const h of get.headers) {
    if (h.name.toLowerCase() === 'host') host = h.value;
    else base[h.name] = h.value;
  }
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, get.timeoutMs);
  let url = first;
  let hostHeader = host;
  try {
    for (let redirects = 0; ; redirects++) {
      let answer: OneAnswer;
      try {
        answer = await once(
          url,
          hostHeader !== undefined ? { ...base, Host: hostHeader } : base,
          controller.signal,
          get.network ?? loopbackNetwork,
          get.timeoutMs,
        );
      } catch (err) {
        const e = err as NodeJS.ErrnoException;
        if (timedOut) {
          return {
            kind: 'error',
            message: `Get "${url.href}": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`,
          };
        }
        return { kind: 'error', message: `Get "${url.href}": ${dialMessage(url, e)}` };
      }
      if (!REDIRECT_CODES.has(answer.status) || answer.location === undefined) {
        return { kind: 'response', status: answer.status, body: answer.body, url: url.href, redirects };
      }
      let next: URL;
      try {
        next = new URL(answer.location, url);
      } catch {
        return {
          kind: 'error',
          message: `Get "${url.href}": failed to parse Location header ${JSON.stringify(answer.location)}`,
        };
      }
      // Kubelet's redirect checker: another host name ends the following; the 3xx is the answer.
      if (next.hostname !== first.hostname) {
        return { kind: 'response', status: answer.status, body: answer.body, url: url.href, redirects };
      }
      if (redirects + 1 >= MAX_REDIRECTS) {
        return { kind: 'error', message: `Get "${next.href}": stopped after ${MAX_REDIRECTS} redirects` };
      }
      // Go keeps a custom Host header across a redirect only when the Location is relative.
      if (/^[a-z][a-z0-9+.-]*:/i.test(answer.location) || answer.location.startsWith('//'))
        hostHeader = undefined;
      url = next;
    }
  } finally {
    clearTimeout(timer);
  }
}
