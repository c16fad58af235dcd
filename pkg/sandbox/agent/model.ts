/**
 * What the probe agent runs: its own small model of the xDS resources it understands, built from
 * decoded Listener / Cluster / RouteConfiguration messages by the parsers of config/ (through
 * xds-config.ts). Everything here is plain data (compiled regular expressions aside), validated
 * once when a response is applied, so the data plane never meets a shape it cannot serve.
 */

export interface Endpoint {
  host: string;
  port: number;
}

/** TLS to a cluster's endpoints, without verifying them (fsm's HTTPS probe clusters). */
export interface UpstreamTlsModel {
  /** SNI to send; absent: none (as kubelet sends none to a pod IP). */
  sni?: string;
  /** ALPN protocols offered (empty: none). */
  alpn: string[];
}

/** A cluster: STATIC endpoints, or ORIGINAL_DST (accepted, never reachable in the sandbox). */
export interface ClusterModel {
  name: string;
  kind: 'static' | 'original_dst';
  connectTimeoutMs: number;
  endpoints: Endpoint[];
  /** TLS to the endpoints (absent: plain TCP). */
  tls?: UpstreamTlsModel;
}

export type AppendAction =
  'APPEND_IF_EXISTS_OR_ADD' | 'ADD_IF_ABSENT' | 'OVERWRITE_IF_EXISTS_OR_ADD' | 'OVERWRITE_IF_EXISTS';

export interface HeaderToAdd {
  /** Lower-cased header name. */
  key: string;
  value: string;
  action: AppendAction;
}

/** Header changes of one level (route, virtual host or route configuration). */
export interface HeaderMutations {
  add: HeaderToAdd[];
  /** Lower-cased names. */
  remove: string[];
}

export type PathMatch =
  | { kind: 'path'; value: string; caseSensitive: boolean }
  | { kind: 'prefix'; value: string; caseSensitive: boolean }
  /** path_separated_prefix: the path itself or anything under it after a `/`. */
  | { kind: 'separated'; value: string; caseSensitive: boolean }
  | { kind: 'regex'; regex: RegExp; source: string };

export interface ForwardAction {
  kind: 'forward';
  cluster: string;
  prefixRewrite?: string;
  regexRewrite?: { regex: RegExp; substitution: string };
  hostRewrite?: string;
  /** 0 = no timeout (Envoy's "disabled"). */
  timeoutMs: number;
}

export interface DirectResponseAction {
  kind: 'direct';
  status: number;
  body: string;
}

export interface RouteModel {
  name: string;
  match: PathMatch;
  action: ForwardAction | DirectResponseAction;
  headers: HeaderMutations;
}

export interface VirtualHostModel {
  name: string;
  /** Lower-cased domains as configured ('*', 'a.b', '*.b', 'a.*', with or without :port). */
  domains: string[];
  routes: RouteModel[];
  headers: HeaderMutations;
}

export interface RouteConfigModel {
  name: string;
  virtualHosts: VirtualHostModel[];
  headers: HeaderMutations;
}

export interface HttpHandlerModel {
  kind: 'http';
  statPrefix: string;
  /** An inline route configuration, or the name of one fetched over RDS. */
  routes: { inline: RouteConfigModel } | { rds: string };
}

export interface TcpHandlerModel {
  kind: 'tcp';
  statPrefix: string;
  cluster: string;
  /** 0 = no idle timeout. */
  idleTimeoutMs: number;
}

export interface FilterChainModel {
  name: string;
  /** filter_chain_match.transport_protocol; undefined matches any. */
  transportProtocol?: 'tls' | 'raw_buffer';
  handler: HttpHandlerModel | TcpHandlerModel;
}

export interface ListenerModel {
  name: string;
  /** The address as configured (before the pod address and the port map are applied). */
  configuredHost: string;
  configuredPort: number;
  /** False: accepted but not bound (bind_to_port false, use_original_dst capture listeners). */
  bind: boolean;
  /**
   * use_original_dst: a capture listener (fsm-init redirects to it). Bound only where the agent
   * learns original destinations (namespace mode); each connection is handed to the listener of its
   * original destination (bind_to_port false), else served by this listener's own chains.
   */
  captures?: boolean;
  /** Why a listener is not bound. */
  skipReason?: string;
  /** A TLS inspector is configured: connections are sniffed to pick a chain by transport protocol. */
  tlsInspector: boolean;
  chains: FilterChainModel[];
  defaultChain?: FilterChainModel;
  /** Names of RDS route configurations this listener uses. */
  rdsNames: string[];
  /** Content identity (the resource's bytes hash): an equal fingerprint means an unchanged listener. */
  fingerprint?: string;
}

/** An SDS secret the agent holds (its workload certificate, the mesh trust bundle). */
export type SecretModel =
  | {
      name: string;
      kind: 'tls_certificate';
      certPem: string;
      keyPem: string;
      /** ms since the epoch. */
      notAfter: number;
      /** URI SANs (the SPIFFE ID). */
      uris: string[];
      serial: string;
    }
  | { name: string; kind: 'validation_context'; bundlePem: string; roots: number };
