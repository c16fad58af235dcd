/**
 * Mesh identity (pkg/identity): the mesh CA Secret, the per-pod bootstrap credential, the workload
 * certificates served over SDS, and the limits of the ADS surface that identity protects.
 */

/** Secret (fsm namespace) holding the mesh CA: created once per mesh, shared by controller and injector. */
export const MESH_CA_SECRET_NAME = 'fsm-mesh-ca';
/** Keys of the mesh CA Secret. */
export const MESH_CA_CERT_KEY = 'ca.crt';
export const MESH_CA_KEY_KEY = 'ca.key';
/** Every root currently trusted (one normally; two between `stage` and `retire` of a rotation). */
export const MESH_CA_BUNDLE_KEY = 'trust-bundle.pem';
/** The staged next root and its key, between `fsm mesh ca rotate --phase stage` and `activate`. */
export const MESH_CA_NEXT_CERT_KEY = 'next.crt';
export const MESH_CA_NEXT_KEY_KEY = 'next.key';
/** Label on the mesh CA Secret and every bootstrap Secret: what the Secret is. */
export const IDENTITY_KIND_LABEL = 'flomesh.io/identity';
export const IDENTITY_KIND_CA = 'mesh-ca';
export const IDENTITY_KIND_BOOTSTRAP = 'bootstrap';
/** The mesh CA's own validity: 10 years (rotated deliberately, never on a timer). */
export const MESH_CA_VALIDITY_MS = 10 * 365 * 24 * 3600 * 1000;

/** Default SPIFFE trust domain (`--trust-domain`). */
export const DEFAULT_TRUST_DOMAIN = 'cluster.local';
/** Default validity of a workload certificate (`--workload-cert-validity`). */
export const DEFAULT_WORKLOAD_CERT_VALIDITY_MS = 24 * 3600 * 1000;
/** A workload certificate is renewed once this fraction of its life has passed (then ± jitter). */
export const WORKLOAD_CERT_RENEW_AT = 2 / 3;
/** Fraction of the life added or taken at random from the renewal time (spreads a fleet's renewals). */
export const WORKLOAD_CERT_RENEW_JITTER = 0.05;
/** Certificates are valid from this long before they are issued (clock skew between nodes). */
export const CERT_BACKDATE_MS = 5 * 60 * 1000;

/**
 * Bootstrap credential: Secret `fsm-bootstrap-<proxy-uuid>` in the pod's namespace (type
 * kubernetes.io/tls + ca.crt = trust bundle), mounted read-only into the sidecar.
 */
export const BOOTSTRAP_SECRET_PREFIX = 'fsm-bootstrap-';
/** The bootstrap certificate is valid this long; the controller renews the Secret in place before. */
export const BOOTSTRAP_CERT_VALIDITY_MS = 30 * 24 * 3600 * 1000;
/** The controller re-issues a bootstrap Secret whose certificate expires within this window. */
export const BOOTSTRAP_CERT_RENEW_BEFORE_MS = 10 * 24 * 3600 * 1000;
/** A bootstrap Secret whose proxy UUID has no pod is deleted once older than this (admission → pod). */
export const BOOTSTRAP_GC_GRACE_MS = 10 * 60 * 1000;
/** How often the controller sweeps bootstrap Secrets (GC and renewal). */
export const BOOTSTRAP_GC_PERIOD_MS = 60 * 1000;
/** Where the sidecar mounts its bootstrap Secret, the volume name, and the SDS files in it. */
export const BOOTSTRAP_MOUNT_PATH = '/etc/fsm/bootstrap';
export const BOOTSTRAP_VOLUME_NAME = 'fsm-bootstrap';
/** Keys of the bootstrap Secret holding Envoy's SDS files (path_config_source, watched directory). */
export const BOOTSTRAP_SDS_CERT_KEY = 'sds-cert.json';
export const BOOTSTRAP_SDS_CA_KEY = 'sds-ca.json';
/** Names of the bootstrap SDS secrets inside those files. */
export const BOOTSTRAP_CERT_SECRET_NAME = 'fsm-bootstrap-cert';
export const BOOTSTRAP_CA_SECRET_NAME = 'fsm-bootstrap-ca';
/** CN of a bootstrap certificate: `<proxy-uuid>.<kind>.<service-account>.<namespace>` (OSM's shape). */
export const BOOTSTRAP_PROXY_KIND = 'sidecar';
/** Organizational unit of every bootstrap certificate: what tells it from a workload certificate. */
export const BOOTSTRAP_CERT_OU = 'fsm-bootstrap';

/** SDS resource names in each proxy's snapshot: its workload certificate and the mesh trust bundle. */
export const SDS_WORKLOAD_CERT_NAME = 'fsm-workload-cert';
export const SDS_TRUST_BUNDLE_NAME = 'fsm-trust-bundle';

/** The controller's ADS serving certificate: DNS SAN `fsm-controller.<fsm-namespace>.svc` (see README). */
export const CONTROLLER_SERVING_CERT_VALIDITY_MS = 7 * 24 * 3600 * 1000;
export const CONTROLLER_SERVING_CERT_RENEW_BEFORE_MS = 2 * 24 * 3600 * 1000;

/** ADS hardening: limits of one stream and one connection (flags where an operator may need them). */
export const DEFAULT_ADS_MAX_NAMES_PER_SUBSCRIPTION = 10_000;
export const DEFAULT_ADS_MAX_NAMES_PER_STREAM = 20_000;
export const DEFAULT_ADS_MAX_TYPES_PER_STREAM = 16;
export const DEFAULT_ADS_MAX_STREAMS_PER_CONNECTION = 16;
/** A TLS handshake not done within this is dropped (slowloris on the ADS port). */
export const ADS_TLS_HANDSHAKE_TIMEOUT_MS = 10_000;
/** NACK logging: at most this many NACK lines per stream per window, error_detail cut at this many bytes. */
export const ADS_NACK_LOG_BURST = 3;
export const ADS_NACK_LOG_WINDOW_MS = 60_000;
export const ADS_NACK_DETAIL_MAX_BYTES = 512;
/** What replaces a probe header's value in /debug and `fsm proxy get config`. */
export const REDACTED_VALUE = '<redacted>';
