/**
 * Envoy's HTTP routing rules as the probe agent applies them. Pure functions, table-tested:
 * virtual host selection by Host header, route matching on the path (query string ignored),
 * path rewrites (prefix_rewrite keeps the query string, regex_rewrite applies to the path only) and
 * request header mutations.
 */
import type { HeaderMutations, RouteConfigModel, RouteModel, VirtualHostModel } from './model.js';

/** Request headers as forwarded upstream: lower-case names, repeated headers as arrays. */
export type HeaderMap = Record<string, string | string[]>;

/**
 * The virtual host for a Host header (compared case-insensitively, port included, as Envoy does):
 * an exact domain first, then the longest `*.suffix` / `-suffix` wildcard, then the longest
 * `prefix.*` wildcard, then `*`.
 */
export function selectVirtualHost(
  vhosts: readonly VirtualHostModel[],
  hostHeader: string | undefined,
): VirtualHostModel | undefined {
  const host = (hostHeader ?? '').toLowerCase();
  let suffix: { vh: VirtualHostModel; len: number } | undefined;
  let prefix: { vh: VirtualHostModel; len: number } | undefined;
  let any: VirtualHostModel | undefined;
  for (const vh of vhosts) {
    for (const d of vh.domains) {
      if (d === '*') {
        any ??= vh;
      } else if (d.startsWith('*')) {
        const s = d.slice(1);
        if (host.length > s.length && host.endsWith(s) && (!suffix || s.length > suffix.len)) {
          suffix = { vh, len: s.length };
        }
      } else if (d.endsWith('*')) {
        const p = d.slice(0, -1);
        if (host.length > p.length && host.startsWith(p) && (!prefix || p.length > prefix.len)) {
          prefix = { vh, len: p.length };
        }
      } else if (d === host) {
        return vh;
      }
    }
  }
  return suffix?.vh ?? prefix?.vh ?? any;
}

/** The path part of a request target: before '?' or '#'. */
export function pathOnly(target: string): string {
  const q = target.search(/[?#]/);
  return q < 0 ? target : target.slice(0, q);
}

/** True when the route's match accepts this request target. */
export function routeMatches(route: RouteModel, target: string): boolean {
  const path = pathOnly(target);
  const m = route.match;
  switch (m.kind) {
    case 'path':
      return m.caseSensitive ? path === m.value : path.toLowerCase() === m.value.toLowerCase();
    case 'prefix':
      return m.caseSensitive
        ? path.startsWith(m.value)
        : path.toLowerCase().startsWith(m.value.toLowerCase());
    case 'separated': {
      const [p, v] = m.caseSensitive ? [path, m.value] : [path.toLowerCase(), m.value.toLowerCase()];
      return p === v || p.startsWith(`${v}/`);
    }
    case 'regex':
      return m.regex.test(path);
  }
}

/** The first matching route, in configuration order (Envoy's rule). */
export function selectRoute(routes: readonly RouteModel[], target: string): RouteModel | undefined {
  return routes.find((r) => routeMatches(r, target));
}

/** Virtual host and route of a request, or undefined (Envoy answers 404). */
export function routeRequest(
  config: RouteConfigModel,
  hostHeader: string | undefined,
  target: string,
): { vhost: VirtualHostModel; route: RouteModel } | undefined {
  const vhost = selectVirtualHost(config.virtualHosts, hostHeader);
  if (!vhost) return undefined;
  const route = selectRoute(vhost.routes, target);
  return route ? { vhost, route } : undefined;
}

/** RE2 substitutions write groups as \1; JavaScript as $1 (and a literal $ as $$). */
export function re2Substitution(substitution: string): string {
  return substitution.replace(/\$/g, '$$$$').replace(/\\(\d)/g, '$$$1');
}

/**
 * The request target sent upstream. prefix_rewrite replaces the matched part of the target (for
 * an exact path match: the whole path; the query string stays after it); regex_rewrite replaces
 * every match in the path, the query string is kept.
 */
export function rewriteRequestTarget(route: RouteModel, target: string): string {
  if (route.action.kind !== 'forward') return target;
  const { prefixRewrite, regexRewrite } = route.action;
  if (prefixRewrite !== undefined && route.match.kind !== 'regex') {
    return prefixRewrite + target.slice(route.match.value.length);
  }
  if (regexRewrite !== undefined) {
    const path = pathOnly(target);
    regexRewrite.regex.lastIndex = 0;
    return (
      path.replace(regexRewrite.regex, re2Substitution(regexRewrite.substitution)) + target.slice(path.length)
    );
  }
  return target;
}

/**
 * Applies header mutations in order (route, then virtual host, then route configuration: the
 * least specific level is applied last and wins, Envoy's default). Removals of a level come before
 * its additions. Mutates and returns `headers`.
 */
export function applyHeaderMutations(headers: HeaderMap, levels: readonly HeaderMutations[]): HeaderMap {
  for (const level of levels) {
    for (const name of level.remove) delete headers[name];
    for (const { key, value, action } of level.add) {
      const existing = headers[key];
      switch (action) {
        case 'APPEND_IF_EXISTS_OR_ADD':
          if (existing === undefined) headers[key] = value;
          else headers[key] = [...(Array.isArray(existing) ? existing : [existing]), value];
          break;
        case 'ADD_IF_ABSENT':
          if (existing === undefined) headers[key] = value;
          break;
        case 'OVERWRITE_IF_EXISTS_OR_ADD':
          headers[key] = value;
          break;
        case 'OVERWRITE_IF_EXISTS':
          if (existing !== undefined) headers[key] = value;
          break;
      }
    }
  }
  return headers;
}

/** Hop-by-hop headers a proxy never forwards (RFC 9110 §7.6.1), plus Connection's own list. */
export const HOP_BY_HOP: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/** Headers of a message minus hop-by-hop ones (including those named by its Connection header). */
export function endToEndHeaders(headers: Readonly<Record<string, string | string[] | undefined>>): HeaderMap {
  const dropped = new Set(HOP_BY_HOP);
  const conn = headers.connection;
  for (const v of Array.isArray(conn) ? conn : conn ? [conn] : []) {
    for (const token of v.split(',')) dropped.add(token.trim().toLowerCase());
  }
  const out: HeaderMap = {};
  for (const [k, v] of Object.entries(headers)) {
    if (v === undefined || dropped.has(k)) continue;
    out[k] = v;
  }
  return out;
}
