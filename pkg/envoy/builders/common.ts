/** Small shared pieces of the builders: well-known filter names and type URLs, durations, addresses. */
import type { Address, Duration, TypedConfig } from './types.js';

const TYPE_PREFIX = 'type.googleapis.com/';

/** Extension names and the full type URLs of their typed_config messages. */
export const HTTP_CONNECTION_MANAGER_FILTER = 'envoy.filters.network.http_connection_manager';
export const HTTP_CONNECTION_MANAGER_TYPE_URL =
  TYPE_PREFIX + 'envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
export const ROUTER_FILTER = 'envoy.filters.http.router';
export const ROUTER_TYPE_URL = TYPE_PREFIX + 'envoy.extensions.filters.http.router.v3.Router';
export const TCP_PROXY_FILTER = 'envoy.filters.network.tcp_proxy';
export const TCP_PROXY_TYPE_URL = TYPE_PREFIX + 'envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy';
export const TLS_INSPECTOR_FILTER = 'envoy.filters.listener.tls_inspector';
export const TLS_INSPECTOR_TYPE_URL =
  TYPE_PREFIX + 'envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector';

/** Every listener of the proxy binds the wildcard address; clusters reach the app on loopback. */
export const LISTEN_ADDRESS = '0.0.0.0';
export const LOCALHOST = '127.0.0.1';

export function address(host: string, port: number): Address {
  return { socket_address: { protocol: 'TCP', address: host, port_value: port } };
}

/** A whole number of seconds as a google.protobuf.Duration. */
export function seconds(value: number): Duration {
  return { seconds: value, nanos: 0 };
}

/**
 * A probe's timeout as Envoy sees it: whole seconds, never below one second (kubelet's own minimum,
 * and what kubelet applies when timeoutSeconds is 0 or unset).
 */
export function probeTimeout(timeoutSeconds: number): Duration {
  return seconds(Number.isFinite(timeoutSeconds) ? Math.max(1, Math.ceil(timeoutSeconds)) : 1);
}

export function typed(typeUrl: string, fields: Record<string, unknown> = {}): TypedConfig {
  return { '@type': typeUrl, ...fields };
}
