/** Small shared pieces of the builders: well-known filter names and type URLs, durations, addresses. */
import { typeUrlOf } from '../type-urls.js';
import type { Address, Duration, PackedAny, TypedConfig } from './types.js';

/**
 * Extension names. The type URLs of their typed_config messages are in ../type-urls.ts
 * (HTTP_CONNECTION_MANAGER_TYPE_URL, ROUTER_TYPE_URL, TCP_PROXY_TYPE_URL), except the TLS inspector's.
 */
export const HTTP_CONNECTION_MANAGER_FILTER = 'envoy.filters.network.http_connection_manager';
export const ROUTER_FILTER = 'envoy.filters.http.router';
export const TCP_PROXY_FILTER = 'envoy.filters.network.tcp_proxy';
export const TLS_INSPECTOR_FILTER = 'envoy.filters.listener.tls_inspector';
/** Not in fsm's proto root: the (all-default, hence empty) config is packed here as bytes. */
export const TLS_INSPECTOR_TYPE_URL = typeUrlOf(
  'envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector',
);

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

/** An all-default message packed as google.protobuf.Any: its encoding is zero bytes. */
export function packedEmpty(typeUrl: string): PackedAny {
  return { type_url: typeUrl, value: new Uint8Array(0) };
}

export function typed(typeUrl: string, fields: Record<string, unknown> = {}): TypedConfig {
  return { '@type': typeUrl, ...fields };
}
