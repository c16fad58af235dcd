/**
 * fsm's HTTP servers with their defensive defaults: the controller's :9091, the injector's webhook
 * and metrics, fsm-healthcheck. Their real clients (kubelet probes, the API server, Prometheus) send
 * each request whole and never pipeline, so a client that does otherwise loses its connection
 * instead of holding memory or file descriptors:
 *
 * - the request head must arrive within HTTP_HEADERS_TIMEOUT_MS and the whole request within
 *   HTTP_REQUEST_TIMEOUT_MS (checked every HTTP_TIMEOUT_CHECK_INTERVAL_MS, Node checks every 30 s);
 *   a TLS handshake within TLS_HANDSHAKE_TIMEOUT_MS (Node allows 120 s), and a failed handshake is
 *   closed at once;
 * - a connection with no request in flight is closed after HTTP_IDLE_TIMEOUT_MS of silence (Node
 *   never closes one that has not sent a byte) or, between requests, after the keep-alive timeout;
 *   a request in flight is never cut by this (a health check may legitimately take its time);
 * - at most HTTP_MAX_CONNECTIONS connections: over the cap the oldest connection without a request in
 *   flight is closed, so a flood of idle or slowloris connections cannot lock a prober out (a probe
 *   sends its request at once and is busy within milliseconds);
 * - one request per connection is handled at a time: a pipelined request waits until the answer
 *   before it is handed to the socket (which waits on the client reading it), and while one waits
 *   the parser is given no more bytes (./gated-socket.ts feeds it HTTP_PARSE_SLICE_BYTES at a time);
 *   a connection that pipelines more than HTTP_MAX_PIPELINED_REQUESTS requests is closed. Node alone parses a
 *   whole received chunk of pipelined requests at once and starts every handler, each buffering
 *   its answer: a client that never reads could make the process hold hundreds of answers per
 *   connection; now it holds one answer and at most one slice of parsed requests.
 */
import type http from 'node:http';
import type https from 'node:https';
import type { Socket } from 'node:net';
import {
  HTTP_HEADERS_TIMEOUT_MS,
  HTTP_IDLE_TIMEOUT_MS,
  HTTP_KEEPALIVE_TIMEOUT_MS,
  HTTP_MAX_CONNECTIONS,
  HTTP_MAX_PIPELINED_REQUESTS,
  HTTP_PARSE_SLICE_BYTES,
  HTTP_REQUEST_TIMEOUT_MS,
  HTTP_TIMEOUT_CHECK_INTERVAL_MS,
  TLS_HANDSHAKE_TIMEOUT_MS,
} from '../constants/index.js';
import { silentLogger, type Logger } from '../logger/index.js';
import { GatedSocket } from './gated-socket.js';

export interface HttpServerLimits {
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  idleTimeoutMs: number;
  keepAliveTimeoutMs: number;
  /** TLS servers only. */
  handshakeTimeoutMs: number;
  maxConnections: number;
  maxPipelinedRequests: number;
  /** Bytes handed to the HTTP parser at a time. */
  parseSliceBytes: number;
  /** How often Node checks the head/request timeouts. */
  timeoutCheckIntervalMs: number;
}

export const DEFAULT_HTTP_SERVER_LIMITS: Readonly<HttpServerLimits> = {
  headersTimeoutMs: HTTP_HEADERS_TIMEOUT_MS,
  requestTimeoutMs: HTTP_REQUEST_TIMEOUT_MS,
  idleTimeoutMs: HTTP_IDLE_TIMEOUT_MS,
  keepAliveTimeoutMs: HTTP_KEEPALIVE_TIMEOUT_MS,
  handshakeTimeoutMs: TLS_HANDSHAKE_TIMEOUT_MS,
  maxConnections: HTTP_MAX_CONNECTIONS,
  maxPipelinedRequests: HTTP_MAX_PIPELINED_REQUESTS,
  parseSliceBytes: HTTP_PARSE_SLICE_BYTES,
  timeoutCheckIntervalMs: HTTP_TIMEOUT_CHECK_INTERVAL_MS,
};

export interface HttpServerOptions {
  /** Overrides of DEFAULT_HTTP_SERVER_LIMITS. */
  limits?: Partial<HttpServerLimits>;
  /** Where evictions and refused pipelines are logged (debug; a warning at most once a minute). */
  logger?: Logger;
  /** Names the server in logs, e.g. `health`. */
  name?: string;
}

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

