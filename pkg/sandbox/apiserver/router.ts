/**
 * The API server's path router: method + request URL → what the request is about, as kube-apiserver's
 * RequestInfo resolver does. Pure (no I/O, no store): every 400/404/405 a path or method can earn is
 * decided here; the server only authenticates, then dispatches the route.
 *
 *   /healthz /livez /readyz                           health
 *   /version /api /apis /apis/<g> /api/v1 /apis/<g>/<v> /openapi/v3[/...]   discovery
 *   /fsm-sandbox/faults                               test controls (GET, POST)
 *   /api/<v>[/watch][/namespaces/<ns>]/<resource>[/<name>[/<subresource>[/<path>]]]
 *   /apis/<g>/<v>[/watch][/namespaces/<ns>]/<resource>[/<name>[/<subresource>[/<path>]]]
 *
 * Subresources are `status` (from the served table) and connect subresources registered by the
 * server (services/proxy; later pods/log, pods/portforward): those accept any method, may carry a
 * port in the name segment (`<name>:<port>`) and, when `subpath` is set, the rest of the path.
 */
import { resourceKey, type ResourceInfo } from './resources.js';
import { FAULTS_PATH } from './controls.js';

/** What a resource request does, as Kubernetes authorization names it; `connect` for connect subresources. */
export type Verb =
  'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete' | 'deletecollection' | 'connect';

/** A request on a served kind. */
export interface ResourceRoute {
  kind: 'resource';
  /** The HTTP method as sent. */
  method: string;
  verb: Verb;
  info: ResourceInfo;
  /** Store key: `pods`, `apps/deployments`. */
  key: string;
  group: string;
  version: string;
  resource: string;
  namespace?: string;
  name?: string;
  subresource?: string;
  /** Connect subresources only: the port of `<name>:<port>` ('' when none). */
  port?: string;
  /** Connect subresources that take a path (proxy): the raw rest of the path, always starting with '/'. */
  subpath?: string;
  query: URLSearchParams;
  /** The raw query string with its '?', or '' (forwarded as is by proxies). */
  search: string;
}

export type DiscoveryDoc =
  | { type: 'version' }
  | { type: 'api-versions' }
  | { type: 'api-groups' }
  | { type: 'api-group'; group: string }
  | { type: 'api-resources'; group: string; version: string }
  | { type: 'openapi-index' }
  | { type: 'openapi'; group: string; version: string };

/** Why a request cannot be served, answered as a Status with this code. */
export interface RouteRejection {
  kind: 'reject';
  code: 400 | 404 | 405;
  message: string;
}

export type Route =
  | { kind: 'health' }
  | { kind: 'discovery'; doc: DiscoveryDoc }
  | { kind: 'controls'; method: 'GET' | 'POST' }
  | ResourceRoute
  | RouteRejection;

/** A subresource served by a handler rather than by the store (services/proxy, pods/log, ...). */
export interface ConnectSubresource {
  /** Store key of the parent: `services`, `pods`. */
  resource: string;
  subresource: string;
  /** Whether a path may follow the subresource (`.../proxy/<path>`). */
  subpath: boolean;
}

export interface RoutingTable {
  resources: readonly ResourceInfo[];
  connect?: readonly ConnectSubresource[];
}

export const NOT_FOUND_MESSAGE = 'the server could not find the requested resource';

const HEALTH_PATHS = new Set(['/healthz', '/livez', '/readyz']);

function reject(code: RouteRejection['code'], message: string): RouteRejection {
  return { kind: 'reject', code, message };
}

const notFound = (): RouteRejection => reject(404, NOT_FOUND_MESSAGE);

function methodNotAllowed(method: string): RouteRejection {
  return reject(405, `the server does not allow this method on the requested resource: ${method}`);
}

/** Requests answered without a bearer token (as kube-apiserver's default anonymous RBAC allows). */
export function isPublic(route: Route): boolean {
  return route.kind === 'health' || (route.kind === 'discovery' && route.doc.type === 'version');
}

/** A path segment with where it starts in the (raw) path. */
interface Segment {
  raw: string;
  /** Percent-decoded; the raw text when it is not valid percent-encoding. */
  decoded: string;
  valid: boolean;
  at: number;
}

function decode(raw: string): string | undefined {
  try {
    return decodeURIComponent(raw);
  } catch {
    return undefined;
  }
}

function segments(path: string): Segment[] {
  return [...path.matchAll(/[^/]+/g)].map((m) => {
    const decoded = decode(m[0]);
    return { raw: m[0], decoded: decoded ?? m[0], valid: decoded !== undefined, at: m.index };
  });
}

function openapiRoute(path: string, table: RoutingTable): Route {
  const m = path.match(/^\/openapi\/v3\/(?:api\/(v1)|apis\/([^/]+)\/([^/]+))$/);
  if (!m) return notFound();
  const group = m[1] ? '' : m[2]!;
  const version = m[1] ?? m[3]!;
  if (!table.resources.some((r) => r.group === group && r.version === version)) return notFound();
  return { kind: 'discovery', doc: { type: 'openapi', group, version } };
}

