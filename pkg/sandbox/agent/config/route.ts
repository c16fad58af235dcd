/**
 * envoy.config.route.v3.RouteConfiguration → RouteConfigModel, over RDS or inline in an HTTP
 * connection manager: virtual hosts by domain, routes matching a path, prefix or safe_regex that
 * forward to a cluster (with rewrites and a timeout) or answer directly, and request header
 * mutations at every level. Every request it would have to build must be one Node can send.
 */
import type {
  AppendAction,
  HeaderMutations,
  HeaderToAdd,
  PathMatch,
  RouteConfigModel,
  RouteModel,
  VirtualHostModel,
} from '../model.js';
import { bool, boolValue, durationMs, isObj, list, obj, refuse, show, str, type Obj } from './fields.js';
import type { Problems } from './problems.js';
import type { ResourceType } from './resource-type.js';

/** Envoy's default route timeout. */
export const DEFAULT_ROUTE_TIMEOUT_MS = 15_000;

const APPEND_ACTIONS: ReadonlySet<string> = new Set([
  'APPEND_IF_EXISTS_OR_ADD',
  'ADD_IF_ABSENT',
  'OVERWRITE_IF_EXISTS_OR_ADD',
  'OVERWRITE_IF_EXISTS',
]);

/** Control characters other than tab: never valid in a header value (RFC 9110 field-value). */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const INVALID_HEADER_VALUE = /[\x00-\x08\x0a-\x1f\x7f]/;
/** What an HTTP/1 request target may not contain: whitespace and control characters. */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const INVALID_TARGET = /[\x00-\x20\x7f]/;

/** HTTP header names as an HTTP/1 server accepts them (RFC 9110 token). */
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

function parseHeaderToAdd(p: Problems, h: unknown, hp: string): HeaderToAdd | undefined {
  const hv = obj(p, h, hp);
  if (!hv) return undefined;
  const header = obj(p, hv.header, `${hp}.header`);
  if (!header) return undefined;
  const key = str(p, header.key, `${hp}.header.key`, '');
  if (!HEADER_NAME.test(key)) {
    p.add(`${hp}.header.key`, `invalid header name ${show(key)}`);
  } else if (key.startsWith(':') || key.toLowerCase() === 'host') {
    p.add(`${hp}.header.key`, `${show(key)} cannot be modified through request_headers_to_add`);
  }
  if (header.raw_value instanceof Uint8Array && header.raw_value.byteLength > 0) {
    p.add(`${hp}.header.raw_value`, 'raw_value is not supported, use value');
  }
  const value = str(p, header.value, `${hp}.header.value`, '');
  if (INVALID_HEADER_VALUE.test(value)) p.add(`${hp}.header.value`, `invalid header value ${show(value)}`);
  let action = str(p, hv.append_action, `${hp}.append_action`, 'APPEND_IF_EXISTS_OR_ADD');
  if (!APPEND_ACTIONS.has(action)) p.add(`${hp}.append_action`, `unknown action ${show(action)}`);
  // The deprecated BoolValue `append`, when set, wins (false = overwrite).
  if (isObj(hv.append)) {
    action = bool(hv.append.value, false) ? 'APPEND_IF_EXISTS_OR_ADD' : 'OVERWRITE_IF_EXISTS_OR_ADD';
  }
  return { key: key.toLowerCase(), value, action: action as AppendAction };
}

function parseHeaderMutations(p: Problems, o: Obj, path: string): HeaderMutations {
  const add: HeaderToAdd[] = [];
  list(p, o.request_headers_to_add, `${path}.request_headers_to_add`)?.forEach((h, i) => {
    const header = parseHeaderToAdd(p, h, `${path}.request_headers_to_add[${i}]`);
    if (header) add.push(header);
  });
  const remove: string[] = [];
  list(p, o.request_headers_to_remove, `${path}.request_headers_to_remove`)?.forEach((n, i) => {
    const name = str(p, n, `${path}.request_headers_to_remove[${i}]`);
    if (name !== undefined) remove.push(name.toLowerCase());
  });
  return { add, remove };
}

