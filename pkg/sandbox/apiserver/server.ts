/**
 * The sandbox's wire-faithful Kubernetes API server: HTTPS with a generated CA and a bearer token.
 * This file is the lifecycle and the dispatch; what a request means is the router's (router.ts),
 * the answers are discovery.ts, the verbs over the store (verbs.ts, list-watch.ts), connect
 * subresources (connect.ts: services/proxy, upgrade requests) and the test controls (controls.ts).
 */
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { randomBytes } from 'node:crypto';
import { createCA, type CertificateAuthority } from '../../tls/index.js';
import { silentLogger, errorMessage, type Logger } from '../../logger/index.js';
import { RESOURCES, type ResourceInfo } from './resources.js';
import { Store, type KubeObject } from './store.js';
import type { Faults, FaultVerb } from './faults.js';
import {
  StatusError,
  badRequest,
  internalError,
  methodNotSupported,
  statusFor,
  unauthorized,
} from './status.js';
import { SelectorError } from './selectors.js';
import { PatchError } from './patch.js';
import { kubeconfigYaml, writeKubeconfig } from './kubeconfig.js';
import { webhookAdmission, type AdmissionHook, type WebhookAdmissionOptions } from './admission.js';
import { serviceProxyHandler, type ServiceProxyResolver } from './service-proxy.js';
import { NOT_FOUND_MESSAGE, isPublic, routeRequest, type Route, type RouteRejection } from './router.js';
import { discoveryDocument } from './discovery.js';
import { Controls } from './controls.js';
import { Verbs } from './verbs.js';
import { Subresources, rawStatusResponse, type SubresourceHandler } from './connect.js';
import { readBody, sendJson } from './http-io.js';
import { PodIdentities, type PodIdentity } from './pod-identity.js';
import type { NodeNetwork } from '../netns/index.js';

export interface ApiServerOptions {
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  /** Bearer token clients must send (default: random). */
  token?: string;
  /** CA that signs the serving certificate (default: a fresh one). */
  ca?: CertificateAuthority;
  logger?: Logger;
  /** Interval between BOOKMARK events on watches that allow them (default 10 s). */
  bookmarkIntervalMs?: number;
  /** Watch duration when the client sends no timeoutSeconds (default 30 min). */
  defaultWatchTimeoutSeconds?: number;
  /** Events kept per resource before compaction (default 100,000). */
  maxHistory?: number;
  /** Written on start when set. */
  kubeconfigPath?: string;
  /** Reported by /version (default 1.32). */
  version?: { major: string; minor: string };
  /** Namespaces present at start (default: default, kube-system, kube-public, kube-node-lease). */
  initialNamespaces?: string[];
  /**
   * The kinds served (default RESOURCES). Add `customResource(...)` entries to serve kinds as if
   * their CRDs were installed (cert-manager's), or leave one out to answer as a cluster without it
   * (namespaces and service accounts are always kept: the server itself creates them).
   */
  resources?: readonly ResourceInfo[];
  /** Addresses the serving certificate also names (namespace mode: the node's, where pods reach it). */
  extraIpAddresses?: readonly string[];
  /** How the server reaches pods: webhooks, the service proxy (namespace mode: the node network). */
  network?: NodeNetwork;
}

/** Namespaces and ServiceAccounts are always served: the server creates them itself. */
function withBuiltIns(resources: readonly ResourceInfo[]): readonly ResourceInfo[] {
  const builtIns = RESOURCES.filter(
    (r) => r.group === '' && ['namespaces', 'serviceaccounts'].includes(r.resource),
  );
  return [...builtIns.filter((b) => !resources.includes(b)), ...resources];
}

/** Errors a request can cause → the Status answered; anything else is a 500 worth a log line. */
function statusOf(e: unknown): { err: StatusError; expected: boolean } {
  if (e instanceof StatusError) return { err: e, expected: true };
  if (e instanceof SelectorError || e instanceof PatchError)
    return { err: badRequest(e.message), expected: true };
  return { err: internalError(errorMessage(e)), expected: false };
}