/** Routes one request. `url` is the request target as received (`/api/v1/pods?watch=1`). */
export function routeRequest(method: string, url: string, table: RoutingTable): Route {
  let parsed: URL;
  try {
    parsed = new URL(url, 'https://apiserver');
  } catch {
    return reject(400, `the request URL is not valid: ${JSON.stringify(url)}`);
  }
  const path = parsed.pathname.replace(/\/+$/, '') || '/';
  if (HEALTH_PATHS.has(path)) return { kind: 'health' };
  switch (path) {
    case '/version':
      return { kind: 'discovery', doc: { type: 'version' } };
    case '/api':
      return { kind: 'discovery', doc: { type: 'api-versions' } };
    case '/apis':
      return { kind: 'discovery', doc: { type: 'api-groups' } };
    case '/openapi/v3':
      return { kind: 'discovery', doc: { type: 'openapi-index' } };
    case FAULTS_PATH:
      return method === 'GET' || method === 'POST'
        ? { kind: 'controls', method }
        : reject(405, `${FAULTS_PATH} accepts GET and POST`);
    default:
      break;
  }
  if (path.startsWith('/openapi/v3/')) return openapiRoute(path, table);
  const segs = segments(path);
  const route = apiRoute(method, parsed, path, segs, table);
  // Every segment must decode, except in a proxied path: that is the backend's to interpret.
  const opaqueFrom =
    route.kind === 'resource' && route.subpath ? path.length - route.subpath.length : Infinity;
  if (segs.some((s) => !s.valid && s.at < opaqueFrom)) {
    return reject(400, `the request path is not valid percent-encoding: ${JSON.stringify(path)}`);
  }
  return route;
}

/** /api/<v>/... and /apis/<g>[/<v>/...]. */
function apiRoute(method: string, url: URL, path: string, segs: Segment[], table: RoutingTable): Route {
  let group: string;
  let version: string;
  let rest: Segment[];
  if (segs[0]?.decoded === 'api' && segs.length >= 2) {
    group = '';
    version = segs[1]!.decoded;
    rest = segs.slice(2);
  } else if (segs[0]?.decoded === 'apis' && segs.length >= 2) {
    group = segs[1]!.decoded;
    if (!table.resources.some((r) => r.group === group)) return notFound();
    if (segs.length === 2) return { kind: 'discovery', doc: { type: 'api-group', group } };
    version = segs[2]!.decoded;
    rest = segs.slice(3);
  } else {
    return notFound();
  }
  if (rest.length === 0) {
    if (!table.resources.some((r) => r.group === group && r.version === version)) return notFound();
    return { kind: 'discovery', doc: { type: 'api-resources', group, version } };
  }
  return resourceRoute(method, url, path, group, version, rest, table);
}

function resourceRoute(
  method: string,
  url: URL,
  path: string,
  group: string,
  version: string,
  segsIn: Segment[],
  table: RoutingTable,
): Route {
  let segs = segsIn;
  const watchPrefix = segs[0]?.decoded === 'watch';
  if (watchPrefix) segs = segs.slice(1);
  const find = (resource: string | undefined): ResourceInfo | undefined =>
    table.resources.find((x) => x.group === group && x.version === version && x.resource === resource);
  let info: ResourceInfo | undefined;
  let namespace: string | undefined;
  let tail: Segment[];
  // namespaces/<ns>/<resource> is a namespaced kind; namespaces/<name>[/status] is the Namespace itself.
  const nsInfo = segs[0]?.decoded === 'namespaces' && segs.length >= 3 ? find(segs[2]!.decoded) : undefined;
  if (nsInfo && nsInfo.namespaced) {
    info = nsInfo;
    namespace = segs[1]!.decoded;
    tail = segs.slice(3);
  } else {
    info = find(segs[0]?.decoded);
    tail = segs.slice(1);
  }
  if (!info) return notFound();
  const key = resourceKey(info);
  const base = {
    kind: 'resource' as const,
    method,
    info,
    key,
    group,
    version,
    resource: info.resource,
    namespace,
    query: url.searchParams,
    search: url.search,
  };
  const q = url.searchParams;
  const isWatch = watchPrefix || q.get('watch') === 'true' || q.get('watch') === '1';

  if (tail.length === 0) {
    switch (method) {
      case 'GET':
        return { ...base, verb: isWatch ? 'watch' : 'list' };
      case 'POST':
        if (info.namespaced && namespace === undefined) {
          return reject(405, `POST on ${info.resource} requires a namespace in the path`);
        }
        return { ...base, verb: 'create' };
      case 'DELETE':
        return { ...base, verb: 'deletecollection' };
      default:
        return methodNotAllowed(method);
    }
  }

  const sub = tail[1]?.decoded;
  const connect =
    sub === undefined ? undefined : table.connect?.find((c) => c.resource === key && c.subresource === sub);
  if (connect) {
    if (watchPrefix || (info.namespaced && namespace === undefined)) return notFound();
    if (tail.length > 2 && !connect.subpath) return notFound();
    // `<name>:<port>`: split the raw segment so an encoded ':' stays part of the name.
    const [rawName, ...portParts] = tail[0]!.raw.split(':');
    const rawPort = portParts.join(':');
    if (!rawName || (portParts.length > 0 && !rawPort)) return notFound();
    const subSeg = tail[1]!;
    return {
      ...base,
      verb: 'connect',
      name: decode(rawName) ?? rawName,
      port: decode(rawPort) ?? rawPort,
      subresource: sub,
      ...(connect.subpath ? { subpath: path.slice(subSeg.at + subSeg.raw.length) || '/' } : {}),
    };
  }
  if (tail.length > 2) return notFound();
  if (sub !== undefined && !info.subresources.includes(sub)) return notFound();
  if (info.namespaced && namespace === undefined) return notFound();
  const named = { ...base, name: tail[0]!.decoded, ...(sub !== undefined ? { subresource: sub } : {}) };
  switch (method) {
    case 'GET':
      return { ...named, verb: isWatch ? 'watch' : 'get' };
    case 'PUT':
      return { ...named, verb: 'update' };
    case 'PATCH':
      return { ...named, verb: 'patch' };
    case 'DELETE':
      return { ...named, verb: 'delete' };
    default:
      return methodNotAllowed(method);
  }
}