/** An RE2 pattern as a JavaScript regular expression (the common subset); problems name the pattern. */
function compileRegex(
  p: Problems,
  v: unknown,
  path: string,
  anchored: boolean,
): { regex: RegExp; source: string } | undefined {
  const m = obj(p, v, path);
  if (!m) return undefined;
  const source = str(p, m.regex, `${path}.regex`, '');
  if (!source) return p.add(`${path}.regex`, 'must not be empty');
  try {
    return { regex: new RegExp(anchored ? `^(?:${source})$` : source, anchored ? 'u' : 'gu'), source };
  } catch (err) {
    return p.add(`${path}.regex`, `invalid regular expression ${show(source)}: ${(err as Error).message}`);
  }
}

function parseMatch(p: Problems, v: unknown, path: string): PathMatch | undefined {
  const m = obj(p, v, path);
  if (!m) return undefined;
  refuse(
    p,
    m,
    ['headers', 'query_parameters', 'grpc', 'tls_context', 'runtime_fraction', 'dynamic_metadata'],
    path,
  );
  const caseSensitive = boolValue(m.case_sensitive, true);
  if (typeof m.path === 'string') return { kind: 'path', value: m.path, caseSensitive };
  if (typeof m.prefix === 'string') return { kind: 'prefix', value: m.prefix, caseSensitive };
  if (typeof m.path_separated_prefix === 'string') {
    // Envoy's rule: no query or fragment, and not ending in '/'.
    if (!/^[^?#]+[^?#/]$/.test(m.path_separated_prefix)) {
      return p.add(`${path}.path_separated_prefix`, `invalid prefix ${show(m.path_separated_prefix)}`);
    }
    return { kind: 'separated', value: m.path_separated_prefix, caseSensitive };
  }
  if (m.safe_regex !== undefined && m.safe_regex !== null) {
    const compiled = compileRegex(p, m.safe_regex, `${path}.safe_regex`, true);
    return compiled && { kind: 'regex', regex: compiled.regex, source: compiled.source };
  }
  const kind = Object.keys(m).find((k) => k !== 'path_specifier' && k !== 'case_sensitive') ?? 'nothing';
  return p.add(path, `only path, prefix, path_separated_prefix and safe_regex are supported, got ${kind}`);
}

function parseForward(p: Problems, a: Obj, ap: string, match: PathMatch | undefined): RouteModel['action'] {
  const otherSpecifier = refuse(
    p,
    a,
    ['cluster_header', 'weighted_clusters', 'cluster_specifier_plugin', 'inline_cluster_specifier_plugin'],
    ap,
  );
  refuse(p, a, ['host_rewrite_header', 'host_rewrite_path_regex', 'path_rewrite_policy'], ap);
  const cluster = str(p, a.cluster, `${ap}.cluster`, '');
  // A cluster named another way was already reported as such.
  if (!cluster && !otherSpecifier) p.add(`${ap}.cluster`, 'must name a cluster');
  let prefixRewrite: string | undefined;
  if (typeof a.prefix_rewrite === 'string' && a.prefix_rewrite !== '') {
    if (match?.kind === 'regex') p.add(`${ap}.prefix_rewrite`, 'cannot be used with a safe_regex match');
    if (!a.prefix_rewrite.startsWith('/') || INVALID_TARGET.test(a.prefix_rewrite)) {
      p.add(`${ap}.prefix_rewrite`, `not a valid request path ${show(a.prefix_rewrite)}`);
    }
    prefixRewrite = a.prefix_rewrite;
  }
  let regexRewrite: { regex: RegExp; substitution: string } | undefined;
  if (isObj(a.regex_rewrite)) {
    const rp = `${ap}.regex_rewrite`;
    if (prefixRewrite !== undefined) p.add(rp, 'cannot be combined with prefix_rewrite');
    const compiled = compileRegex(p, a.regex_rewrite.pattern, `${rp}.pattern`, false);
    const substitution = str(p, a.regex_rewrite.substitution, `${rp}.substitution`, '');
    if (INVALID_TARGET.test(substitution)) {
      p.add(
        `${rp}.substitution`,
        `would put whitespace or control characters in the path: ${show(substitution)}`,
      );
    }
    if (compiled) regexRewrite = { regex: compiled.regex, substitution };
  }
  const hostRewrite =
    typeof a.host_rewrite_literal === 'string' && a.host_rewrite_literal !== ''
      ? a.host_rewrite_literal
      : undefined;
  if (hostRewrite !== undefined && INVALID_TARGET.test(hostRewrite)) {
    p.add(`${ap}.host_rewrite_literal`, `invalid host ${show(hostRewrite)}`);
  }
  if (boolValue(a.auto_host_rewrite, false))
    p.add(`${ap}.auto_host_rewrite`, 'not supported by the probe agent');
  const timeoutMs = durationMs(p, a.timeout, `${ap}.timeout`, DEFAULT_ROUTE_TIMEOUT_MS);
  return { kind: 'forward', cluster, prefixRewrite, regexRewrite, hostRewrite, timeoutMs };
}

function parseRoute(p: Problems, v: unknown, path: string): RouteModel | undefined {
  const r = obj(p, v, path);
  if (!r) return undefined;
  const name = str(p, r.name, `${path}.name`, '');
  const match = parseMatch(p, r.match, `${path}.match`);
  const headers = parseHeaderMutations(p, r, path);
  let action: RouteModel['action'] | undefined;
  if (isObj(r.direct_response)) {
    const dr = r.direct_response;
    const status = Number(dr.status ?? 0);
    if (!Number.isInteger(status) || status < 200 || status > 599) {
      p.add(`${path}.direct_response.status`, `invalid status ${show(dr.status)}`);
    }
    const body = isObj(dr.body) && typeof dr.body.inline_string === 'string' ? dr.body.inline_string : '';
    action = { kind: 'direct', status, body };
  } else if (isObj(r.route)) {
    action = parseForward(p, r.route, `${path}.route`, match);
  } else {
    const kind = isObj(r.redirect) ? 'redirect' : 'no action';
    p.add(path, `only route and direct_response actions are supported, got ${kind}`);
  }
  return match && action && { name, match, action, headers };
}

function parseDomain(p: Problems, d: unknown, path: string): string | undefined {
  const dom = str(p, d, path)?.toLowerCase();
  if (dom === undefined) return undefined;
  if (dom === '') return p.add(path, 'must not be empty');
  if (dom !== '*' && dom.indexOf('*') > 0 && !dom.endsWith('*')) {
    return p.add(path, `a wildcard must be a prefix or a suffix, got ${show(dom)}`);
  }
  return dom;
}

function parseVirtualHost(p: Problems, v: unknown, path: string): VirtualHostModel | undefined {
  const vh = obj(p, v, path);
  if (!vh) return undefined;
  const name = str(p, vh.name, `${path}.name`, '');
  refuse(p, vh, ['require_tls'], path);
  const rawDomains = list(p, vh.domains, `${path}.domains`);
  const domains: string[] = [];
  rawDomains?.forEach((d, i) => {
    const dom = parseDomain(p, d, `${path}.domains[${i}]`);
    if (dom !== undefined) domains.push(dom);
  });
  if (rawDomains?.length === 0) p.add(`${path}.domains`, 'must list at least one domain');
  const routes: RouteModel[] = [];
  list(p, vh.routes, `${path}.routes`)?.forEach((r, i) => {
    const route = parseRoute(p, r, `${path}.routes[${i}]`);
    if (route) routes.push(route);
  });
  return { name, domains, routes, headers: parseHeaderMutations(p, vh, path) };
}

/** A route configuration; `where` names it in problem paths (an inline one: the HCM's field). */
export function parseRouteConfiguration(
  p: Problems,
  v: unknown,
  where = 'RouteConfiguration',
): RouteConfigModel | undefined {
  const rc = obj(p, v, where);
  if (!rc) return undefined;
  const name = str(p, rc.name, `${where}.name`, '');
  const path = name ? `${where} ${show(name)}` : where;
  refuse(p, rc, ['vhds', 'cluster_specifier_plugins'], path);
  const seen = new Map<string, string>();
  const virtualHosts: VirtualHostModel[] = [];
  list(p, rc.virtual_hosts, `${path}.virtual_hosts`)?.forEach((v, i) => {
    const vp = `${path}.virtual_hosts[${i}]`;
    const vh = parseVirtualHost(p, v, vp);
    if (!vh) return;
    virtualHosts.push(vh);
    for (const d of vh.domains) {
      const other = seen.get(d);
      if (other !== undefined)
        p.add(`${vp}.domains`, `domain ${show(d)} is already used by virtual host ${other}`);
      else seen.set(d, show(vh.name));
    }
  });
  return { name, virtualHosts, headers: parseHeaderMutations(p, rc, path) };
}

export const ROUTE_CONFIGURATION_RESOURCE: ResourceType<RouteConfigModel> = {
  kind: 'RouteConfiguration',
  parse: (message, problems) => parseRouteConfiguration(problems, message),
};
