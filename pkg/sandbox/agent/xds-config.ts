/**
 * Decoded xDS resources → the agent's model (model.ts). Pure. Everything the agent cannot serve
 * faithfully is refused with an error naming the resource, the field path and the value; the ADS
 * client turns that error into a NACK and keeps the last good configuration.
 *
 * Inputs are plain objects as decodeMessage() returns them (proto field names, enums as names,
 * 64-bit numbers as strings, google.protobuf.Any as `{ type_url, value }`, default values left out).
 */
import net from 'node:net';
import {
  HTTP_CONNECTION_MANAGER_TYPE_URL,
  ROUTER_TYPE_URL,
  TCP_PROXY_TYPE_URL,
  decodeMessage,
  messageNameOf,
} from '../../envoy/index.js';
import {
  HTTP_CONNECTION_MANAGER_FILTER,
  ROUTER_FILTER,
  TCP_PROXY_FILTER,
  TLS_INSPECTOR_FILTER,
  TLS_INSPECTOR_TYPE_URL,
} from '../../envoy/builders/index.js';
import type {
  AppendAction,
  ClusterModel,
  Endpoint,
  FilterChainModel,
  HeaderMutations,
  HeaderToAdd,
  HttpHandlerModel,
  ListenerModel,
  PathMatch,
  RouteConfigModel,
  RouteModel,
  TcpHandlerModel,
  VirtualHostModel,
} from './model.js';

type Obj = Record<string, unknown>;

/** A configuration the agent refuses; `message` names the resource, field and value. */
export class ConfigError extends Error {}

/** Envoy's default cluster connect_timeout. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 5000;
/** Envoy's default route timeout. */
export const DEFAULT_ROUTE_TIMEOUT_MS = 15_000;
/** Envoy's default tcp_proxy idle timeout (1 h). */
export const DEFAULT_TCP_IDLE_TIMEOUT_MS = 3_600_000;

/** Addresses the agent binds on the pod address instead (the pod's wildcard and its loopback). */
export const POD_LOCAL_HOSTS: ReadonlySet<string> = new Set(['0.0.0.0', '::', '127.0.0.1', '::1']);

function fail(path: string, message: string): never {
  throw new ConfigError(`${path}: ${message}`);
}

function show(v: unknown): string {
  if (v instanceof Uint8Array) return `${v.byteLength} bytes`;
  return JSON.stringify(v) ?? String(v);
}

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}

function obj(v: unknown, path: string): Obj {
  if (!isObj(v)) fail(path, `expected an object, got ${show(v)}`);
  return v;
}

function optObj(v: unknown, path: string): Obj | undefined {
  return v === undefined || v === null ? undefined : obj(v, path);
}

function arr(v: unknown, path: string): unknown[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) fail(path, `expected a list, got ${show(v)}`);
  return v;
}

function str(v: unknown, path: string, fallback?: string): string {
  if ((v === undefined || v === null) && fallback !== undefined) return fallback;
  if (typeof v !== 'string') fail(path, `expected a string, got ${show(v)}`);
  return v;
}

function bool(v: unknown, fallback: boolean): boolean {
  return typeof v === 'boolean' ? v : fallback;
}

/** google.protobuf.BoolValue `{ value }` (absent: fallback). */
function boolValue(v: unknown, fallback: boolean): boolean {
  return isObj(v) ? bool(v.value, false) : fallback;
}

/** google.protobuf.Duration → milliseconds (fallback when absent). */
export function durationMs(v: unknown, path: string, fallback: number): number {
  if (v === undefined || v === null) return fallback;
  const d = obj(v, path);
  const seconds = Number(d.seconds ?? 0);
  const nanos = Number(d.nanos ?? 0);
  if (!Number.isFinite(seconds) || !Number.isFinite(nanos) || seconds < 0 || nanos < 0) {
    fail(path, `invalid duration ${show(v)}`);
  }
  return seconds * 1000 + Math.floor(nanos / 1e6);
}

/** Rejects fields set on a message that the agent would otherwise silently ignore. */
function refuse(
  o: Obj,
  fields: readonly string[],
  path: string,
  why = 'not supported by the probe agent',
): void {
  for (const f of fields) {
    const v = o[f];
    if (v === undefined || v === null) continue;
    if (Array.isArray(v) && v.length === 0) continue;
    fail(`${path}.${f}`, `${why} (got ${show(v)})`);
  }
}