/** One accepted connection. */
interface Conn {
  /** The TCP socket (for TLS: under the TLS socket). */
  raw: Socket;
  /** What the HTTP parser reads from (set once the connection reaches it). */
  gate?: GatedSocket;
  /** Requests received and not yet answered (handled or waiting). */
  active: number;
  /** A request's handler is running and its answer is not flushed yet. */
  handling: boolean;
  /** Handlers of pipelined requests, in order. */
  waiting: (() => void)[];
  /** Requests that arrived while another was unanswered, over the connection's life. */
  pipelined: number;
}

const WARN_EVERY_MS = 60_000;

function limitsOf(opts: HttpServerOptions): HttpServerLimits {
  const l = { ...DEFAULT_HTTP_SERVER_LIMITS, ...opts.limits };
  if (l.headersTimeoutMs > l.requestTimeoutMs) {
    throw new RangeError(
      `headersTimeoutMs (${l.headersTimeoutMs}) must not exceed requestTimeoutMs (${l.requestTimeoutMs})`,
    );
  }
  return l;
}

/** Options Node reads only when the server is created. */
function creationOptions(l: HttpServerLimits): http.ServerOptions {
  return {
    headersTimeout: l.headersTimeoutMs,
    requestTimeout: l.requestTimeoutMs,
    keepAliveTimeout: l.keepAliveTimeoutMs,
    connectionsCheckingInterval: l.timeoutCheckIntervalMs,
  };
}

/**
 * Installs the connection cap, the idle timeout and the per-connection request queue, and routes
 * requests to `handler`. The server must have been created without a request listener.
 */
function guard(
  server: http.Server,
  tlsServer: boolean,
  handler: Handler,
  l: HttpServerLimits,
  opts: HttpServerOptions,
): void {
  const log = (opts.logger ?? silentLogger()).child({
    component: 'http-limits',
    server: opts.name ?? 'http',
  });
  server.headersTimeout = l.headersTimeoutMs;
  server.requestTimeout = l.requestTimeoutMs;
  server.keepAliveTimeout = l.keepAliveTimeoutMs;
  server.setTimeout(l.idleTimeoutMs);

  // Accept order (Map iteration order) is eviction order. Over TLS the parser's connection is the
  // TLS socket over the TCP one; it is matched to its TCP connection by the remote endpoint.
  const conns = new Map<Socket, Conn>();
  const byEndpoint = new Map<string, Conn>();
  const byGate = new WeakMap<GatedSocket, Conn>();
  const endpoint = (s: Socket): string => `${s.remoteAddress}|${s.remotePort}`;
  const lookup = (s: Socket): Conn | undefined =>
    s instanceof GatedSocket ? byGate.get(s) : (conns.get(s) ?? byEndpoint.get(endpoint(s)));

  // Node's HTTP connection handler gets a GatedSocket instead of the socket.
  const handoff = tlsServer ? 'secureConnection' : 'connection';
  const nodeListeners = server.listeners(handoff);
  if (nodeListeners.length !== 1) {
    throw new Error(`unexpected ${handoff} listeners on a new HTTP server: ${nodeListeners.length}`);
  }
  const nodeConnectionListener = nodeListeners[0] as (socket: unknown) => void;
  server.removeListener(handoff, nodeConnectionListener);
  const handOver = (socket: Socket, conn: Conn | undefined): void => {
    const gate = new GatedSocket(socket, l.parseSliceBytes);
    if (conn) {
      conn.gate = gate;
      byGate.set(gate, conn);
    }
    nodeConnectionListener.call(server, gate);
  };
  if (tlsServer) {
    server.on('secureConnection', (socket: Socket) => handOver(socket, lookup(socket)));
    // A failed or timed-out handshake has nobody to answer: close it before node:https passes it to
    // 'clientError' handlers, which would write an HTTP 400 into a connection that never got TLS
    // (and so stays open).
    server.prependListener('tlsClientError', (err: Error, socket: Socket) => {
      log.debug('TLS handshake failed', { error: err.message });
      socket.destroy();
    });
  }

  const counts = { evicted: 0, refused: 0, pipelined: 0 };
  let lastWarn = 0;
  const note = (what: keyof typeof counts, message: string): void => {
    counts[what]++;
    const now = Date.now();
    if (now - lastWarn >= WARN_EVERY_MS) {
      lastWarn = now;
      log.warn(`${message} (more of these within a minute are logged at debug)`, {
        connections: conns.size,
        ...counts,
      });
    } else log.debug(message, { connections: conns.size, ...counts });
  };

  /** Closes the oldest connection without a request in flight, other than `newest`. */
  const evictFor = (newest: Socket): boolean => {
    for (const [socket, c] of conns) {
      if (socket !== newest && c.active === 0) {
        socket.destroy();
        note('evicted', `connection cap (${l.maxConnections}) reached: closed the oldest idle connection`);
        return true;
      }
    }
    return false;
  };
  server.on('connection', (raw: Socket) => {
    if (raw.remoteAddress === undefined) {
      raw.destroy(); // already gone
      return;
    }
    const key = endpoint(raw);
    const conn: Conn = { raw, active: 0, handling: false, waiting: [], pipelined: 0 };
    conns.set(raw, conn);
    byEndpoint.set(key, conn);
    raw.once('close', () => {
      conns.delete(raw);
      if (byEndpoint.get(key) === conn) byEndpoint.delete(key);
      conn.waiting.length = 0;
    });
    if (conns.size > l.maxConnections && !evictFor(raw)) {
      raw.destroy();
      note('refused', `connection cap (${l.maxConnections}) reached with every connection busy: refused one`);
      return;
    }
    if (!tlsServer) handOver(raw, conn);
  });

  // Silent for idleTimeoutMs (or past the keep-alive timeout): close unless a request is in flight.
  server.on('timeout', (socket: Socket) => {
    const c = lookup(socket);
    if (!c || c.active === 0) socket.destroy();
  });

  server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    const c = lookup(req.socket);
    if (!c) {
      handler(req, res);
      return;
    }
    // Closed for pipelining too much: Node still parses the rest of the chunk it had received.
    if (c.raw.destroyed) return;
    // The body's bytes are no heads: the parser may take them in large slices (see GatedSocket).
    const length = req.headers['content-length'];
    if (length !== undefined) c.gate?.allowBody(Number(length));
    c.active++;
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      c.active--;
      c.handling = false;
      if (c.raw.destroyed) {
        c.waiting.length = 0;
        return;
      }
      // The next pipelined handler starts before the valve opens: what the parser reads next is
      // then queued behind it, never run beside it.
      c.waiting.shift()?.();
      if (c.waiting.length === 0) c.gate?.hold(false);
    };
    // 'close' follows 'finish', which Node emits once the answer is handed to the socket: a client
    // that does not read holds the next handler back.
    res.once('close', finish);
    const run = (): void => {
      c.handling = true;
      handler(req, res);
    };
    if (!c.handling) {
      run();
      return;
    }
    c.pipelined++;
    if (c.pipelined > l.maxPipelinedRequests) {
      note(
        'pipelined',
        `a client pipelined more than ${l.maxPipelinedRequests} requests: closed its connection`,
      );
      c.waiting.length = 0;
      c.raw.destroy();
      return;
    }
    // A request waits behind the one being answered: the parser gets no more bytes meanwhile.
    c.waiting.push(run);
    c.gate?.hold(true);
  });
}

