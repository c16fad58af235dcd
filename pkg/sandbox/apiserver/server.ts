/**
 * The sandbox's wire-faithful Kubernetes API server: HTTPS with a generated CA and a bearer token,
 * discovery, list (limit/continue) and watch (resume, BOOKMARK, 410, timeoutSeconds), label and field
 * selectors, get/create/update/delete/deletecollection, the three patch types, the status
 * subresource, server-side Table printing for kubectl, optional admission, and fault injection.
 */
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import YAML from 'yaml';
import { createCA, type CertificateAuthority } from '../../tls/index.js';
import { silentLogger, errorMessage, type Logger } from '../../logger/index.js';
import {
  RESOURCES,
  apiResourceList,
  apiVersionOf,
  findResource,
  groups,
  resourceKey,
  type ResourceInfo,
} from './resources.js';
import { Store, type KubeObject } from './store.js';
import type { Faults, FaultVerb } from './faults.js';
import { Controls, FAULTS_PATH } from './controls.js';
import {
  StatusError,
  alreadyExists,
  badRequest,
  conflict,
  internalError,
  methodNotSupported,
  notFound,
  statusFor,
  unauthorized,
  unsupportedMediaType,
} from './status.js';
import {
  SelectorError,
  matchesFields,
  matchesLabels,
  parseFieldSelector,
  parseLabelSelector,
} from './selectors.js';
import { PatchError, applyPatch, strategicMergePatch } from './patch.js';
import {
  applyDefaults,
  assertValid,
  carryMetadata,
  initMetadata,
  isObj,
  kubeTime,
  randomSuffix,
  sameObject,
} from './objects.js';
import { WatchConnection } from './watch.js';
import { listJson } from './encode.js';
import { PROTOBUF_CONTENT_TYPE, decodeKubeProtobuf } from './protobuf.js';
import { tableVersion, toTable, wantsTable, type IncludeObject } from './table.js';
import { kubeconfigYaml, writeKubeconfig } from './kubeconfig.js';
import { openapiV3Document, openapiV3Index } from './openapi.js';
import { forwardToService, parseServiceProxyPath, type ServiceProxyResolver } from './service-proxy.js';
import { webhookAdmission, type AdmissionHook, type WebhookAdmissionOptions } from './admission.js';

type O = Record<string, unknown>;

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
}

const MAX_BODY_BYTES = 16 * 1024 * 1024;

/** Namespaces and ServiceAccounts are always served: the server creates them itself. */
function withBuiltIns(resources: readonly ResourceInfo[]): readonly ResourceInfo[] {
  const builtIns = RESOURCES.filter(
    (r) => r.group === '' && ['namespaces', 'serviceaccounts'].includes(r.resource),
  );
  return [...builtIns.filter((b) => !resources.includes(b)), ...resources];
}