/** envoy.config.core.v3.Address with a TCP socket address. */
export function parseSocketAddress(v: unknown, path: string, allowPortZero: boolean): Endpoint {
  const a = obj(v, path);
  if (!isObj(a.socket_address)) {
    const kind = Object.keys(a).find((k) => k !== 'address') ?? 'nothing';
    fail(path, `only socket_address is supported, got ${kind}`);
  }
  const sa = a.socket_address;
  const p = `${path}.socket_address`;
  const protocol = str(sa.protocol, `${p}.protocol`, 'TCP');
  if (protocol !== 'TCP') fail(`${p}.protocol`, `only TCP is supported, got ${show(protocol)}`);
  if (sa.named_port !== undefined && sa.named_port !== null && sa.named_port !== '') {
    fail(`${p}.named_port`, `named ports are not supported, got ${show(sa.named_port)}`);
  }
  if (sa.resolver_name)
    fail(`${p}.resolver_name`, `custom resolvers are not supported, got ${show(sa.resolver_name)}`);
  const host = str(sa.address, `${p}.address`, '');
  if (net.isIP(host) === 0) fail(`${p}.address`, `not an IP address: ${show(host)}`);
  const port = Number(sa.port_value ?? 0);
  if (!Number.isInteger(port) || port < (allowPortZero ? 0 : 1) || port > 65535) {
    fail(`${p}.port_value`, `invalid port ${show(sa.port_value ?? 0)}`);
  }
  return { host, port };
}

// ---------------------------------------------------------------------------------------------
// Clusters

export function parseCluster(v: unknown): ClusterModel {
  const c = obj(v, 'Cluster');
  const name = str(c.name, 'Cluster.name', '');
  if (!name) fail('Cluster.name', 'must not be empty');
  const path = `Cluster ${show(name)}`;
  if (c.cluster_type !== undefined && c.cluster_type !== null) {
    fail(`${path}.cluster_type`, `custom cluster types are not supported`);
  }
  const type = str(c.type, `${path}.type`, 'STATIC');
  const connectTimeoutMs = durationMs(
    c.connect_timeout,
    `${path}.connect_timeout`,
    DEFAULT_CONNECT_TIMEOUT_MS,
  );
  refuse(c, ['transport_socket', 'transport_socket_matches', 'eds_cluster_config'], path);
  if (type === 'ORIGINAL_DST') {
    return { name, kind: 'original_dst', connectTimeoutMs, endpoints: [] };
  }
  if (type !== 'STATIC') {
    fail(`${path}.type`, `cluster type ${show(type)} is not supported (STATIC or ORIGINAL_DST)`);
  }
  const la = optObj(c.load_assignment, `${path}.load_assignment`);
  if (!la) fail(`${path}.load_assignment`, 'a STATIC cluster needs a load_assignment');
  const endpoints: Endpoint[] = [];
  arr(la.endpoints, `${path}.load_assignment.endpoints`).forEach((le, i) => {
    const lp = `${path}.load_assignment.endpoints[${i}]`;
    arr(obj(le, lp).lb_endpoints, `${lp}.lb_endpoints`).forEach((lb, j) => {
      const bp = `${lp}.lb_endpoints[${j}]`;
      const ep = optObj(obj(lb, bp).endpoint, `${bp}.endpoint`);
      if (!ep) fail(`${bp}.endpoint`, 'missing (named endpoints are not supported)');
      endpoints.push(parseSocketAddress(ep.address, `${bp}.endpoint.address`, false));
    });
  });
  if (endpoints.length === 0) fail(`${path}.load_assignment`, 'a STATIC cluster needs at least one endpoint');
  return { name, kind: 'static', connectTimeoutMs, endpoints };
}

// ---------------------------------------------------------------------------------------------
// Route configurations

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

