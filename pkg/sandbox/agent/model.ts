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

/** A subject alternative name check: a URI SAN equal to, or starting with, `value`. */
export interface SanMatcher {
  kind: 'exact' | 'prefix';
  value: string;
}

/** Verification of a peer's certificate: chained to an SDS trust bundle, and (if any) a SAN match. */
export interface PeerVerification {
  /** SDS name of the validation_context secret (the mesh trust bundle). */
  bundleSecret: string;
  /** At least one URI SAN must match one of these; empty: no SAN check. */
  sans: SanMatcher[];
}

/**
 * TLS to a cluster's endpoints: without verifying them (fsm's HTTPS probe clusters), or mTLS
 * (mesh clusters): presenting an SDS certificate and verifying the server against an SDS bundle.
 */
export interface UpstreamTlsModel {
  /** SNI to send; absent: none (as kubelet sends none to a pod IP). */
  sni?: string;
  /** ALPN protocols offered (empty: none). */
  alpn: string[];
  /** SDS name of the certificate to present (absent: none). */
  certSecret?: string;
  /** Absent: the server is not verified (kubelet's behaviour for HTTPS probes). */
  verify?: PeerVerification;
  minVersion?: 'TLSv1.2' | 'TLSv1.3';
}

/** TLS termination of a filter chain: the chain's certificate and the client verification. */
export interface DownstreamTlsModel {
  /** SDS name of the certificate presented. */
  certSecret: string;
  requireClientCertificate: boolean;
  /** Absent: client certificates are not verified (and so not required). */
  verify?: PeerVerification;
  minVersion?: 'TLSv1.2' | 'TLSv1.3';
}

/**
 * A cluster: STATIC endpoints, EDS (its endpoints from the ClusterLoadAssignment of its name over
 * the ADS), or ORIGINAL_DST (the connection's original destination).
 */
export interface ClusterModel {
  name: string;
  kind: 'static' | 'original_dst' | 'eds';
  connectTimeoutMs: number;
  /** STATIC: its endpoints (EDS: empty, see loadAssignment). */
  endpoints: Endpoint[];
  /** EDS: the name of the ClusterLoadAssignment (eds_cluster_config.service_name, else the cluster's). */
  edsName?: string;
  /** TLS to the endpoints (absent: plain TCP). */
  tls?: UpstreamTlsModel;
}

/** A ClusterLoadAssignment: the endpoints of an EDS cluster (unhealthy ones left out). */
export interface LoadAssignmentModel {
  name: string;
  endpoints: Endpoint[];
}

/** One piece of an access log format: literal text or a command operator. */
export type FormatPart = { text: string } | { operator: string; arg?: string; max?: number };

/** An access log the agent writes (stdout: the sidecar's log). */
export interface AccessLogModel {
  format: FormatPart[];
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
  /**
   * x-forwarded-client-cert: SANITIZE removes it; SANITIZE_SET replaces it with the verified client
   * certificate's details (over mTLS; removed otherwise). Absent: Envoy's default, SANITIZE.
   */
  forwardClientCert: 'SANITIZE' | 'SANITIZE_SET';
  /** set_current_client_cert_details.uri: the client's URI SAN goes in the header (`URI=…`). */
  clientCertUri: boolean;
  accessLogs: AccessLogModel[];
}

export interface TcpHandlerModel {
  kind: 'tcp';
  statPrefix: string;
  cluster: string;
  /** 0 = no idle timeout. */
  idleTimeoutMs: number;
  accessLogs: AccessLogModel[];
}

export interface FilterChainModel {
  name: string;
  /** filter_chain_match.transport_protocol; undefined matches any. */
  transportProtocol?: 'tls' | 'raw_buffer';
  /** TLS termination (the chain's transport_socket); absent: the bytes are the app's. */
  tls?: DownstreamTlsModel;
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