interface Route {
  info: ResourceInfo;
  key: string;
  namespace?: string;
  name?: string;
  subresource?: string;
  watchPrefix: boolean;
}

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
  private admission?: AdmissionHook;
  private serviceProxy?: ServiceProxyResolver;
  private address?: AddressInfo;

  constructor(private readonly opts: ApiServerOptions = {}) {
    this.store = new Store({ maxHistory: opts.maxHistory });
    this.controls = new Controls(this.store);
    this.faults = this.controls.faults;
    this.token = opts.token ?? randomBytes(24).toString('hex');
    this.resources = opts.resources ? withBuiltIns(opts.resources) : RESOURCES;
    this.logger = (opts.logger ?? silentLogger()).child({ component: 'apiserver' });
    const now = Date.now();
    for (const ns of opts.initialNamespaces ?? ['default', 'kube-system', 'kube-public', 'kube-node-lease']) {
      const info = findResource('', 'v1', 'namespaces')!;
      const obj: O = { metadata: { name: ns } };
      initMetadata(info, obj, now);
      applyDefaults(info, obj);
      this.store.put('namespaces', obj as KubeObject);
      this.createDefaultServiceAccount(ns, now);
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
      ipAddresses: [host === 'localhost' ? '127.0.0.1' : host],
    });
    const server = https.createServer({ key: serving.keyPem, cert: serving.certPem }, (req, res) => {
      void this.handle(req, res);
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
    this.setAdmission(webhookAdmission({ store: this.store, logger: this.logger, ...opts }));
  }

  /** Serves services/<name>[:<port>]/proxy/... by forwarding to what the resolver names. */
  setServiceProxy(resolver: ServiceProxyResolver | undefined): void {
    this.serviceProxy = resolver;
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

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = Date.now();
    try {
      const url = new URL(req.url ?? '/', 'https://apiserver');
      const path = url.pathname.replace(/\/+$/, '') || '/';
      if (!this.publicPath(path) && !this.authorized(req)) throw unauthorized();
      await this.route(req, res, url, path);
    } catch (e) {
      const err =
        e instanceof StatusError
          ? e
          : e instanceof SelectorError || e instanceof PatchError
            ? badRequest(e.message)
            : internalError(errorMessage(e));
      if (!(e instanceof StatusError) && !(e instanceof SelectorError) && !(e instanceof PatchError)) {
        this.logger.error('request failed', { method: req.method, url: req.url, error: errorMessage(e) });
      }
      if (!res.headersSent) this.send(res, err.code, err.status);
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

  private publicPath(path: string): boolean {
    return path === '/healthz' || path === '/livez' || path === '/readyz' || path === '/version';
  }

  private authorized(req: IncomingMessage): boolean {
    const h = req.headers['authorization'];
    return typeof h === 'string' && h === `Bearer ${this.token}`;
  }

  private send(
    res: ServerResponse,
    code: number,
    body: unknown,
    headers: Record<string, string | string[]> = {},
  ): void {
    this.sendText(res, code, JSON.stringify(body), headers);
  }

  private sendText(
    res: ServerResponse,
    code: number,
    text: string,
    headers: Record<string, string | string[]> = {},
  ): void {
    res.writeHead(code, {
      'Content-Type': 'application/json',
      'Content-Length': Buffer.byteLength(text),
      'Cache-Control': 'no-cache, private',
      ...headers,
    });
    res.end(text);
  }

  private async readRaw(req: IncomingMessage): Promise<Buffer> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > MAX_BODY_BYTES) throw statusFor(413, 'the request body is too large');
      chunks.push(chunk as Buffer);
    }
    return Buffer.concat(chunks);
  }

  private async readBody(req: IncomingMessage, yaml = false): Promise<unknown> {
    const text = (await this.readRaw(req)).toString('utf8');
    if (text.trim() === '') return undefined;
    try {
      return yaml ? (YAML.parse(text) as unknown) : (JSON.parse(text) as unknown);
    } catch (e) {
      throw badRequest(`the body of the request could not be decoded: json parse error: ${errorMessage(e)}`);
    }
  }

  private async route(req: IncomingMessage, res: ServerResponse, url: URL, path: string): Promise<void> {
    const method = req.method ?? 'GET';
    switch (path) {
      case '/healthz':
      case '/livez':
      case '/readyz':
        res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
        res.end('ok');
        return;
      case '/version':
        this.send(res, 200, this.versionInfo());
        return;
      case '/api':
        this.send(res, 200, {
          kind: 'APIVersions',
          versions: ['v1'],
          serverAddressByClientCIDRs: [
            { clientCIDR: '0.0.0.0/0', serverAddress: `${this.address!.address}:${this.address!.port}` },
          ],
        });
        return;
      case '/apis':
        this.send(res, 200, {
          kind: 'APIGroupList',
          apiVersion: 'v1',
          groups: groups(this.resources).map((g) => this.apiGroup(g.name, g.versions)),
        });
        return;
      case FAULTS_PATH:
        await this.faultsEndpoint(req, res, method);
        return;
      case '/openapi/v3':
        this.send(res, 200, openapiV3Index(this.resources));
        return;
      default:
        break;
    }
    const proxied = parseServiceProxyPath(path);
    if (proxied) {
      // As kube-apiserver: no Service → 404; a Service without a reachable endpoint → 503.
      if (!this.store.get('services', proxied.namespace, proxied.name))
        throw notFound('', 'services', proxied.name);
      const base = this.serviceProxy?.(proxied);
      const svc = `${proxied.name}${proxied.port ? `:${proxied.port}` : ''}`;
      if (!base) throw statusFor(503, `no endpoints available for service "${svc}"`);
      try {
        await forwardToService(req, res, base, proxied, url.search);
      } catch (e) {
        if (res.headersSent) res.destroy();
        else throw statusFor(503, `error trying to reach service: ${errorMessage(e)}`);
      }
      return;
    }
    if (path.startsWith('/openapi/v3/')) {
      const m = path.match(/^\/openapi\/v3\/(?:api\/(v1)|apis\/([^/]+)\/([^/]+))$/);
      const doc = m
        ? m[1]
          ? openapiV3Document('', m[1], this.resources)
          : openapiV3Document(m[2]!, m[3]!, this.resources)
        : undefined;
      if (!doc) throw statusFor(404, 'the server could not find the requested resource');
      this.send(res, 200, doc);
      return;
    }
    let segs: string[];
    try {
      segs = path.split('/').filter(Boolean).map(decodeURIComponent);
    } catch {
      throw badRequest(`the request path is not valid percent-encoding: ${JSON.stringify(path)}`);
    }
    let group: string;
    let version: string;
    let rest: string[];
    if (segs[0] === 'api' && segs.length >= 2) {
      group = '';
      version = segs[1]!;
      rest = segs.slice(2);
    } else if (segs[0] === 'apis' && segs.length >= 2) {
      group = segs[1]!;
      const g = groups(this.resources).find((x) => x.name === group);
      if (!g) throw statusFor(404, 'the server could not find the requested resource');
      if (segs.length === 2) {
        this.send(res, 200, { ...this.apiGroup(g.name, g.versions), kind: 'APIGroup', apiVersion: 'v1' });
        return;
      }
      version = segs[2]!;
      rest = segs.slice(3);
    } else {
      throw statusFor(404, 'the server could not find the requested resource');
    }
    if (rest.length === 0) {
      const list = apiResourceList(group, version, this.resources);
      if (!list) throw statusFor(404, 'the server could not find the requested resource');
      this.send(res, 200, list);
      return;
    }
    const route = this.parseRoute(group, version, rest);
    await this.dispatch(req, res, url, method, route);
  }

  private apiGroup(name: string, versions: string[]): O {
    const gvs = versions.map((v) => ({ groupVersion: `${name}/${v}`, version: v }));
    return { name, versions: gvs, preferredVersion: gvs[0] };
  }

  private versionInfo(): O {
    const v = this.opts.version ?? { major: '1', minor: '32' };
    return {
      major: v.major,
      minor: v.minor,
      gitVersion: `v${v.major}.${v.minor}.0`,
      gitCommit: '0000000000000000000000000000000000000000',
      gitTreeState: 'clean',
      buildDate: '2026-01-01T00:00:00Z',
      goVersion: 'go1.23.0',
      compiler: 'gc',
      platform: 'linux/amd64',
    };
  }

  private parseRoute(group: string, version: string, segsIn: string[]): Route {
    let segs = segsIn;
    let watchPrefix = false;
    if (segs[0] === 'watch') {
      watchPrefix = true;
      segs = segs.slice(1);
    }
    const nf = (): StatusError => statusFor(404, 'the server could not find the requested resource');
    let info: ResourceInfo | undefined;
    let namespace: string | undefined;
    let tail: string[];
    const nsInfo =
      segs[0] === 'namespaces' && segs.length >= 3
        ? findResource(group, version, segs[2]!, this.resources)
        : undefined;
    if (nsInfo && nsInfo.namespaced) {
      info = nsInfo;
      namespace = segs[1];
      tail = segs.slice(3);
    } else {
      info = findResource(group, version, segs[0]!, this.resources);
      tail = segs.slice(1);
    }
    if (!info) throw nf();
    if (tail.length > 2) throw nf();
    const [name, subresource] = tail;
    if (subresource !== undefined && !info.subresources.includes(subresource)) throw nf();
    return { info, key: resourceKey(info), namespace, name, subresource, watchPrefix };
  }

  private async dispatch(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    method: string,
    r: Route,
  ): Promise<void> {
    const q = url.searchParams;
    const isWatch = r.watchPrefix || q.get('watch') === 'true' || q.get('watch') === '1';
    if (r.name === undefined) {
      switch (method) {
        case 'GET':
          if (isWatch) return this.watch(req, res, r, q);
          return this.list(req, res, r, q);
        case 'POST':
          if (r.info.namespaced && r.namespace === undefined) {
            throw methodNotSupported(`POST on ${r.info.resource} requires a namespace in the path`);
          }
          return this.create(req, res, r, q);
        case 'DELETE':
          return this.deleteCollection(res, r, q);
        default:
          throw methodNotSupported(
            `the server does not allow this method on the requested resource: ${method}`,
          );
      }
    }
    if (r.info.namespaced && r.namespace === undefined) {
      throw statusFor(404, 'the server could not find the requested resource');
    }
    switch (method) {
      case 'GET':
        if (isWatch) {
          q.set(
            'fieldSelector',
            [q.get('fieldSelector'), `metadata.name=${r.name}`].filter(Boolean).join(','),
          );
          return this.watch(req, res, { ...r, name: undefined }, q);
        }
        this.fault('get', r);
        this.send(res, 200, this.mustGet(r));
        return;
      case 'PUT':
        return this.update(req, res, r, q);
      case 'PATCH':
        return this.patch(req, res, r, q);
      case 'DELETE':
        return this.delete(req, res, r, q);
      default:
        throw methodNotSupported(
          `the server does not allow this method on the requested resource: ${method}`,
        );
    }
  }

  private fault(verb: FaultVerb, r: Route): void {
    this.controls.check(verb, r.key);
  }

  private mustGet(r: Route): KubeObject {
    const o = this.store.get(r.key, r.namespace, r.name!);
    if (!o) throw notFound(r.info.group, r.info.resource, r.name!);
    return o;
  }

  private filterFor(q: URLSearchParams): (o: KubeObject) => boolean {
    const ls = q.get('labelSelector');
    const fs = q.get('fieldSelector');
    const labelReqs = ls ? parseLabelSelector(ls) : [];
    const fieldReqs = fs ? parseFieldSelector(fs) : [];
    if (labelReqs.length === 0 && fieldReqs.length === 0) return () => true;
    return (o) =>
      matchesLabels(labelReqs, o.metadata['labels'] as Record<string, string> | undefined) &&
      matchesFields(fieldReqs, o);
  }

  private tableOptions(
    req: IncomingMessage,
    q: URLSearchParams,
  ): { include: IncludeObject; version: string } | undefined {
    const accept = req.headers['accept'];
    if (!wantsTable(accept)) return undefined;
    const inc = q.get('includeObject');
    const include: IncludeObject = inc === 'None' || inc === 'Object' ? inc : 'Metadata';
    return { include, version: tableVersion(accept!) };
  }

  private list(req: IncomingMessage, res: ServerResponse, r: Route, q: URLSearchParams): void {
    this.fault('list', r);
    const filter = this.filterFor(q);
    const limitParam = q.get('limit');
    const limit = limitParam ? Number.parseInt(limitParam, 10) : 0;
    if (limitParam && (!Number.isFinite(limit) || limit < 0))
      throw badRequest(`invalid limit: "${limitParam}"`);
    let after: string | undefined;
    let listRv = this.store.resourceVersion;
    const cont = q.get('continue');
    if (cont) {
      let token: { rv?: number; start?: string };
      try {
        token = JSON.parse(Buffer.from(cont, 'base64url').toString('utf8')) as {
          rv?: number;
          start?: string;
        };
      } catch {
        throw badRequest(`continue key is not valid: "${cont}"`);
      }
      if (typeof token.rv !== 'number' || typeof token.start !== 'string') {
        throw badRequest(`continue key is not valid: "${cont}"`);
      }
      if (token.rv < this.store.oldestResumable(r.key)) {
        throw statusFor(
          410,
          'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.',
        );
      }
      after = token.start;
      listRv = token.rv;
    }
    const page = this.store.scan(r.key, { namespace: r.namespace, after, limit, filter });
    const meta: O = { resourceVersion: String(listRv) };
    if (page.next !== undefined) {
      meta['continue'] = Buffer.from(JSON.stringify({ rv: listRv, start: page.next })).toString('base64url');
      meta['remainingItemCount'] = page.remaining;
    }
    const table = this.tableOptions(req, q);
    if (table) {
      this.send(
        res,
        200,
        toTable(r.info, page.items, {
          now: Date.now(),
          include: table.include,
          resourceVersion: String(listRv),
          continue: meta['continue'] as string | undefined,
        }),
      );
      return;
    }
    // Items of a list carry no kind/apiVersion on the wire.
    this.sendText(res, 200, listJson(`${r.info.kind}List`, apiVersionOf(r.info), meta, page.items));
  }

  private watch(req: IncomingMessage, res: ServerResponse, r: Route, q: URLSearchParams): void {
    this.fault('watch', r);
    const matches = this.filterFor(q);
    const rvParam = q.get('resourceVersion') ?? '';
    let fromRv: number | undefined;
    if (rvParam !== '' && rvParam !== '0') {
      fromRv = Number(rvParam);
      if (!Number.isInteger(fromRv) || fromRv < 0) throw badRequest(`invalid resource version: ${rvParam}`);
    }
    const ts = q.get('timeoutSeconds');
    let timeoutMs = (this.opts.defaultWatchTimeoutSeconds ?? 1800) * 1000;
    if (ts) {
      const n = Number(ts);
      if (!Number.isFinite(n) || n < 0) throw badRequest(`invalid timeoutSeconds: "${ts}"`);
      if (n > 0) timeoutMs = n * 1000;
    }
    const w = new WatchConnection(
      {
        info: r.info,
        resourceKey: r.key,
        filter: { namespace: r.namespace, matches },
        fromRv,
        bookmarks: q.get('allowWatchBookmarks') === 'true',
        bookmarkIntervalMs: this.opts.bookmarkIntervalMs ?? 10_000,
        timeoutMs,
        sendInitialEvents: q.get('sendInitialEvents') === 'true',
        table: this.tableOptions(req, q),
      },
      this.store,
      res,
      (c) => this.controls.untrack(c),
    );
    this.controls.track(w);
    w.start();
  }

  private async decodeObject(req: IncomingMessage, r: Route): Promise<O> {
    const ct = String(req.headers['content-type'] ?? 'application/json')
      .split(';')[0]!
      .trim();
    let body: unknown;
    if (ct === PROTOBUF_CONTENT_TYPE) {
      // kubectl's typed create commands (namespace, configmap, secret, serviceaccount) send protobuf.
      body = decodeKubeProtobuf(await this.readRaw(req));
    } else if (ct !== 'application/json' && ct !== '') {
      throw unsupportedMediaType(
        `${ct} (the sandbox API server accepts JSON: use kubectl apply -f / create -f)`,
      );
    } else body = await this.readBody(req);
    if (!isObj(body)) throw badRequest('the body of the request must be a JSON object');
    if (body['kind'] !== undefined && body['kind'] !== r.info.kind) {
      throw badRequest(
        `the API version in the data (${String(body['apiVersion'])}) / kind (${String(body['kind'])}) does not match the request (${apiVersionOf(r.info)}, ${r.info.kind})`,
      );
    }
    if (body['apiVersion'] !== undefined && body['apiVersion'] !== apiVersionOf(r.info)) {
      throw badRequest(
        `the API version in the data (${String(body['apiVersion'])}) does not match the expected API version (${apiVersionOf(r.info)})`,
      );
    }
    if (body['metadata'] !== undefined && !isObj(body['metadata']))
      throw badRequest('metadata must be an object');
    return structuredClone(body);
  }

  private checkNamespace(r: Route, obj: O): void {
    const md = obj['metadata'] as O;
    if (!r.info.namespaced) {
      delete md['namespace'];
      return;
    }
    const ns = md['namespace'];
    if (ns !== undefined && ns !== '' && ns !== r.namespace) {
      throw badRequest(
        'the namespace of the provided object does not match the namespace sent on the request',
      );
    }
    md['namespace'] = r.namespace;
  }

  private requireNamespace(namespace: string | undefined): void {
    if (namespace !== undefined && !this.store.get('namespaces', undefined, namespace)) {
      throw notFound('', 'namespaces', namespace);
    }
  }

  private warningHeaders(warnings: string[] | undefined): Record<string, string[]> {
    if (!warnings || warnings.length === 0) return {};
    return { Warning: warnings.map((w) => `299 - ${JSON.stringify(w.replace(/[\r\n]+/g, ' '))}`) };
  }

  private async create(
    req: IncomingMessage,
    res: ServerResponse,
    r: Route,
    q: URLSearchParams,
  ): Promise<void> {
    this.fault('create', r);
    const obj = await this.decodeObject(req, r);
    const dryRun = q.getAll('dryRun').includes('All');
    const { stored, warnings } = await this.createIn(r, obj, dryRun, true);
    this.send(res, 201, stored, this.warningHeaders(warnings));
  }

  /**
   * Creates an object in-process with the same naming, defaulting, validation and (unless
   * skipAdmission) admission as a POST: for seeding benchmarks and demos without HTTP.
   * `resource` is a plural (`pods`) or a store key (`apps/deployments`); the namespace comes from
   * metadata.namespace. Throws StatusError as the HTTP API would answer.
   */
  async createObject(
    resource: string,
    obj: Record<string, unknown>,
    opts: { skipAdmission?: boolean } = {},
  ): Promise<KubeObject> {
    const info = this.resources.find((x) => resourceKey(x) === resource || x.resource === resource);
    if (!info) throw notFound('', 'resources', resource);
    const copy = structuredClone(obj);
    if (copy['metadata'] !== undefined && !isObj(copy['metadata']))
      throw badRequest('metadata must be an object');
    const md = (copy['metadata'] ??= {}) as O;
    const ns = typeof md['namespace'] === 'string' && md['namespace'] ? md['namespace'] : undefined;
    if (info.namespaced && !ns) throw badRequest(`${info.resource}: metadata.namespace is required`);
    const r: Route = {
      info,
      key: resourceKey(info),
      namespace: info.namespaced ? ns : undefined,
      watchPrefix: false,
    };
    return (await this.createIn(r, copy, false, !opts.skipAdmission)).stored;
  }

  private async createIn(
    r: Route,
    obj: O,
    dryRun: boolean,
    admit: boolean,
  ): Promise<{ stored: KubeObject; warnings?: string[] }> {
    const md = (obj['metadata'] ??= {}) as O;
    if (typeof md['name'] !== 'string' || md['name'] === '') {
      if (typeof md['generateName'] === 'string' && md['generateName'] !== '') {
        md['name'] = `${md['generateName']}${randomSuffix()}`;
      } else {
        throw statusFor(
          422,
          `${r.info.kind} "" is invalid: metadata.name: Required value: name or generateName is required`,
        );
      }
    }
    this.checkNamespace(r, obj);
    this.requireNamespace(r.namespace);
    const name = String(md['name']);
    if (this.store.get(r.key, r.namespace, name)) throw alreadyExists(r.info.group, r.info.resource, name);
    const now = Date.now();
    initMetadata(r.info, obj, now);
    applyDefaults(r.info, obj);
    let stored = obj as KubeObject;
    let warnings: string[] | undefined;
    if (this.admission && admit) {
      const out = await this.admission({
        info: r.info,
        operation: 'CREATE',
        namespace: r.namespace,
        name,
        object: stored,
        dryRun,
        store: this.store,
      });
      stored = out.object;
      warnings = out.warnings;
      // Mutations may not change identity.
      stored.metadata.name = name;
      if (r.info.namespaced) stored.metadata.namespace = r.namespace;
      applyDefaults(r.info, stored);
    }
    assertValid(r.info, stored);
    // Re-check after the (async) admission call.
    if (this.store.get(r.key, r.namespace, name)) throw alreadyExists(r.info.group, r.info.resource, name);
    if (!dryRun) {
      stored = this.store.put(r.key, stored);
      if (r.key === 'namespaces') this.createDefaultServiceAccount(name, now);
    }
    return { stored, warnings };
  }

  private createDefaultServiceAccount(namespace: string, now: number): void {
    const info = findResource('', 'v1', 'serviceaccounts')!;
    if (this.store.get('serviceaccounts', namespace, 'default')) return;
    const sa: O = { metadata: { name: 'default', namespace } };
    initMetadata(info, sa, now);
    this.store.put('serviceaccounts', sa as KubeObject);
  }

  /** Shared tail of update and patch: server-owned fields, subresource rules, validation, no-op detection. */
  private async write(
    res: ServerResponse,
    r: Route,
    prev: KubeObject,
    next: O,
    q: URLSearchParams,
    checkRv: boolean,
  ): Promise<void> {
    const md = (next['metadata'] ??= {}) as O;
    if (!isObj(md)) throw badRequest('metadata must be an object');
    if (md['name'] !== undefined && md['name'] !== r.name) {
      throw badRequest(
        `the name of the object (${String(md['name'])}) does not match the name on the URL (${r.name})`,
      );
    }
    md['name'] = r.name;
    if (r.info.namespaced) {
      const ns = md['namespace'];
      if (ns !== undefined && ns !== '' && ns !== r.namespace) {
        throw badRequest(
          'the namespace of the provided object does not match the namespace sent on the request',
        );
      }
    }
    const rv = md['resourceVersion'];
    if (checkRv && rv !== undefined && rv !== '' && String(rv) !== prev.metadata.resourceVersion) {
      throw conflict(r.info.group, r.info.resource, r.name!);
    }
    let obj: O;
    if (r.subresource === 'status') {
      // Only status changes through the status subresource.
      obj = { ...structuredClone(prev), status: next['status'] };
    } else if (r.info.subresources.includes('status')) {
      // The main resource ignores status changes.
      obj = { ...next, status: structuredClone(prev['status']) };
      if (prev['status'] === undefined) delete obj['status'];
    } else obj = next;
    carryMetadata(r.info, obj, prev);
    if (r.info.kind === 'Namespace') applyDefaults(r.info, obj);
    if (r.info.kind === 'Secret') applyDefaults(r.info, obj);
    assertValid(r.info, obj);
    const dryRun = q.getAll('dryRun').includes('All');
    (obj['metadata'] as O)['resourceVersion'] = prev.metadata.resourceVersion;
    if (sameObject(obj, prev)) {
      this.send(res, 200, prev);
      return;
    }
    const stored = dryRun ? (obj as KubeObject) : this.store.put(r.key, obj as KubeObject);
    this.send(res, 200, stored);
  }

  private async update(
    req: IncomingMessage,
    res: ServerResponse,
    r: Route,
    q: URLSearchParams,
  ): Promise<void> {
    this.fault('update', r);
    const next = await this.decodeObject(req, r);
    const prev = this.mustGet(r);
    await this.write(res, r, prev, next, q, true);
  }

  private async patch(
    req: IncomingMessage,
    res: ServerResponse,
    r: Route,
    q: URLSearchParams,
  ): Promise<void> {
    this.fault('patch', r);
    const ct = String(req.headers['content-type'] ?? '');
    if (ct.startsWith('application/apply-patch')) {
      await this.serverSideApply(req, res, r, q);
      return;
    }
    const body = await this.readBody(req);
    const prev = this.mustGet(r);
    const patched = applyPatch(ct, structuredClone(prev), body);
    if (!isObj(patched)) throw badRequest('the patched object is not a JSON object');
    const pmd = patched['metadata'];
    if (pmd !== undefined && !isObj(pmd)) throw badRequest('metadata must be an object');
    // A patch that sets metadata.resourceVersion is a precondition on it.
    await this.write(res, r, prev, patched, q, true);
  }

  /**
   * Server-side apply, simplified: the applied configuration (YAML or JSON) creates the object when
   * absent, else is strategic-merged onto it. There is no field ownership (no managedFields, no
   * conflicts between managers) and fields dropped from the applied configuration are not pruned.
   */
  private async serverSideApply(
    req: IncomingMessage,
    res: ServerResponse,
    r: Route,
    q: URLSearchParams,
  ): Promise<void> {
    if (!q.get('fieldManager')) {
      throw badRequest('PATCH, application/apply-patch+yaml: fieldManager is required for apply requests');
    }
    const body = await this.readBody(req, true);
    if (!isObj(body)) throw badRequest('the applied configuration must be an object');
    if (body['kind'] !== r.info.kind || body['apiVersion'] !== apiVersionOf(r.info)) {
      throw badRequest(
        `the applied configuration must have apiVersion ${apiVersionOf(r.info)} and kind ${r.info.kind}; got ${String(body['apiVersion'])} ${String(body['kind'])}`,
      );
    }
    const md = isObj(body['metadata']) ? body['metadata'] : {};
    if (md['name'] !== undefined && md['name'] !== r.name) {
      throw badRequest(
        `the name of the object (${String(md['name'])}) does not match the name on the URL (${r.name})`,
      );
    }
    const prev = this.store.get(r.key, r.namespace, r.name!);
    if (!prev) {
      const obj = structuredClone(body);
      obj['metadata'] = { ...md, name: r.name };
      const { stored, warnings } = await this.createIn(r, obj, q.getAll('dryRun').includes('All'), true);
      this.send(res, 201, stored, this.warningHeaders(warnings));
      return;
    }
    const patched = strategicMergePatch(structuredClone(prev), body);
    if (!isObj(patched)) throw badRequest('the patched object is not a JSON object');
    await this.write(res, r, prev, patched, q, true);
  }

  private async delete(
    req: IncomingMessage,
    res: ServerResponse,
    r: Route,
    q: URLSearchParams,
  ): Promise<void> {
    this.fault('delete', r);
    const body = await this.readBody(req);
    const prev = this.mustGet(r);
    if (isObj(body) && isObj(body['preconditions'])) {
      const pre = body['preconditions'];
      if (pre['uid'] !== undefined && pre['uid'] !== prev.metadata['uid']) {
        throw statusFor(
          409,
          `Precondition failed: UID in precondition: ${String(pre['uid'])}, UID in object meta: ${String(prev.metadata['uid'])}`,
        );
      }
      if (pre['resourceVersion'] !== undefined && pre['resourceVersion'] !== prev.metadata.resourceVersion) {
        throw conflict(r.info.group, r.info.resource, r.name!);
      }
    }
    if (q.getAll('dryRun').includes('All')) {
      this.send(res, 200, prev);
      return;
    }
    const deleted = this.deleteObject(r.info, r.namespace, r.name!);
    this.send(res, 200, deleted ?? prev);
  }

  /** Deletes one object; a namespace takes its contents with it. */
  deleteObject(info: ResourceInfo, namespace: string | undefined, name: string): KubeObject | undefined {
    const key = resourceKey(info);
    if (key === 'namespaces') {
      for (const other of this.resources) {
        if (!other.namespaced) continue;
        for (const o of this.store.list(resourceKey(other), name)) {
          this.store.delete(resourceKey(other), name, o.metadata.name);
        }
      }
    }
    // A deleted pod's last state carries its deletion timestamp (kubectl shows it as Terminating).
    const finalize =
      info.kind === 'Pod'
        ? (o: KubeObject): KubeObject =>
            ({
              ...o,
              metadata: {
                ...o.metadata,
                deletionTimestamp: kubeTime(Date.now()),
                deletionGracePeriodSeconds: 0,
              },
            }) as KubeObject
        : undefined;
    return this.store.delete(key, namespace, name, finalize);
  }

  private deleteCollection(res: ServerResponse, r: Route, q: URLSearchParams): void {
    this.fault('delete', r);
    const filter = this.filterFor(q);
    const victims = this.store.list(r.key, r.namespace).filter(filter);
    const items = victims.map((o) => this.deleteObject(r.info, o.metadata.namespace, o.metadata.name) ?? o);
    this.send(res, 200, {
      kind: `${r.info.kind}List`,
      apiVersion: apiVersionOf(r.info),
      metadata: { resourceVersion: String(this.store.resourceVersion) },
      items,
    });
  }

  private async faultsEndpoint(req: IncomingMessage, res: ServerResponse, method: string): Promise<void> {
    if (method === 'GET') {
      this.send(res, 200, this.controls.state());
      return;
    }
    if (method !== 'POST') throw methodNotSupported(`${FAULTS_PATH} accepts GET and POST`);
    this.send(res, 200, this.controls.act(await this.readBody(req)));
  }
}

/** Starts an API server (127.0.0.1, port 0 unless told otherwise). */
export async function startApiServer(opts: ApiServerOptions = {}): Promise<ApiServer> {
  const s = new ApiServer(opts);
  await s.start();
  return s;
}
