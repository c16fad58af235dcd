/**
 * The fsm-healthcheck HTTP server: kubelet's rewritten tcpSocket/grpc probes arrive as
 * GET /fsm-healthcheck with Original-Tcp-Port (or Original-Grpc-Port); the answer is the result of a
 * TCP connect (or grpc.health.v1 Check) to the target host. Plain node:http — this runs in every
 * meshed pod, so it stays lean (no framework, no metrics).
 */
import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import { clientErrorResponse, createHttpServer, listen } from '../binary/index.js';
import { HEALTHCHECK_PATH } from '../constants/index.js';
import type { Logger } from '../logger/index.js';
import { parseCheckRequest, type CheckRequest } from './request.js';
import { grpcHealthCheck } from './grpc-lazy.js';
import { tcpCheck, type CheckOutcome } from './tcp-check.js';

export interface HealthcheckOptions {
  /** Host every check dials (the pod's own address: 127.0.0.1 in a pod). */
  targetHost: string;
  /** Bound of each connect / gRPC call. */
  dialTimeoutMs: number;
  /**
   * Ports that may be checked (the pod's probe ports), or 'any'. An empty list is refused: a
   * checker that dials any port it is asked about is a port scanner inside the pod.
   */
  allowedPorts: readonly number[] | 'any';
  logger: Logger;
}

export interface HealthcheckServer {
  /** Binds; rejects with a message naming the port when it is in use. */
  listen(port: number, host?: string): Promise<AddressInfo>;
  /** Stops accepting, lets in-flight checks finish (bounded by graceMs), closes every connection. */
  stop(graceMs?: number): Promise<void>;
  readonly inFlight: number;
}

function formatTarget(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

function send(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  status: number,
  body: string,
  extra?: http.OutgoingHttpHeaders,
): void {
  const payload = body + '\n';
  res.writeHead(status, {
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': Buffer.byteLength(payload),
    ...extra,
  });
  res.end(req.method === 'HEAD' ? undefined : payload);
}

export function createHealthcheckServer(opts: HealthcheckOptions): HealthcheckServer {
  const log = opts.logger.child({ component: 'healthcheck' });
  if (opts.allowedPorts !== 'any' && opts.allowedPorts.length === 0) {
    throw new Error("fsm-healthcheck: allowedPorts is empty; list the probe ports, or pass 'any'");
  }
  const allowed = opts.allowedPorts === 'any' ? 'any' : new Set(opts.allowedPorts);
  let inFlight = 0;
  let drained: (() => void) | undefined;

  // The gRPC stack (~20 MiB resident) loads on the first gRPC check only (./grpc-lazy.ts).
  const run = (check: CheckRequest): Promise<CheckOutcome> =>
    check.kind === 'tcp'
      ? tcpCheck(opts.targetHost, check.port, opts.dialTimeoutMs)
      : grpcHealthCheck(opts.targetHost, check.port, check.service, opts.dialTimeoutMs);

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const path = (req.url ?? '').split('?', 1)[0];
    if (path !== HEALTHCHECK_PATH)
      return send(req, res, 404, `not found: ${path}; probes use ${HEALTHCHECK_PATH}`);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return send(req, res, 405, `method ${req.method} not allowed; use GET or HEAD`, { Allow: 'GET, HEAD' });
    }
    const parsed = parseCheckRequest(req.headersDistinct, allowed);
    if (!parsed.ok) {
      log.info('rejected probe request', { status: parsed.status, reason: parsed.message });
      return send(req, res, parsed.status, parsed.message);
    }
    const { check } = parsed;
    const target = formatTarget(opts.targetHost, check.port);
    const outcome = await run(check);
    if (check.kind === 'tcp') {
      if (outcome.ok) return send(req, res, 200, `Successfully established connection to ${target}`);
      log.info('tcp check failed', { port: check.port, reason: outcome.reason });
      return send(req, res, 503, `Failed to establish connection to ${target}: ${outcome.reason}`);
    }
    const what = `gRPC health check of ${target}${check.service ? ` (service ${JSON.stringify(check.service)})` : ''}`;
    if (outcome.ok) return send(req, res, 200, `${what}: SERVING`);
    log.info('grpc check failed', { port: check.port, service: check.service, reason: outcome.reason });
    return send(req, res, 503, `${what}: ${outcome.reason}`);
  };

  // Defensive defaults (pkg/binary): timeouts, a connection cap, one check at a time per connection.
  const server = createHttpServer(
    (req, res) => {
      inFlight++;
      const started = process.hrtime.bigint();
      res.once('close', () => {
        inFlight--;
        if (log.isLevelEnabled('debug')) {
          log.debug('request', {
            method: req.method,
            path: req.url,
            status: res.statusCode,
            ms: Number(process.hrtime.bigint() - started) / 1e6,
          });
        }
        if (inFlight === 0) drained?.();
      });
      // Request bodies are never read or logged; drain them so keep-alive connections stay usable.
      req.resume();
      handle(req, res).catch((err: unknown) => {
        log.error('unexpected error handling probe', {
          error: err instanceof Error ? err.message : String(err),
        });
        if (!res.headersSent) send(req, res, 500, 'internal error');
        else res.destroy();
      });
    },
    { http: { keepAlive: true }, logger: log, name: 'healthcheck' },
  );
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    log.debug('malformed request', { error: err.code ?? err.message });
    if (socket.writable) socket.end(clientErrorResponse(err));
    else socket.destroy();
  });

  return {
    get inFlight() {
      return inFlight;
    },
    async listen(port: number, host = '0.0.0.0'): Promise<AddressInfo> {
      const addr = await listen(server, port, host);
      log.info('fsm-healthcheck listening', {
        address: formatTarget(addr.address, addr.port),
        targetHost: opts.targetHost,
        dialTimeoutMs: opts.dialTimeoutMs,
        allowedPorts: opts.allowedPorts === 'any' ? 'any' : opts.allowedPorts.join(','),
      });
      if (opts.allowedPorts === 'any') {
        log.warn(
          'every port may be checked (--allow-any-port): anyone who reaches this port can scan the pod',
        );
      }
      return addr;
    },
    async stop(graceMs = 4000): Promise<void> {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      if (inFlight > 0) {
        log.info('waiting for in-flight checks', { inFlight });
        await Promise.race([
          new Promise<void>((resolve) => (drained = resolve)),
          new Promise<void>((resolve) => setTimeout(resolve, graceMs).unref()),
        ]);
      }
      server.closeAllConnections();
      await closed;
    },
  };
}
