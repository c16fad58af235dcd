/**
 * The services/proxy subresource: GET /api/v1/namespaces/<ns>/services/<name>[:<port>]/proxy/<path>
 * is forwarded to the Service's endpoint, as kube-apiserver does. The sandbox has no Service
 * networking: a resolver maps (namespace, name, port) to the local URL of the process behind it.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';

/** `http://127.0.0.1:9091` for a known service port, undefined when it has no endpoint. */
export type ServiceProxyResolver = (ref: {
  namespace: string;
  name: string;
  port: string;
}) => string | undefined;

const SERVICE_PROXY = /^\/api\/v1\/namespaces\/([^/]+)\/services\/([^/:]+)(?::([^/]+))?\/proxy(\/.*)?$/;

export interface ServiceProxyTarget {
  namespace: string;
  name: string;
  port: string;
  /** Path on the backend, always starting with '/'. */
  path: string;
}

/** Parses a services/proxy path; undefined when the path is something else. */
export function parseServiceProxyPath(path: string): ServiceProxyTarget | undefined {
  const m = SERVICE_PROXY.exec(path);
  if (!m) return undefined;
  return {
    namespace: decodeURIComponent(m[1]!),
    name: decodeURIComponent(m[2]!),
    port: decodeURIComponent(m[3] ?? ''),
    path: m[4] ?? '/',
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
): Promise<void> {
  return new Promise((resolve, reject) => {
    const url = new URL(base.replace(/\/+$/, '') + target.path + search);
    const out = http.request(
      url,
      {
        method: req.method,
        headers: { accept: req.headers.accept ?? '*/*' },
        agent: false,
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