function parseHeaderMutations(o: Obj, path: string): HeaderMutations {
  const add: HeaderToAdd[] = arr(o.request_headers_to_add, `${path}.request_headers_to_add`).map((h, i) => {
    const hp = `${path}.request_headers_to_add[${i}]`;
    const hv = obj(h, hp);
    const header = obj(hv.header, `${hp}.header`);
    const key = str(header.key, `${hp}.header.key`, '');
    if (!HEADER_NAME.test(key)) fail(`${hp}.header.key`, `invalid header name ${show(key)}`);
    if (key.startsWith(':') || key.toLowerCase() === 'host') {
      fail(`${hp}.header.key`, `${show(key)} cannot be modified through request_headers_to_add`);
    }
    if (header.raw_value instanceof Uint8Array && header.raw_value.byteLength > 0) {
      fail(`${hp}.header.raw_value`, 'raw_value is not supported, use value');
    }
    const value = str(header.value, `${hp}.header.value`, '');
    if (INVALID_HEADER_VALUE.test(value)) fail(`${hp}.header.value`, `invalid header value ${show(value)}`);
    let action = str(hv.append_action, `${hp}.append_action`, 'APPEND_IF_EXISTS_OR_ADD');
    if (!APPEND_ACTIONS.has(action)) fail(`${hp}.append_action`, `unknown action ${show(action)}`);
    // The deprecated BoolValue `append`, when set, wins (false = overwrite).
    if (isObj(hv.append))
      action = bool(hv.append.value, false) ? 'APPEND_IF_EXISTS_OR_ADD' : 'OVERWRITE_IF_EXISTS_OR_ADD';
    return { key: key.toLowerCase(), value, action: action as AppendAction };
  });
  const remove = arr(o.request_headers_to_remove, `${path}.request_headers_to_remove`).map((n, i) =>
    str(n, `${path}.request_headers_to_remove[${i}]`).toLowerCase(),
  );
  return { add, remove };
}

/** An RE2 pattern as a JavaScript regular expression (the common subset); errors name the pattern. */
function compileRegex(v: unknown, path: string, anchored: boolean): { regex: RegExp; source: string } {
  const m = obj(v, path);
  const source = str(m.regex, `${path}.regex`, '');
  if (!source) fail(`${path}.regex`, 'must not be empty');
  try {
    return { regex: new RegExp(anchored ? `^(?:${source})$` : source, anchored ? 'u' : 'gu'), source };
  } catch (err) {
    return fail(`${path}.regex`, `invalid regular expression ${show(source)}: ${(err as Error).message}`);
  }
}

function parseRoute(v: unknown, path: string): RouteModel {
  const r = obj(v, path);
  const name = str(r.name, `${path}.name`, '');
  const m = obj(r.match, `${path}.match`);
  refuse(
    m,
    ['headers', 'query_parameters', 'grpc', 'tls_context', 'runtime_fraction', 'dynamic_metadata'],
    `${path}.match`,
  );
  const caseSensitive = boolValue(m.case_sensitive, true);
  let match: PathMatch;
  if (typeof m.path === 'string') {
    match = { kind: 'path', value: m.path, caseSensitive };
  } else if (typeof m.prefix === 'string') {
    match = { kind: 'prefix', value: m.prefix, caseSensitive };
  } else if (m.safe_regex !== undefined && m.safe_regex !== null) {
    const { regex, source } = compileRegex(m.safe_regex, `${path}.match.safe_regex`, true);
    match = { kind: 'regex', regex, source };
  } else {
    const kind = Object.keys(m).find((k) => k !== 'path_specifier' && k !== 'case_sensitive') ?? 'nothing';
    return fail(`${path}.match`, `only path, prefix and safe_regex are supported, got ${kind}`);
  }
  const headers = parseHeaderMutations(r, path);
  if (isObj(r.direct_response)) {
    const dr = r.direct_response;
    const status = Number(dr.status ?? 0);
    if (!Number.isInteger(status) || status < 200 || status > 599) {
      fail(`${path}.direct_response.status`, `invalid status ${show(dr.status)}`);
    }
    const body = isObj(dr.body) && typeof dr.body.inline_string === 'string' ? dr.body.inline_string : '';
    return { name, match, action: { kind: 'direct', status, body }, headers };
  }
  if (!isObj(r.route)) {
    const kind = isObj(r.redirect) ? 'redirect' : 'no action';
    return fail(path, `only route and direct_response actions are supported, got ${kind}`);
  }
  const a = r.route;
  const ap = `${path}.route`;
  refuse(
    a,
    ['cluster_header', 'weighted_clusters', 'cluster_specifier_plugin', 'inline_cluster_specifier_plugin'],
    ap,
  );
  refuse(a, ['host_rewrite_header', 'host_rewrite_path_regex', 'path_rewrite_policy'], ap);
  const cluster = str(a.cluster, `${ap}.cluster`, '');
  if (!cluster) fail(`${ap}.cluster`, 'must name a cluster');
  let prefixRewrite: string | undefined;
  if (typeof a.prefix_rewrite === 'string' && a.prefix_rewrite !== '') {
    if (match.kind === 'regex') fail(`${ap}.prefix_rewrite`, 'cannot be used with a safe_regex match');
    if (!a.prefix_rewrite.startsWith('/') || INVALID_TARGET.test(a.prefix_rewrite)) {
      fail(`${ap}.prefix_rewrite`, `not a valid request path ${show(a.prefix_rewrite)}`);
    }
    prefixRewrite = a.prefix_rewrite;
  }
  let regexRewrite: { regex: RegExp; substitution: string } | undefined;
  if (isObj(a.regex_rewrite)) {
    if (prefixRewrite !== undefined) fail(`${ap}.regex_rewrite`, 'cannot be combined with prefix_rewrite');
    const rp = `${ap}.regex_rewrite`;
    const { regex } = compileRegex(a.regex_rewrite.pattern, `${rp}.pattern`, false);
    const substitution = str(a.regex_rewrite.substitution, `${rp}.substitution`, '');
    if (INVALID_TARGET.test(substitution)) {
      fail(
        `${rp}.substitution`,
        `would put whitespace or control characters in the path: ${show(substitution)}`,
      );
    }
    regexRewrite = { regex, substitution };
  }
  const hostRewrite =
    typeof a.host_rewrite_literal === 'string' && a.host_rewrite_literal !== ''
      ? a.host_rewrite_literal
      : undefined;
  if (hostRewrite !== undefined && INVALID_TARGET.test(hostRewrite)) {
    fail(`${ap}.host_rewrite_literal`, `invalid host ${show(hostRewrite)}`);
  }
  if (boolValue(a.auto_host_rewrite, false))
    fail(`${ap}.auto_host_rewrite`, 'not supported by the probe agent');
  const timeoutMs = durationMs(a.timeout, `${ap}.timeout`, DEFAULT_ROUTE_TIMEOUT_MS);
  const action = { kind: 'forward' as const, cluster, prefixRewrite, regexRewrite, hostRewrite, timeoutMs };
  return { name, match, action, headers };
}

