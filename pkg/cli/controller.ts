/**
 * Reading the controller's debug endpoint (GET /debug/proxies, /debug/proxies/<namespace>/<pod> on
 * its :9091): directly with --controller-url (the sandbox), or through the API server's service
 * proxy (/api/v1/namespaces/<fsm-ns>/services/fsm-controller:9091/proxy/...) in a cluster, with the
 * kubeconfig's TLS and credentials.
 */
import http from 'node:http';
import https from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';
import { CONTROLLER_HEALTH_PORT, CONTROLLER_SERVICE_NAME, DEBUG_PROXIES_PATH } from '../constants/index.js';
import { errorMessage } from '../logger/index.js';

/** Upper bound of one debug request. */
export const CONTROLLER_REQUEST_TIMEOUT_MS = 10_000;
const MAX_BODY_BYTES = 64 * 1024 * 1024;

/**
 * The controller answered with a status other than 200, or could not be reached (status undefined).
 * `apiServer`: the answer is a Kubernetes Status from the API server's service proxy (e.g. the
 * Service does not exist or has no ready endpoint), not the controller's own.
 */
export class ControllerError extends Error {
  constructor(
    message: string,
    readonly status?: number,
    readonly apiServer = false,
  ) {
    super(message);
  }
}

export interface ControllerClient {
  /** Where requests go, for messages (`http://127.0.0.1:9091`, `the API server's service proxy ...`). */
  readonly where: string;
  /** GET of a controller path (e.g. `/debug/proxies`), parsed JSON. */
  getJson(path: string): Promise<unknown>;
}

/** The debug path of one proxy. */
export function proxyDebugPath(namespace: string, pod: string): string {
  return `${DEBUG_PROXIES_PATH}/${encodeURIComponent(namespace)}/${encodeURIComponent(pod)}`;
}

/** Talks to the controller at `baseUrl` (e.g. http://127.0.0.1:9091). */
export function controllerAtUrl(
  baseUrl: string,
  timeoutMs = CONTROLLER_REQUEST_TIMEOUT_MS,
): ControllerClient {
  const base = baseUrl.replace(/\/+$/, '');
  return {
    where: base,
    getJson: (path) => request(new URL(base + path), {}, base, timeoutMs),
  };
}

/** Talks to the controller Service of `fsmNamespace` through the API server's services/proxy. */
export function controllerViaServiceProxy(
  kc: KubeConfig,
  fsmNamespace: string,
  timeoutMs = CONTROLLER_REQUEST_TIMEOUT_MS,
): ControllerClient {
  const prefix =
    `/api/v1/namespaces/${encodeURIComponent(fsmNamespace)}/services/` +
    `${CONTROLLER_SERVICE_NAME}:${CONTROLLER_HEALTH_PORT}/proxy`;
  const where = `service ${fsmNamespace}/${CONTROLLER_SERVICE_NAME}:${CONTROLLER_HEALTH_PORT} through the API server`;
  return {
    where,
    async getJson(path) {
      const cluster = kc.getCurrentCluster();
      if (!cluster) throw new ControllerError(`${where}: the kubeconfig has no current cluster`);
      const url = new URL(cluster.server.replace(/\/+$/, '') + prefix + path);
      const opts: https.RequestOptions = {};
      try {
        await kc.applyToHTTPSOptions(opts);
      } catch (e) {
        throw new ControllerError(`${where}: kubeconfig: ${errorMessage(e)}`);
      }
      // A plain-http API server (e.g. through kubectl proxy): the TLS agent does not apply.
      if (url.protocol === 'http:') delete opts.agent;
      return request(url, opts, where, timeoutMs);
    },
  };
}

export function request(
  url: URL,
  base: https.RequestOptions,
  where: string,
  timeoutMs: number,
): Promise<unknown> {
  const mod = url.protocol === 'http:' ? http : https;
  const opts: https.RequestOptions = {
    ...base,
    method: 'GET',
    headers: { ...(base.headers ?? {}), Accept: 'application/json' },
    signal: AbortSignal.timeout(timeoutMs),
  };
  const what = `GET ${url.pathname}`;
  return new Promise((resolve, reject) => {
    const req = mod.request(url, opts, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_BODY_BYTES) req.destroy(new Error(`response larger than ${MAX_BODY_BYTES} bytes`));
        else chunks.push(c);
      });
      res.on('error', (e) => reject(new ControllerError(`${where}: ${what}: ${errorMessage(e)}`)));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const status = res.statusCode ?? 0;
        if (status !== 200) {
          reject(
            new ControllerError(`${where}: ${what}: ${status} ${summary(text)}`, status, isStatus(text)),
          );
          return;
        }
        try {
          resolve(JSON.parse(text) as unknown);
        } catch {
          reject(new ControllerError(`${where}: ${what}: the answer is not JSON: ${summary(text)}`));
        }
      });
    });
    req.on('error', (e) => {
      const reason =
        e.name === 'TimeoutError' || e.name === 'AbortError'
          ? `no answer within ${timeoutMs} ms`
          : errorMessage(e);
      reject(new ControllerError(`${where}: ${what}: ${reason}`));
    });
    req.end();
  });
}

/** A Kubernetes Status object: the API server answered, not the controller. */
function isStatus(text: string): boolean {
  try {
    const v = JSON.parse(text) as { kind?: unknown; apiVersion?: unknown };
    return v.kind === 'Status' && v.apiVersion === 'v1';
  } catch {
    return false;
  }
}

/** The interesting part of an error body: a Kubernetes Status message, or the text's start. */
function summary(text: string): string {
  try {
    const v = JSON.parse(text) as { message?: unknown; error?: unknown };
    if (typeof v.message === 'string') return v.message;
    if (typeof v.error === 'string') return v.error;
  } catch {
    // plain text
  }
  const t = text.trim().replace(/\s+/g, ' ');
  return t === '' ? '(empty body)' : t.length > 200 ? `${t.slice(0, 197)}...` : t;
}

/**
 * The Envoy listener names in a proxy's debug config. The controller's JSON carries the resources
 * as `resources.listeners` (the DesiredProxy shape of pkg/catalog) or `listeners`; each listener is
 * an object with `name`. Undefined when neither is there.
 */
export function listenerNames(config: unknown): string[] | undefined {
  if (typeof config !== 'object' || config === null) return undefined;
  const c = config as { resources?: { listeners?: unknown }; listeners?: unknown };
  const list = Array.isArray(c.resources?.listeners)
    ? c.resources.listeners
    : Array.isArray(c.listeners)
      ? c.listeners
      : undefined;
  if (list === undefined) return undefined;
  return list
    .map((l: unknown) => (typeof l === 'object' && l !== null ? (l as { name?: unknown }).name : undefined))
    .filter((n): n is string => typeof n === 'string');
}