function rejection(r: RouteRejection): StatusError {
  if (r.code === 405) return methodNotSupported(r.message);
  if (r.code === 400) return badRequest(r.message);
  return statusFor(r.code, r.message);
}

/** `shouldUpgradeCallback` (Node >= 22.21): upgrades nobody serves are handled as plain requests. */
type ServerOptions = https.ServerOptions & { shouldUpgradeCallback?: (req: IncomingMessage) => boolean };

export class ApiServer {
  readonly store: Store;
  /** Watch and fault controls for tests (also served at /fsm-sandbox/faults). */
  readonly controls: Controls;
  readonly faults: Faults;
  readonly token: string;
  /** The kinds this server serves. */
  readonly resources: readonly ResourceInfo[];
  private server?: https.Server;
  private ca?: CertificateAuthority;
  private readonly sockets = new Set<Socket>();
  private readonly logger: Logger;
  private readonly verbs: Verbs;
  private readonly subresources = new Subresources();
  private admission?: AdmissionHook;
  private serviceProxy?: ServiceProxyResolver;
  private address?: AddressInfo;
  private readonly pods: PodIdentities;

  constructor(private readonly opts: ApiServerOptions = {}) {
    this.store = new Store({ maxHistory: opts.maxHistory });
    this.pods = new PodIdentities(this.store);
    this.controls = new Controls(this.store);
    this.faults = this.controls.faults;
    this.token = opts.token ?? randomBytes(24).toString('hex');
    this.resources = opts.resources ? withBuiltIns(opts.resources) : RESOURCES;
    this.logger = (opts.logger ?? silentLogger()).child({ component: 'apiserver' });
    this.verbs = new Verbs({
      store: this.store,
      controls: this.controls,
      resources: this.resources,
      admission: () => this.admission,
      bookmarkIntervalMs: opts.bookmarkIntervalMs,
      defaultWatchTimeoutSeconds: opts.defaultWatchTimeoutSeconds,
    });
    this.subresources.set(
      'services',
      'proxy',
      serviceProxyHandler(
        () => this.serviceProxy,
        () => this.opts.network,
      ),
    );
    const now = Date.now();
    for (const ns of opts.initialNamespaces ?? ['default', 'kube-system', 'kube-public', 'kube-node-lease']) {
      this.verbs.seedNamespace(ns, now);
    }
  }

  /** https://127.0.0.1:<port> */
  get url(): string {
    if (!this.address) throw new Error('the API server is not started');
    return `https://${this.address.address}:${this.address.port}`;
  }

  get port(): number {
    if (!this.address) throw new Error('the API server is not started');
    return this.address.port;
  }

  /** PEM of the CA that signed the serving certificate. */
  get caPem(): string {
    if (!this.ca) throw new Error('the API server is not started');
    return this.ca.certPem;
  }

  /** The CA (reused by the sandbox to sign the webhook's certificate). */
  get certificateAuthority(): CertificateAuthority {
    if (!this.ca) throw new Error('the API server is not started');
    return this.ca;
  }