function parseVirtualHost(v: unknown, path: string): VirtualHostModel {
  const vh = obj(v, path);
  const name = str(vh.name, `${path}.name`, '');
  refuse(vh, ['require_tls'], path);
  const domains = arr(vh.domains, `${path}.domains`).map((d, i) => {
    const dom = str(d, `${path}.domains[${i}]`).toLowerCase();
    if (dom === '') fail(`${path}.domains[${i}]`, 'must not be empty');
    if (dom !== '*' && dom.indexOf('*') > 0 && !dom.endsWith('*')) {
      fail(`${path}.domains[${i}]`, `a wildcard must be a prefix or a suffix, got ${show(dom)}`);
    }
    return dom;
  });
  if (domains.length === 0) fail(`${path}.domains`, 'must list at least one domain');
  const routes = arr(vh.routes, `${path}.routes`).map((r, i) => parseRoute(r, `${path}.routes[${i}]`));
  return { name, domains, routes, headers: parseHeaderMutations(vh, path) };
}

export function parseRouteConfiguration(v: unknown, where = 'RouteConfiguration'): RouteConfigModel {
  const rc = obj(v, where);
  const name = str(rc.name, `${where}.name`, '');
  const path = name ? `${where} ${show(name)}` : where;
  refuse(rc, ['vhds', 'cluster_specifier_plugins'], path);
  const virtualHosts = arr(rc.virtual_hosts, `${path}.virtual_hosts`).map((vh, i) =>
    parseVirtualHost(vh, `${path}.virtual_hosts[${i}]`),
  );
  const seen = new Map<string, string>();
  virtualHosts.forEach((vh, i) => {
    for (const d of vh.domains) {
      const other = seen.get(d);
      if (other !== undefined) {
        fail(
          `${path}.virtual_hosts[${i}].domains`,
          `domain ${show(d)} is already used by virtual host ${other}`,
        );
      }
      seen.set(d, show(vh.name));
    }
  });
  return { name, virtualHosts, headers: parseHeaderMutations(rc, path) };
}

// ---------------------------------------------------------------------------------------------
// Listeners

function unpack(any: Obj, path: string): Obj {
  const typeUrl = str(any.type_url, `${path}.type_url`, '');
  const value = any.value instanceof Uint8Array ? any.value : new Uint8Array(0);
  try {
    return decodeMessage<Obj>(typeUrl, value);
  } catch (err) {
    return fail(path, `cannot decode ${show(typeUrl)}: ${(err as Error).message}`);
  }
}