/** A node:http server with fsm's defensive defaults (see the top of this file). */
export function createHttpServer(
  handler: Handler,
  opts: HttpServerOptions & { http?: http.ServerOptions } = {},
): http.Server {
  const l = limitsOf(opts);
  const server = nodeHttp().createServer({ ...opts.http, ...creationOptions(l) });
  guard(server, false, handler, l, opts);
  return server;
}

/** A node:https server with fsm's defensive defaults, including the TLS handshake timeout. */
export function createHttpsServer(
  tlsOptions: https.ServerOptions,
  handler: Handler,
  opts: HttpServerOptions = {},
): https.Server {
  const l = limitsOf(opts);
  const server = process.getBuiltinModule('node:https').createServer({
    ...tlsOptions,
    ...creationOptions(l),
    handshakeTimeout: l.handshakeTimeoutMs,
  });
  guard(server, true, handler, l, opts);
  return server;
}

/**
 * node:http through process.getBuiltinModule rather than an ESM `import`: importing node:http from
 * an ES module builds its ESM namespace, which reads every export — including the lazy WebSocket,
 * CloseEvent and MessageEvent getters — and so loads Node's bundled undici with crypto, tls, http2,
 * zlib and worker_threads (nodejs/node#59686): +10.7 MiB resident in every process, measured on
 * Node 22.23 (a node:http server: 45.4 MiB from CommonJS or getBuiltinModule, 56.1 MiB from an ESM
 * import). fsm-healthcheck runs in every meshed pod with a TCP or gRPC probe, so it pays that per pod.
 */
function nodeHttp(): typeof http {
  return process.getBuiltinModule('node:http');
}

/**
 * The raw answer to a request Node could not parse or that came too slowly ('clientError'): 408
 * for a head or request timeout, 431 for a head too large, 400 otherwise; the connection closes.
 */
export function clientErrorResponse(err: NodeJS.ErrnoException): string {
  const status =
    err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? '408 Request Timeout'
      : err.code === 'HPE_HEADER_OVERFLOW'
        ? '431 Request Header Fields Too Large'
        : '400 Bad Request';
  return `HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`;
}
