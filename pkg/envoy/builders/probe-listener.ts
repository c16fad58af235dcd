/**
 * Probe listeners: `liveness_listener` / `readiness_listener` / `startup_listener` on 0.0.0.0:1590x.
 * Kubelet's rewritten HTTP probes arrive here and are routed by exact path to the container's original
 * port and path; the first HTTPS probe of a type keeps its TLS end to end, so its bytes are passed
 * through (tcp_proxy); any other HTTPS probe arrives as plain HTTP and its cluster speaks TLS to the
 * app (probe-tls.ts). The startup listener also carries the rewritten lifecycle hooks and, for a
 * native sidecar, the proxy-ready route its startup probe calls.
 *
 * Redirects: kubelet follows a redirect to the same host (up to 10). After the rewrite the followed
 * URL is `<pod IP>:1590x<Location>`, which no exact probe path matches: with `redirectLanding`, each
 * HTTP probe also routes its original path and everything under it (`path_separated_prefix`, so
 * `/healthz` → `/healthz/` and `/healthz/live`) to its own container, unchanged — a redirect within
 * the app lands on the app, as it does without the mesh. Not added: for a probe of `/` (it would
 * expose every path of the app on the plaintext probe port) and for a path two containers' probes of
 * the type share (it could not tell them apart).
 */
import {
  HOOK_TYPE_INFO,
  PROBE_TYPE_INFO,
  PROXY_READY_BODY,
  PROXY_READY_PATH,
  hookClusterName,
  probeClusterName,
} from '../../constants/index.js';
import type { HookType, ProbeType } from '../../constants/index.js';
import { HTTP_CONNECTION_MANAGER_TYPE_URL, ROUTER_TYPE_URL, TCP_PROXY_TYPE_URL } from '../type-urls.js';
import {
  address,
  HTTP_CONNECTION_MANAGER_FILTER,
  LISTEN_ADDRESS,
  packedEmpty,
  probeTimeout,
  ROUTER_FILTER,
  TCP_PROXY_FILTER,
  TLS_INSPECTOR_FILTER,
  TLS_INSPECTOR_TYPE_URL,
  typed,
} from './common.js';
import type {
  DirectResponseRoute,
  FilterChain,
  HeaderValueOption,
  Listener,
  Route,
  RouteConfiguration,
} from './types.js';

/** One container's plain-HTTP probe of one type (or lifecycle hook, on the startup listener). */
export interface HttpProbeRoute {
  container: string;
  /** The path kubelet now requests on the probe port (matched exactly). */
  matchPath: string;
  /** The probe's original path as written; '' means '/'. */
  originalPath: string;
  /** The probe's original port on the app. */
  port: number;
  /** The probe's original httpHeaders. */
  headers: readonly { name: string; value: string }[];
  timeoutSeconds: number;
  /** The proxy opens TLS to the app (an HTTPS probe or hook whose TLS it originates). */
  tls?: boolean;
  /** A lifecycle hook's route: its names use the hook; absent: a probe of the listener's type. */
  hook?: HookType;
}

/** One container's HTTPS probe of one type: its TLS bytes go to the original port untouched. */
export interface HttpsProbeTarget {
  container: string;
  port: number;
  timeoutSeconds: number;
}

export interface ProbeListenerInput {
  type: ProbeType;
  http: readonly HttpProbeRoute[];
  /** At most one: kubelet sends no SNI to a pod IP, so one passthrough port serves one target. */
  https?: HttpsProbeTarget;
  /** Answer PROXY_READY_PATH with 200 (a native sidecar's startup probe; startup listener only). */
  proxyReady?: boolean;
  /** Route a followed same-host redirect back to the app (see the file comment). */
  redirectLanding?: boolean;
}

/**
 * The request target the app receives, as kubelet would send the original path: '/' when empty, a
 * leading '/' added, a '#fragment' dropped, spaces and non-ASCII characters percent-encoded (UTF-8).
 */