function typeUrlOfConfig(f: Obj, path: string): string {
  const tc = optObj(f.typed_config, `${path}.typed_config`);
  if (!tc) fail(`${path}.typed_config`, `missing (filter ${show(f.name)})`);
  return str(tc.type_url, `${path}.typed_config.type_url`, '');
}

function parseHcm(cfg: Obj, path: string): HttpHandlerModel {
  const codec = str(cfg.codec_type, `${path}.codec_type`, 'AUTO');
  if (codec !== 'AUTO' && codec !== 'HTTP1') {
    fail(`${path}.codec_type`, `only AUTO and HTTP1 are supported, got ${show(codec)}`);
  }
  refuse(cfg, ['scoped_routes', 'upgrade_configs', 'access_log'], path);
  const filters = arr(cfg.http_filters, `${path}.http_filters`);
  if (filters.length === 0)
    fail(`${path}.http_filters`, `must end with the router filter (${ROUTER_FILTER})`);
  filters.forEach((f, i) => {
    const fp = `${path}.http_filters[${i}]`;
    const fo = obj(f, fp);
    const name = str(fo.name, `${fp}.name`, '');
    const typeUrl = isObj(fo.typed_config)
      ? str(fo.typed_config.type_url, `${fp}.typed_config.type_url`, '')
      : '';
    const isRouter = typeUrl === ROUTER_TYPE_URL || (typeUrl === '' && name === ROUTER_FILTER);
    if (!isRouter) {
      fail(
        fp,
        `unknown HTTP filter ${show(name)} (${show(typeUrl || 'no typed_config')}): only the router is supported`,
      );
    }
    if (i !== filters.length - 1) fail(fp, 'the router filter must be the last HTTP filter');
  });
  const statPrefix = str(cfg.stat_prefix, `${path}.stat_prefix`, '');
  if (isObj(cfg.route_config)) {
    return {
      kind: 'http',
      statPrefix,
      routes: { inline: parseRouteConfiguration(cfg.route_config, `${path}.route_config`) },
    };
  }
  if (isObj(cfg.rds)) {
    const rdsName = str(cfg.rds.route_config_name, `${path}.rds.route_config_name`, '');
    if (!rdsName) fail(`${path}.rds.route_config_name`, 'must not be empty');
    const src = optObj(cfg.rds.config_source, `${path}.rds.config_source`);
    if (src && !isObj(src.ads)) {
      fail(
        `${path}.rds.config_source`,
        'only ads config sources are supported (the agent has one ADS stream)',
      );
    }
    return { kind: 'http', statPrefix, routes: { rds: rdsName } };
  }
  return fail(path, 'needs route_config or rds');
}

function parseTcpProxy(cfg: Obj, path: string): TcpHandlerModel {
  refuse(cfg, ['weighted_clusters', 'on_demand', 'tunneling_config', 'access_log'], path);
  const cluster = str(cfg.cluster, `${path}.cluster`, '');
  if (!cluster) fail(`${path}.cluster`, 'must name a cluster');
  return {
    kind: 'tcp',
    statPrefix: str(cfg.stat_prefix, `${path}.stat_prefix`, ''),
    cluster,
    idleTimeoutMs: durationMs(cfg.idle_timeout, `${path}.idle_timeout`, DEFAULT_TCP_IDLE_TIMEOUT_MS),
  };
}

