/**
 * The services/proxy subresource: GET /api/v1/namespaces/<ns>/services/<name>[:<port>]/proxy/<path>
 * is forwarded to the Service's endpoint, as kube-apiserver does. The sandbox has no Service
 * networking: a resolver maps (namespace, name, port) to the local URL of the process behind it.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { errorMessage } from '../../logger/index.js';
import { createConnectionVia, type NodeNetwork } from '../netns/index.js';
import { routeRequest, type ResourceRoute, type RoutingTable } from './router.js';
import { findResource } from './resources.js';
import { notFound, statusFor } from './status.js';
import type { SubresourceHandler } from './connect.js';

/** `http://127.0.0.1:9091` for a known service port, undefined when it has no endpoint. */
export type ServiceProxyResolver = (ref: {
  namespace: string;
  name: string;
  port: string;
}) => string | undefined;

export interface ServiceProxyTarget {
  namespace: string;
  name: string;
  port: string;
  /** Path on the backend, always starting with '/'. */
  path: string;
}

const PROXY_ROUTES: RoutingTable = {
  resources: [findResource('', 'v1', 'services')!],
  connect: [{ resource: 'services', subresource: 'proxy', subpath: true }],
};

function targetOf(route: ResourceRoute): ServiceProxyTarget {
  return {
    namespace: route.namespace!,
    name: route.name!,
    port: route.port ?? '',
    path: route.subpath ?? '/',
  };
}

/** Parses a services/proxy path; undefined when the path is something else. */
export function parseServiceProxyPath(path: string): ServiceProxyTarget | undefined {
  const route = routeRequest('GET', path, PROXY_ROUTES);
  if (route.kind !== 'resource' || route.verb !== 'connect') return undefined;
  return targetOf(route);
}

/**
 * The services/proxy connect subresource. As kube-apiserver: no Service → 404; a Service without
 * a reachable endpoint (the resolver, read per request, names none) → 503.
 */
export function serviceProxyHandler(
  resolver: () => ServiceProxyResolver | undefined,
  network: () => NodeNetwork | undefined = () => undefined,
): SubresourceHandler {
  return {
    subpath: true,
    async serve({ route, req, store }, res) {
      const target = targetOf(route);
      if (!store.get('services', target.namespace, target.name)) throw notFound('', 'services', target.name);
      const base = resolver()?.(target);
      const svc = `${target.name}${target.port ? `:${target.port}` : ''}`;
      if (!base) throw statusFor(503, `no endpoints available for service "${svc}"`);
      try {
        await forwardToService(req, res, base, target, route.search, 30_000, network());
      } catch (e) {
        if (res.headersSent) res.destroy();
        else throw statusFor(503, `error trying to reach service: ${errorMessage(e)}`);
      }
    },
  };
}

/** Forwards one request to `base` + target path + query; resolves when the response is relayed. */
export function forwardToService(
  req: IncomingMessage,
  res: ServerResponse,
  base: string,
  target: ServiceProxyTarget,
  search: string,
  timeoutMs = 30_000,
  network?: NodeNetwork,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const url = new URL(base.replace(/\/+$/, '') + target.path + search);
    const createConnection = network && createConnectionVia(network, undefined, timeoutMs);
    const out = http.request(
      url,
      {
        ...(createConnection ? { createConnection } : {}),
        method: req.method,
        headers: { accept: req.headers.accept ?? '*/*' },
        // node's client ignores createConnection when agent is false.
        agent: createConnection ? undefined : false,
        timeout: timeoutMs,
      },
      (up) => {
        const headers: Record<string, string> = {};
        const type = up.headers['content-type'];
        if (type) headers['Content-Type'] = type;
        res.writeHead(up.statusCode ?? 502, headers);
        up.pipe(res);
        up.on('end', () => resolve());
        up.on('error', reject);
      },
    );
    out.on('timeout', () => out.destroy(new Error(`no answer from ${url.host} within ${timeoutMs} ms`)));
    out.on('error', reject);
    req.pipe(out);
  });
}
