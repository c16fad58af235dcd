/**
 * The subset of Envoy v3 messages the builders produce, as plain objects in the form protobufjs
 * `Type.fromObject` reads with the original (snake_case) field names:
 * - google.protobuf.Duration is `{ seconds, nanos }` (protobufjs has no string form for it);
 * - wrapper types (BoolValue, UInt32Value) are `{ value }`;
 * - google.protobuf.Any is `{ '@type': 'type.googleapis.com/<full name>', ...fields of that type }`
 *   when fsm's proto root (pkg/envoy/protos.ts) knows the type, else already packed `{ type_url, value }`;
 * - enums are their value names ('STATIC', 'INBOUND', ...).
 * Nothing here is a class instance: the objects are JSON-serialisable and compare with deep equality.
 */

export interface Duration {
  seconds: number;
  nanos?: number;
}

export interface BoolValue {
  value: boolean;
}

export interface SocketAddress {
  protocol?: 'TCP';
  address: string;
  port_value: number;
}

export interface Address {
  socket_address: SocketAddress;
}

/** A google.protobuf.Any in protobufjs object form: the packed type's fields next to '@type'. */
export interface TypedConfig {
  '@type': string;
  [field: string]: unknown;
}

export interface HeaderValueOption {
  header: { key: string; value: string };
  append_action:
    'APPEND_IF_EXISTS_OR_ADD' | 'ADD_IF_ABSENT' | 'OVERWRITE_IF_EXISTS_OR_ADD' | 'OVERWRITE_IF_EXISTS';
}

export interface RouteAction {
  cluster: string;
  /** Absent: the path is forwarded as it came (a redirect landing). */
  prefix_rewrite?: string;
  host_rewrite_literal?: string;
  timeout: Duration;
}

/**
 * Exact path, or (a followed redirect landing back on the app) `path_separated_prefix`: the path
 * itself and everything under it, at a `/` boundary.
 */
export interface RouteMatch {
  path?: string;
  path_separated_prefix?: string;
}

export interface Route {
  name: string;
  match: RouteMatch;
  route: RouteAction;
  request_headers_to_add?: HeaderValueOption[];
}

/** A route the proxy answers itself (the native sidecar's proxy-ready endpoint). */
export interface DirectResponseRoute {
  name: string;
  match: RouteMatch;
  direct_response: { status: number; body: { inline_string: string } };
}

export interface VirtualHost {
  name: string;
  domains: string[];
  routes: (Route | DirectResponseRoute)[];
}

export interface RouteConfiguration {
  name: string;
  virtual_hosts: VirtualHost[];
}

export interface NetworkFilter {
  name: string;
  typed_config: TypedConfig;
}

export interface FilterChainMatch {
  transport_protocol?: 'tls' | 'raw_buffer';
}

export interface FilterChain {
  name: string;
  filter_chain_match?: FilterChainMatch;
  filters: NetworkFilter[];
  /** TLS termination of the chain's connections (envoy.transport_sockets.tls, DownstreamTlsContext). */
  transport_socket?: TransportSocket;
}

/** A google.protobuf.Any already encoded: for types outside fsm's proto root. */
export interface PackedAny {
  type_url: string;
  value: Uint8Array;
}

export interface ListenerFilter {
  name: string;
  typed_config: TypedConfig | PackedAny;
}

export interface Listener {
  name: string;
  address: Address;
  traffic_direction: 'INBOUND' | 'OUTBOUND';
  filter_chains: FilterChain[];
  listener_filters?: ListenerFilter[];
  /** false: the listener only receives connections handed off by a `use_original_dst` listener. */
  bind_to_port?: BoolValue;
  use_original_dst?: BoolValue;
}

export interface LbEndpoint {
  endpoint: { address: Address };
  /** EDS endpoints: only ready ones are sent, as HEALTHY. */
  health_status?: 'HEALTHY';
}

export interface ClusterLoadAssignment {
  cluster_name: string;
  endpoints: { lb_endpoints: LbEndpoint[] }[];
}

/** An xDS config source: the ADS stream the proxy already has. */
export interface AdsConfigSource {
  ads: Record<string, never>;
  resource_api_version: 'V3';
}

/** A cluster's transport socket: TLS to the upstream (envoy.transport_sockets.tls). */
export interface TransportSocket {
  name: string;
  typed_config: TypedConfig;
}

export interface Cluster {
  name: string;
  type: 'STATIC' | 'ORIGINAL_DST' | 'EDS';
  connect_timeout: Duration;
  lb_policy?: 'ROUND_ROBIN' | 'CLUSTER_PROVIDED';
  load_assignment?: ClusterLoadAssignment;
  /** EDS clusters: their ClusterLoadAssignment (named like the cluster) comes over ADS. */
  eds_cluster_config?: { eds_config: AdsConfigSource };
  transport_socket?: TransportSocket;
}

/** The resources one proxy needs: listeners (with inline route configs) and clusters, sorted by name. */
export interface ProxyResources {
  listeners: Listener[];
  clusters: Cluster[];
}

/** The resources of the mesh's Services every proxy shares (pkg/envoy/builders/outbound.ts). */
export interface SharedResources {
  listeners: Listener[];
  clusters: Cluster[];
  loadAssignments: ClusterLoadAssignment[];
}