function parseFilterChain(v: unknown, path: string): FilterChainModel {
  const fc = obj(v, path);
  const name = str(fc.name, `${path}.name`, '');
  refuse(fc, ['transport_socket', 'use_proxy_proto', 'on_demand_configuration'], path);
  let transportProtocol: 'tls' | 'raw_buffer' | undefined;
  const fcm = optObj(fc.filter_chain_match, `${path}.filter_chain_match`);
  if (fcm) {
    const mp = `${path}.filter_chain_match`;
    for (const [k, val] of Object.entries(fcm)) {
      if (k === 'transport_protocol' || val === undefined || val === null) continue;
      if (Array.isArray(val) && val.length === 0) continue;
      fail(`${mp}.${k}`, `only transport_protocol matching is supported (got ${show(val)})`);
    }
    const tp = str(fcm.transport_protocol, `${mp}.transport_protocol`, '');
    if (tp !== '' && tp !== 'tls' && tp !== 'raw_buffer') {
      fail(`${mp}.transport_protocol`, `expected tls or raw_buffer, got ${show(tp)}`);
    }
    if (tp !== '') transportProtocol = tp as 'tls' | 'raw_buffer';
  }
  const filters = arr(fc.filters, `${path}.filters`);
  if (filters.length !== 1) {
    fail(
      `${path}.filters`,
      `expected exactly one network filter (http_connection_manager or tcp_proxy), got ${filters.length}`,
    );
  }
  const fp = `${path}.filters[0]`;
  const f = obj(filters[0], fp);
  const fname = str(f.name, `${fp}.name`, '');
  const typeUrl = typeUrlOfConfig(f, fp);
  let handler: HttpHandlerModel | TcpHandlerModel;
  if (typeUrl === HTTP_CONNECTION_MANAGER_TYPE_URL) {
    handler = parseHcm(unpack(f.typed_config as Obj, `${fp}.typed_config`), `${fp}<HttpConnectionManager>`);
  } else if (typeUrl === TCP_PROXY_TYPE_URL) {
    handler = parseTcpProxy(unpack(f.typed_config as Obj, `${fp}.typed_config`), `${fp}<TcpProxy>`);
  } else {
    return fail(
      fp,
      `unknown network filter ${show(fname)} (${show(messageNameOf(typeUrl))}): only ${HTTP_CONNECTION_MANAGER_FILTER} and ${TCP_PROXY_FILTER} are supported`,
    );
  }
  return { name, transportProtocol, handler };
}

export function parseListener(v: unknown): ListenerModel {
  const l = obj(v, 'Listener');
  const name = str(l.name, 'Listener.name', '');
  if (!name) fail('Listener.name', 'must not be empty');
  const path = `Listener ${show(name)}`;
  refuse(l, ['additional_addresses', 'udp_listener_config', 'api_listener', 'internal_listener'], path);
  const { host, port } = parseSocketAddress(l.address, `${path}.address`, true);
  let tlsInspector = false;
  arr(l.listener_filters, `${path}.listener_filters`).forEach((f, i) => {
    const fp = `${path}.listener_filters[${i}]`;
    const fo = obj(f, fp);
    const fname = str(fo.name, `${fp}.name`, '');
    const typeUrl = isObj(fo.typed_config)
      ? str(fo.typed_config.type_url, `${fp}.typed_config.type_url`, '')
      : '';
    if (typeUrl === TLS_INSPECTOR_TYPE_URL || (typeUrl === '' && fname === TLS_INSPECTOR_FILTER)) {
      tlsInspector = true;
      return;
    }
    fail(
      fp,
      `unknown listener filter ${show(fname)} (${show(typeUrl || 'no typed_config')}): only the TLS inspector is supported`,
    );
  });
  const chains = arr(l.filter_chains, `${path}.filter_chains`).map((fc, i) =>
    parseFilterChain(fc, `${path}.filter_chains[${i}]`),
  );
  const defaultChain = isObj(l.default_filter_chain)
    ? parseFilterChain(l.default_filter_chain, `${path}.default_filter_chain`)
    : undefined;
  if (chains.length === 0 && !defaultChain) fail(`${path}.filter_chains`, 'must not be empty');
  const seen = new Set<string>();
  chains.forEach((c, i) => {
    const key = c.transportProtocol ?? '';
    if (seen.has(key)) {
      fail(
        `${path}.filter_chains[${i}].filter_chain_match`,
        `matches the same connections as an earlier chain`,
      );
    }
    seen.add(key);
  });
  const rdsNames = [...chains, ...(defaultChain ? [defaultChain] : [])].flatMap((c) =>
    c.handler.kind === 'http' && 'rds' in c.handler.routes ? [c.handler.routes.rds] : [],
  );
  const model: ListenerModel = {
    name,
    configuredHost: host,
    configuredPort: port,
    bind: true,
    tlsInspector,
    chains,
    defaultChain,
    rdsNames,
  };
  if (!boolValue(l.bind_to_port, true)) {
    model.bind = false;
    model.skipReason = 'bind_to_port is false (it only receives connections handed off by another listener)';
  } else if (boolValue(l.use_original_dst, false)) {
    model.bind = false;
    model.skipReason = 'use_original_dst: nothing redirects traffic to a capture listener in the sandbox';
  } else if (!POD_LOCAL_HOSTS.has(host)) {
    fail(
      `${path}.address.socket_address.address`,
      `the probe agent binds only the pod's wildcard or loopback address, got ${show(host)}`,
    );
  } else if (port === 0) {
    fail(`${path}.address.socket_address.port_value`, 'a bound listener needs a port');
  }
  return model;
}
