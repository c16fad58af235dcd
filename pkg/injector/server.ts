/**
 * The webhook's HTTPS server (node:https, no framework on the hot path):
 * - POST /mutate-pod-creation: AdmissionReview admission.k8s.io/v1 (see ./admission.ts);
 * - GET /healthz: 200 `Health OK` once serving and the namespace informer has synced, 503 before.
 * Caller errors never become a 500: 415 for a non-JSON content type, 413 above 3 MiB, 400 for a
 * body that is not an AdmissionReview, 404/405 for other paths and methods. Before the namespace
 * informer has synced, admissions get 503 (the API server then applies the failurePolicy) rather
 * than being answered from an empty cache.
 * The serving certificate can be replaced while running (setCertificate) without dropping
 * connections; TLS files are watched by ./tlsfiles.ts.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type https from 'node:https';
import type { AddressInfo } from 'node:net';
import {
  INJECTOR_HEALTHZ_BODY,
  INJECTOR_HEALTHZ_PATH,
  MAX_ADMISSION_BODY_BYTES,
  WEBHOOK_KEEPALIVE_TIMEOUT_MS,
  WEBHOOK_MUTATE_PATH,
} from '../constants/index.js';
import { clientErrorResponse, createHttpsServer, listen } from '../binary/index.js';
import { errorMessage, type Logger } from '../logger/index.js';
import type { BootstrapCredentials } from '../identity/index.js';
import { handleAdmission, withBootstrapCredential, type AdmissionContext } from './admission.js';
import type { AdmissionMetricResult, InjectorMetrics } from './metrics.js';
import type { InjectorConfig } from './mutate.js';
import type { NamespaceSource } from './namespaces.js';
import type { ServerVersionSource } from './server-version.js';
import type { CertKeyPair } from './tlsfiles.js';

export interface WebhookServerOptions {
  /** 0 picks a free port (tests). */
  port: number;
  host?: string;
  tls: CertKeyPair;
  config: InjectorConfig;
  namespaces: NamespaceSource;
  logger: Logger;
  metrics?: InjectorMetrics;
  newProxyUuid?: () => string;
  maxBodyBytes?: number;
  /** Issues the bootstrap credential of each injected pod (none: the patch only, e.g. tests). */
  credentials?: BootstrapCredentials;
  /** Extra readiness for /healthz and admissions (the mesh CA): a reason when not ready. */
  notReady?: () => string | undefined;
  /** The API server's version (native sidecars); absent: classic sidecars only. */
  serverVersion?: ServerVersionSource;
}

const TEXT = 'text/plain; charset=utf-8';

function isJsonContentType(value: string | undefined): boolean {
  if (!value) return false;
  const media = value.split(';', 1)[0]!.trim().toLowerCase();
  return media === 'application/json';
}

export class WebhookServer {
  private readonly server: https.Server;
  private readonly ctx: AdmissionContext;
  private readonly maxBody: number;
  private readonly log: Logger;
  private listening = false;

