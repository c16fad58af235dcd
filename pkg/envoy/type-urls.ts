/**
 * Full type URLs of everything fsm pushes or packs, and the proto files that define them.
 * A type URL is `type.googleapis.com/<fully qualified message name>`.
 */

export const TYPE_URL_PREFIX = 'type.googleapis.com/';

/** xDS resource types (the four fsm pushes over ADS). */
export const LISTENER_TYPE_URL = 'type.googleapis.com/envoy.config.listener.v3.Listener';
export const CLUSTER_TYPE_URL = 'type.googleapis.com/envoy.config.cluster.v3.Cluster';
export const ROUTE_CONFIGURATION_TYPE_URL = 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration';
export const CLUSTER_LOAD_ASSIGNMENT_TYPE_URL =
  'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment';

/** SDS: certificates and trust bundles (envoy.extensions.transport_sockets.tls.v3.Secret). */
export const SECRET_TYPE_URL = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret';
/** TLS contexts packed into transport sockets. */
export const UPSTREAM_TLS_CONTEXT_TYPE_URL =
  'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext';
export const DOWNSTREAM_TLS_CONTEXT_TYPE_URL =
  'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext';

/** Filter configurations packed into listeners as google.protobuf.Any. */
export const HTTP_CONNECTION_MANAGER_TYPE_URL =
  'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
export const ROUTER_TYPE_URL = 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router';
export const TCP_PROXY_TYPE_URL =
  'type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy';
/** The stdout access logger's configuration (access logs of the inbound app chains). */
export const STDOUT_ACCESS_LOG_TYPE_URL =
  'type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog';

/** Short names used in logs and metric labels. */
export const XDS_SHORT_NAMES: Readonly<Record<string, string>> = {
  [LISTENER_TYPE_URL]: 'LDS',
  [CLUSTER_TYPE_URL]: 'CDS',
  [ROUTE_CONFIGURATION_TYPE_URL]: 'RDS',
  [CLUSTER_LOAD_ASSIGNMENT_TYPE_URL]: 'EDS',
  [SECRET_TYPE_URL]: 'SDS',
};

/**
 * The four resource types in the order additions are pushed (CDS → EDS → LDS → RDS). Secrets (SDS)
 * are not in it: nothing fsm pushes waits on them (a cluster naming a secret warms until it comes,
 * a few milliseconds later), so they follow in the order a stream asked for them.
 */
export const XDS_PUSH_ORDER: readonly string[] = [
  CLUSTER_TYPE_URL,
  CLUSTER_LOAD_ASSIGNMENT_TYPE_URL,
  LISTENER_TYPE_URL,
  ROUTE_CONFIGURATION_TYPE_URL,
];

/** Short name of a type URL for logs/metrics ('LDS', ...) or the message name for other types. */
export function shortTypeName(typeUrl: string): string {
  return XDS_SHORT_NAMES[typeUrl] ?? messageNameOf(typeUrl);
}

/** `type.googleapis.com/a.b.C` → `a.b.C`. Any prefix up to the last '/' is dropped. */
export function messageNameOf(typeUrl: string): string {
  return typeUrl.substring(typeUrl.lastIndexOf('/') + 1);
}

/** `a.b.C` → `type.googleapis.com/a.b.C`. */
export function typeUrlOf(messageName: string): string {
  return TYPE_URL_PREFIX + messageName;
}

/**
 * Proto files loaded into fsm's single root: the ADS service and every type we push or pack.
 * They must share one root, otherwise Any fields cannot be resolved.
 */
export const ENVOY_PROTO_FILES: readonly string[] = [
  'envoy/service/discovery/v3/ads.proto',
  'envoy/service/discovery/v3/discovery.proto',
  'envoy/config/listener/v3/listener.proto',
  'envoy/config/cluster/v3/cluster.proto',
  'envoy/config/route/v3/route.proto',
  'envoy/config/endpoint/v3/endpoint.proto',
  'envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.proto',
  'envoy/extensions/filters/http/router/v3/router.proto',
  'envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy.proto',
  'envoy/extensions/access_loggers/stream/v3/stream.proto',
  'envoy/extensions/transport_sockets/tls/v3/secret.proto',
  'envoy/extensions/transport_sockets/tls/v3/tls.proto',
];