export function rewriteTarget(originalPath: string): string {
  let p = originalPath;
  const hash = p.indexOf('#');
  if (hash >= 0) p = p.slice(0, hash);
  p = p.replace(/[^\x21-\x7e]/gu, percentEncode);
  if (p === '') return '/';
  return p.startsWith('/') ? p : `/${p}`;
}

function percentEncode(c: string): string {
  try {
    return encodeURIComponent(c);
  } catch {
    return '%EF%BF%BD'; // a lone UTF-16 surrogate: U+FFFD, as a UTF-8 encoder would write it
  }
}

export function probeRouteConfigName(type: ProbeType): string {
  return `${type}_route`;
}

/** The cluster of a probe's (or hook's) original target. */
export function probeRouteCluster(type: ProbeType, probe: HttpProbeRoute): string {
  return probe.hook ? hookClusterName(probe.container, probe.hook) : probeClusterName(probe.container, type);
}

function slotName(type: ProbeType, probe: HttpProbeRoute): string {
  return probe.hook ? HOOK_TYPE_INFO[probe.hook].slotName : type;
}

/** The probe's headers as kubelet sends them: Host as a host rewrite, the others added. */
function headerRewrites(probe: HttpProbeRoute): { host?: string; add: HeaderValueOption[] } {
  const add: HeaderValueOption[] = [];
  let host: string | undefined;
  for (const { name, value } of probe.headers) {
    // Envoy refuses to modify Host through request_headers_to_add; kubelet uses the first Host header.
    if (name.toLowerCase() === 'host') {
      host ??= value;
      continue;
    }
    add.push({ header: { key: name, value }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' });
  }
  return host !== undefined ? { host, add } : { add };
}

export function probeRoute(type: ProbeType, probe: HttpProbeRoute): Route {
  const { host, add } = headerRewrites(probe);
  const route: Route = {
    name: `${probe.container}_${slotName(type, probe)}_route`,
    match: { path: probe.matchPath },
    route: {
      cluster: probeRouteCluster(type, probe),
      prefix_rewrite: rewriteTarget(probe.originalPath),
      timeout: probeTimeout(probe.timeoutSeconds),
    },
  };
  if (host !== undefined) route.route.host_rewrite_literal = host;
  if (add.length > 0) route.request_headers_to_add = add;
  return route;
}

/** The native sidecar's startup probe: answered by the proxy itself once it has this listener. */
export function proxyReadyRoute(): DirectResponseRoute {
  return {
    name: 'proxy_ready_route',
    match: { path: PROXY_READY_PATH },
    direct_response: { status: 200, body: { inline_string: PROXY_READY_BODY } },
  };
}

/**
 * Where a same-host redirect from a probe's original path can land: that path without its query and
 * trailing `/` (`/healthz/` and `/healthz` → `/healthz`); undefined for the root.
 */
export function redirectLandingPrefix(originalPath: string): string | undefined {
  const target = rewriteTarget(originalPath);
  const q = target.indexOf('?');
  const prefix = (q < 0 ? target : target.slice(0, q)).replace(/\/+$/, '');
  return prefix === '' ? undefined : prefix;
}

/**
 * Routes a followed redirect lands on: per probe (not hook), its original path and everything under
 * it, unchanged, to its own container; longest prefix first. A prefix two containers would claim is
 * left out.
 */
export function redirectLandingRoutes(type: ProbeType, probes: readonly HttpProbeRoute[]): Route[] {
  const byPrefix = new Map<string, HttpProbeRoute[]>();
  for (const p of probes) {
    if (p.hook) continue;
    const prefix = redirectLandingPrefix(p.originalPath);
    if (prefix === undefined) continue;
    byPrefix.set(prefix, [...(byPrefix.get(prefix) ?? []), p]);
  }
  const routes: Route[] = [];
  for (const [prefix, ps] of byPrefix) {
    if (new Set(ps.map((p) => p.container)).size > 1) continue;
    const p = [...ps].sort((a, b) => cmp(a.matchPath, b.matchPath))[0]!;
    const { host, add } = headerRewrites(p);
    const route: Route = {
      name: `${p.container}_${type}_redirect_route`,
      match: { path_separated_prefix: prefix },
      route: { cluster: probeRouteCluster(type, p), timeout: probeTimeout(p.timeoutSeconds) },
    };
    if (host !== undefined) route.route.host_rewrite_literal = host;
    if (add.length > 0) route.request_headers_to_add = add;
    routes.push(route);
  }
  const prefixOf = (r: Route): string => r.match.path_separated_prefix ?? '';
  return routes.sort((a, b) => prefixOf(b).length - prefixOf(a).length || cmp(prefixOf(a), prefixOf(b)));
}

export function probeRouteConfig(
  type: ProbeType,
  probes: readonly HttpProbeRoute[],
  extras: { proxyReady?: boolean; redirectLanding?: boolean } = {},
): RouteConfiguration {
  const exact: (Route | DirectResponseRoute)[] = [...probes]
    .sort((a, b) => cmp(a.matchPath, b.matchPath))
    .map((p) => probeRoute(type, p));
  if (extras.proxyReady) exact.push(proxyReadyRoute());
  const landing = extras.redirectLanding ? redirectLandingRoutes(type, probes) : [];
  return {
    name: probeRouteConfigName(type),
    virtual_hosts: [{ name: `${type}_probes`, domains: ['*'], routes: [...exact, ...landing] }],
  };
}

/**
 * The listener for one probe type, or undefined when the type has no HTTP/HTTPS probe.
 * HTTP only: one HTTP connection manager chain. HTTPS only: one tcp_proxy chain. Both: a TLS
 * inspector picks the chain by transport protocol.
 */
export function buildProbeListener(input: ProbeListenerInput): Listener | undefined {
  const info = PROBE_TYPE_INFO[input.type];
  const chains: FilterChain[] = [];
  const hasHttp = input.http.length > 0 || input.proxyReady === true;
  const mixed = hasHttp && input.https !== undefined;
  if (hasHttp) {
    const chain: FilterChain = {
      name: `${input.type}_http`,
      filters: [
        {
          name: HTTP_CONNECTION_MANAGER_FILTER,
          typed_config: typed(HTTP_CONNECTION_MANAGER_TYPE_URL, {
            stat_prefix: info.listenerName,
            codec_type: 'AUTO',
            route_config: probeRouteConfig(input.type, input.http, {
              ...(input.proxyReady ? { proxyReady: true } : {}),
              ...(input.redirectLanding ? { redirectLanding: true } : {}),
            }),
            http_filters: [{ name: ROUTER_FILTER, typed_config: typed(ROUTER_TYPE_URL) }],
          }),
        },
      ],
    };
    if (mixed) chain.filter_chain_match = { transport_protocol: 'raw_buffer' };
    chains.push(chain);
  }
  if (input.https !== undefined) {
    const chain: FilterChain = {
      name: `${input.type}_https`,
      filters: [
        {
          name: TCP_PROXY_FILTER,
          typed_config: typed(TCP_PROXY_TYPE_URL, {
            stat_prefix: `${info.listenerName}_https`,
            cluster: probeClusterName(input.https.container, input.type),
          }),
        },
      ],
    };
    if (mixed) chain.filter_chain_match = { transport_protocol: 'tls' };
    chains.push(chain);
  }
  if (chains.length === 0) return undefined;
  const listener: Listener = {
    name: info.listenerName,
    address: address(LISTEN_ADDRESS, info.port),
    traffic_direction: 'INBOUND',
    filter_chains: chains,
  };
  if (mixed) {
    listener.listener_filters = [
      { name: TLS_INSPECTOR_FILTER, typed_config: packedEmpty(TLS_INSPECTOR_TYPE_URL) },
    ];
  }
  return listener;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