  constructor(private readonly opts: WebhookServerOptions) {
    this.log = opts.logger.child({ component: 'injector-webhook' });
    this.maxBody = opts.maxBodyBytes ?? MAX_ADMISSION_BODY_BYTES;
    this.ctx = {
      config: opts.config,
      namespace: (name) => opts.namespaces.get(name),
      newProxyUuid: opts.newProxyUuid ?? randomUUID,
      ...(opts.serverVersion ? { server: () => opts.serverVersion!.current() } : {}),
    };
    // Defensive defaults (pkg/binary): head within 10 s, request within 30 s (kube-apiserver gives a
    // webhook at most 30 s), TLS handshake within 10 s, idle connections closed, a connection cap,
    // one request at a time per connection. The API server reuses connections: 65 s keep-alive.
    this.server = createHttpsServer(
      { cert: opts.tls.cert, key: opts.tls.key, minVersion: 'TLSv1.2' },
      (req, res) => this.handle(req, res),
      { logger: this.log, name: 'webhook', limits: { keepAliveTimeoutMs: WEBHOOK_KEEPALIVE_TIMEOUT_MS } },
    );
    this.server.on('tlsClientError', (err) => this.log.debug(`TLS handshake failed: ${errorMessage(err)}`));
    this.server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
      this.log.debug(`bad HTTP from client: ${errorMessage(err)}`);
      if (socket.writable) socket.end(clientErrorResponse(err));
      else socket.destroy();
    });
  }

  /** Starts serving; resolves once the port is bound. */
  async start(): Promise<void> {
    await listen(this.server, this.opts.port, this.opts.host ?? '0.0.0.0', 'webhook');
    this.listening = true;
    this.log.info('webhook serving HTTPS', { port: this.port, path: WEBHOOK_MUTATE_PATH });
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** Replaces the serving certificate for new TLS handshakes. */
  setCertificate(pair: CertKeyPair): void {
    this.server.setSecureContext({ cert: pair.cert, key: pair.key, minVersion: 'TLSv1.2' });
  }

  /** Stops accepting, lets in-flight requests finish, closes idle keep-alive connections. */
  async stop(): Promise<void> {
    if (!this.listening) return;
    this.listening = false;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    await closed;
  }

  private reply(res: ServerResponse, status: number, contentType: string, body: string): void {
    const bytes = Buffer.from(body, 'utf8');
    res.writeHead(status, { 'content-type': contentType, 'content-length': bytes.length });
    res.end(bytes);
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const started = process.hrtime.bigint();
    const path = (req.url ?? '/').split('?', 1)[0];
    if (path === INJECTOR_HEALTHZ_PATH) {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.setHeader('allow', 'GET, HEAD');
        return this.reply(res, 405, TEXT, `method ${req.method} not allowed on ${path}\n`);
      }
      if (!this.opts.namespaces.hasSynced()) {
        return this.reply(res, 503, TEXT, 'namespace informer has not synced yet\n');
      }
      const problem = this.opts.notReady?.();
      if (problem) return this.reply(res, 503, TEXT, `${problem}\n`);
      return this.reply(res, 200, TEXT, INJECTOR_HEALTHZ_BODY);
    }
    if (path !== WEBHOOK_MUTATE_PATH) return this.reply(res, 404, TEXT, `no handler for ${path}\n`);
    if (req.method !== 'POST') {
      res.setHeader('allow', 'POST');
      return this.reply(res, 405, TEXT, `method ${req.method} not allowed on ${path}\n`);
    }
    const done = (result: AdmissionMetricResult): void => {
      this.opts.metrics?.observeAdmission(result, Number(process.hrtime.bigint() - started) / 1e9);
    };
    if (!this.opts.namespaces.hasSynced()) {
      // Without the namespace cache every pod would look unmonitored: answer 503 and let the
      // API server apply the webhook's failurePolicy instead of silently skipping injection.
      this.discard(req);
      done('not-ready');
      return this.reply(res, 503, TEXT, 'namespace informer has not synced yet; retry later\n');
    }
    const ctype = req.headers['content-type'];
    if (!isJsonContentType(ctype)) {
      this.discard(req);
      done('unsupported-media-type');
      return this.reply(
        res,
        415,
        TEXT,
        `content type ${JSON.stringify(ctype ?? '')} is not application/json\n`,
      );
    }
    const declared = Number(req.headers['content-length'] ?? '0');
    if (declared > this.maxBody) {
      this.discard(req);
      done('too-large');
      return this.reply(
        res,
        413,
        TEXT,
        `body of ${declared} bytes exceeds the limit of ${this.maxBody} bytes\n`,
      );
    }

    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (chunk: Buffer) => {
      if (over) return;
      size += chunk.length;
      if (size > this.maxBody) {
        over = true;
        chunks.length = 0;
        done('too-large');
        this.reply(res, 413, TEXT, `body exceeds the limit of ${this.maxBody} bytes\n`);
        this.discard(req);
        return;
      }
      chunks.push(chunk);
    });
    req.on('error', (err) => this.log.debug(`request body aborted: ${errorMessage(err)}`));
    req.on('end', () => {
      if (over) return;
      void this.admit(req, res, Buffer.concat(chunks, size).toString('utf8'), done);
    });
  }

  private async admit(
    req: IncomingMessage,
    res: ServerResponse,
    body: string,
    done: (result: AdmissionMetricResult) => void,
  ): Promise<void> {
    let result: AdmissionMetricResult = 'error';
    try {
      let h = handleAdmission(body, this.ctx);
      if (h.credential) h = await withBootstrapCredential(h, this.opts.credentials);
      result = h.result;
      this.logAdmission(req, h.result, h.reason, h.uid, h.warnings);
      this.reply(res, h.status, h.contentType, h.body);
    } catch (err) {
      // Only a bug of ours gets here: caller input is handled above.
      this.log.error(`admission failed: ${errorMessage(err)}`);
      if (!res.headersSent) this.reply(res, 500, TEXT, 'internal error\n');
      else res.destroy();
    } finally {
      done(result);
    }
  }

  /**
   * Reads and drops the rest of a refused body so the client gets the answer on a clean connection
   * (closing with unread data would reset it). Bounded: a client that keeps sending is disconnected.
   */
  private discard(req: IncomingMessage): void {
    let dropped = 0;
    req.removeAllListeners('data');
    req.on('data', (chunk: Buffer) => {
      dropped += chunk.length;
      if (dropped > 4 * this.maxBody) req.socket.destroy();
    });
    req.resume();
  }

  private logAdmission(
    req: IncomingMessage,
    result: string,
    reason: string,
    uid: string | undefined,
    warnings: string[],
  ): void {
    const meta = { result, reason, uid, ...(warnings.length ? { warnings } : {}) };
    if (result === 'denied' || result === 'bad-request') this.log.info('admission refused', meta);
    else if (warnings.length) this.log.info('admission with warnings', meta);
    else if (this.log.isLevelEnabled('debug'))
      this.log.debug('admission', { ...meta, from: req.socket.remoteAddress });
  }
}
