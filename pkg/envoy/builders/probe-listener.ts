/**
 * Probe listeners: `liveness_listener` / `readiness_listener` / `startup_listener` on 0.0.0.0:1590x.
 * Kubelet's rewritten HTTP probes arrive here and are routed by exact path to the container's original
 * port and path; an HTTPS probe keeps its TLS end to end, so its bytes are passed through (tcp_proxy).
 */
import { PROBE_TYPE_INFO, probeClusterName } from '../../constants/index.js';
import type { ProbeType } from '../../constants/index.js';
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
import type { FilterChain, HeaderValueOption, Listener, Route, RouteConfiguration } from './types.js';

/** One container's plain-HTTP probe of one type. */
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

export function probeRoute(type: ProbeType, probe: HttpProbeRoute): Route {
  const headersToAdd: HeaderValueOption[] = [];
  let host: string | undefined;
  for (const { name, value } of probe.headers) {
    // Envoy refuses to modify Host through request_headers_to_add; kubelet uses the first Host header.
    if (name.toLowerCase() === 'host') {
      host ??= value;
      continue;
    }
    headersToAdd.push({ header: { key: name, value }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' });
  }
  const route: Route = {
    name: `${probe.container}_${type}_route`,
    match: { path: probe.matchPath },
    route: {
      cluster: probeClusterName(probe.container, type),
      prefix_rewrite: rewriteTarget(probe.originalPath),
      timeout: probeTimeout(probe.timeoutSeconds),
    },
  };
  if (host !== undefined) route.route.host_rewrite_literal = host;
  if (headersToAdd.length > 0) route.request_headers_to_add = headersToAdd;
  return route;
}

export function probeRouteConfig(type: ProbeType, probes: readonly HttpProbeRoute[]): RouteConfiguration {
  return {
    name: probeRouteConfigName(type),
    virtual_hosts: [
      {
        name: `${type}_probes`,
        domains: ['*'],
        routes: [...probes].sort((a, b) => cmp(a.matchPath, b.matchPath)).map((p) => probeRoute(type, p)),
      },
    ],
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
  const mixed = input.http.length > 0 && input.https !== undefined;
  if (input.http.length > 0) {
    const chain: FilterChain = {
      name: `${input.type}_http`,
      filters: [
        {
          name: HTTP_CONNECTION_MANAGER_FILTER,
          typed_config: typed(HTTP_CONNECTION_MANAGER_TYPE_URL, {
            stat_prefix: info.listenerName,
            codec_type: 'AUTO',
            route_config: probeRouteConfig(input.type, input.http),
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