  async start(): Promise<void> {
    this.ca = this.opts.ca ?? (await createCA('fsm-sandbox-ca'));
    const host = this.opts.host ?? '127.0.0.1';
    const serving = await this.ca.issue({
      commonName: 'kube-apiserver',
      dnsNames: ['localhost', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc'],
      ipAddresses: [host === 'localhost' ? '127.0.0.1' : host, ...(this.opts.extraIpAddresses ?? [])],
    });
    const options: ServerOptions = {
      key: serving.keyPem,
      cert: serving.certPem,
      shouldUpgradeCallback: (req) => this.upgradeHandled(req),
    };
    const server = https.createServer(options, (req, res) => {
      void this.handle(req, res);
    });
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      void this.handleUpgrade(req, socket, head);
    });
    server.keepAliveTimeout = 30_000;
    server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    server.on('tlsClientError', (err) => this.logger.debug('TLS client error', { error: err.message }));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.opts.port ?? 0, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    this.address = server.address() as AddressInfo;
    this.logger.info('API server listening', { url: this.url });
    if (this.opts.kubeconfigPath) await this.writeKubeconfig(this.opts.kubeconfigPath);
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    this.controls.endAll();
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const s of this.sockets) s.destroy();
    await closed;
  }

  kubeconfig(opts: { namespace?: string; name?: string } = {}): string {
    return kubeconfigYaml({ server: this.url, caPem: this.caPem, token: this.token, ...opts });
  }

  async writeKubeconfig(path: string, opts: { namespace?: string; name?: string } = {}): Promise<void> {
    await writeKubeconfig(path, { server: this.url, caPem: this.caPem, token: this.token, ...opts });
  }

  /** Installs (or removes) the mutating admission hook called on creates. */
  setAdmission(hook: AdmissionHook | undefined): void {
    this.admission = hook;
  }

  /** Calls MutatingWebhookConfigurations on create, as kube-apiserver does (see admission.ts). */
  enableWebhookAdmission(opts: Omit<WebhookAdmissionOptions, 'store'> = {}): void {
    this.setAdmission(
      webhookAdmission({
        store: this.store,
        logger: this.logger,
        ...(this.opts.network ? { network: this.opts.network } : {}),
        ...opts,
      }),
    );
  }

  /**
   * A bearer token for a pod (the node agent's stand-in for its service-account token): requests
   * with it are the pod's, and sandbox.flomesh.io/cut-off-apiserver=true on the pod cuts them off.
   */
  issuePodToken(id: PodIdentity): string {
    return this.pods.issue(id);
  }

  /** Serves services/<name>[:<port>]/proxy/... by forwarding to what the resolver names. */
  setServiceProxy(resolver: ServiceProxyResolver | undefined): void {
    this.serviceProxy = resolver;
  }

  /**
   * Serves (or, with undefined, stops serving) a connect subresource such as pods/log: requests on
   * `<resource>/<name>[:<port>]/<subresource>` go to the handler, upgrade requests to its `upgrade`.
   * `resource` is a store key (`pods`, `apps/deployments`).
   */
  setSubresource(resource: string, subresource: string, handler: SubresourceHandler | undefined): void {
    this.subresources.set(resource, subresource, handler);
  }

  /**
   * Creates an object in-process with the same naming, defaulting, validation and (unless
   * skipAdmission) admission as a POST: for seeding benchmarks and demos without HTTP.
   * `resource` is a plural (`pods`) or a store key (`apps/deployments`); the namespace comes from
   * metadata.namespace. Throws StatusError as the HTTP API would answer.
   */
  createObject(
    resource: string,
    obj: Record<string, unknown>,
    opts: { skipAdmission?: boolean } = {},
  ): Promise<KubeObject> {
    return this.verbs.createObject(resource, obj, opts);
  }

  /** Deletes one object; a namespace takes its contents with it. */
  deleteObject(info: ResourceInfo, namespace: string | undefined, name: string): KubeObject | undefined {
    return this.verbs.deleteObject(info, namespace, name);
  }

  // ---- test controls (see controls.ts) ----

  /** Destroys the sockets of open watches (all, or of one store key such as `pods`). */
  dropWatches(resource?: string): number {
    return this.controls.dropWatches(resource);
  }

  /** Sends an in-stream ERROR 410 Expired to open watches and ends them; history is compacted. */
  expireWatches(resource?: string): number {
    return this.controls.expireWatches(resource);
  }

  /** Ends open watches cleanly, as a server-side timeout would. */
  endWatches(resource?: string): number {
    return this.controls.endWatches(resource);
  }

  /** Silently compacts history: resumes from older versions get 410. */
  compact(): number {
    return this.controls.compact();
  }

  /** The next `count` matching requests fail with `code` (500 on list, 403 on watch, ...). */
  failNext(f: { verb: FaultVerb; resource?: string; code: number; message?: string; count?: number }): void {
    this.controls.failNext(f);
  }

  watchCount(resource?: string): number {
    return this.controls.watchCount(resource);
  }

  // ---- HTTP ----

  private route(req: IncomingMessage): Route {
    return routeRequest(req.method ?? 'GET', req.url ?? '/', {
      resources: this.resources,
      connect: this.subresources.table(),
    });
  }

  private authorized(req: IncomingMessage): boolean {
    const h = req.headers['authorization'];
    return (typeof h === 'string' && h === `Bearer ${this.token}`) || this.pods.lookup(h) !== undefined;
  }

  /** A request of a cut-off pod: true when its connection was dropped (nothing is answered). */
  private droppedCutOff(req: IncomingMessage, socket: Duplex): boolean {
    const id = this.pods.lookup(req.headers['authorization']);
    if (!id || !this.pods.admit(id, req.socket)) return false;
    socket.destroy();
    return true;
  }

  /** Authenticates and routes: a route to serve, or the Status error to answer with. */
  private admit(req: IncomingMessage): Route {
    const route = this.route(req);
    if (!isPublic(route) && !this.authorized(req)) throw unauthorized();
    if (route.kind === 'reject') throw rejection(route);
    return route;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = Date.now();
    if (this.droppedCutOff(req, req.socket)) return;
    try {
      await this.dispatch(this.admit(req), req, res);
    } catch (e) {
      const { err, expected } = statusOf(e);
      if (!expected) {
        this.logger.error('request failed', { method: req.method, url: req.url, error: errorMessage(e) });
      }
      if (!res.headersSent) sendJson(res, err.code, err.status);
      else res.destroy();
    } finally {
      if (this.logger.isLevelEnabled('trace')) {
        this.logger.trace('request', {
          method: req.method,
          url: req.url,
          code: res.statusCode,
          ms: Date.now() - started,
        });
      }
    }
  }

  private async dispatch(route: Route, req: IncomingMessage, res: ServerResponse): Promise<void> {
    switch (route.kind) {
      case 'health':
        res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
        res.end('ok');
        return;
      case 'discovery': {
        const doc = discoveryDocument(route.doc, {
          resources: this.resources,
          serverAddress: `${this.address!.address}:${this.address!.port}`,
          version: this.opts.version,
        });
        if (!doc) throw statusFor(404, NOT_FOUND_MESSAGE);
        sendJson(res, 200, doc);
        return;
      }
      case 'controls':
        sendJson(
          res,
          200,
          route.method === 'GET' ? this.controls.state() : this.controls.act(await readBody(req)),
        );
        return;
      case 'resource':
        if (route.verb === 'connect') {
          await this.subresources.serve({ route, req, store: this.store, logger: this.logger }, res);
          return;
        }
        await this.verbs.serve(route, req, res);
        return;
      case 'reject':
        throw rejection(route);
    }
  }

  /** Whether an upgrade request goes to the 'upgrade' listener: only authorized ones a handler upgrades. */
  private upgradeHandled(req: IncomingMessage): boolean {
    try {
      const route = this.admit(req);
      return route.kind === 'resource' && this.subresources.get(route)?.upgrade !== undefined;
    } catch {
      return false;
    }
  }

  private async handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    // The HTTP server no longer listens on an upgraded socket: an unheard error would crash us.
    socket.on('error', (e) =>
      this.logger.debug('upgraded connection error', { url: req.url, error: e.message }),
    );
    if (this.droppedCutOff(req, socket)) return;
    try {
      const route = this.admit(req);
      const handler = route.kind === 'resource' ? this.subresources.get(route) : undefined;
      if (route.kind !== 'resource' || !handler?.upgrade) {
        // Reached only on a Node that ignores shouldUpgradeCallback (it sends every upgrade here).
        throw badRequest(`the server cannot upgrade ${req.method ?? 'GET'} ${req.url ?? '/'}`);
      }
      await handler.upgrade({ route, req, store: this.store, logger: this.logger }, socket, head);
    } catch (e) {
      const { err, expected } = statusOf(e);
      if (!expected) {
        this.logger.error('upgrade failed', { method: req.method, url: req.url, error: errorMessage(e) });
      }
      if (socket.writable) socket.end(rawStatusResponse(err));
      else socket.destroy();
    }
  }
}

/** Starts an API server (127.0.0.1, port 0 unless told otherwise). */
export async function startApiServer(opts: ApiServerOptions = {}): Promise<ApiServer> {
  const s = new ApiServer(opts);
  await s.start();
  return s;
}
