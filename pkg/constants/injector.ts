/** Constants of fsm-injector (the mutating admission webhook) and the containers it injects. */

/** AdmissionReview served by the webhook. */
export const ADMISSION_REVIEW_API_VERSION = 'admission.k8s.io/v1';
export const ADMISSION_REVIEW_KIND = 'AdmissionReview';

/** Sidecar container port name for fsm-healthcheck (≤ 15 characters, as Kubernetes requires). */
export const HEALTHCHECK_PORT_NAME = 'fsm-healthcheck';

/** Envoy static cluster in the sidecar bootstrap that points at the controller's ADS. */
export const ADS_CLUSTER_NAME = 'fsm-controller';

/** Pod annotation values of PROBE_REWRITE_ANNOTATION / SIDECAR_INJECTION_ANNOTATION that mean "off". */
export const PROBE_REWRITE_DISABLED_VALUE = 'disabled';

/** Sidecar (Envoy) resources. */
export const SIDECAR_CPU_REQUEST = '50m';
export const SIDECAR_MEMORY_REQUEST = '64Mi';
export const SIDECAR_CPU_LIMIT = '1';
export const SIDECAR_MEMORY_LIMIT = '512Mi';
/** fsm-healthcheck resources: it only opens TCP connections on localhost. */
export const HEALTHCHECK_CPU_REQUEST = '10m';
export const HEALTHCHECK_MEMORY_REQUEST = '16Mi';
export const HEALTHCHECK_CPU_LIMIT = '100m';
export const HEALTHCHECK_MEMORY_LIMIT = '64Mi';
/** The module the ENTRYPOINT of fsm's images runs with node (deploy/docker/Dockerfile writes it). */
export const IMAGE_ENTRYPOINT_SCRIPT = '/app/entrypoint.mjs';
/**
 * Node flags of the injected fsm-healthcheck (its container's command: node <flags> <entrypoint>; the
 * sandbox's node agent starts the binary with them). A 1 MiB young generation: V8 otherwise grows it
 * to 2 × 16 MiB under a burst of checks and gives it back only when its memory reducer runs, tens of
 * seconds later (`npm run bench:healthcheck`: RSS after 8,640 probes 99 MiB, with this flag 81 MiB;
 * the same checks/s). Idle RSS is the same with or without it: the flags that lower idle RSS
 * (--jitless, --no-opt) cost 3-4× the CPU per check.
 */
export const HEALTHCHECK_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=1'];

/** Metric names of the injector (served on INJECTOR_METRICS_PORT /metrics). */
export const INJECTOR_ADMISSIONS_METRIC = 'fsm_injector_admissions_total';
export const INJECTOR_ADMISSION_DURATION_METRIC = 'fsm_injector_admission_duration_seconds';
export const INJECTOR_CERT_RELOADS_METRIC = 'fsm_injector_cert_reloads_total';

/** How often the injector re-reads its TLS files in addition to watching them (ms). */
export const DEFAULT_CERT_RELOAD_INTERVAL_MS = 10_000;

/**
 * What the injector writes, by format number (the INJECTION_STAMP_ANNOTATION's `format`):
 * 1 — the seed: no stamp, a second HTTPS probe of a type degraded to a TCP check, classic sidecar;
 * 2 — every HTTPS probe kept (TLS origination by the proxy), lifecycle hooks rewritten, native
 *     sidecars where the API server supports them, second admission passes.
 * A controller serves every format it knows; pods of an older format are flagged (metric, CLI).
 */
export const INJECTION_FORMAT = 2;
/**
 * Format of the sidecar's Envoy bootstrap (the stamp's `bootstrap`): 1 — plaintext ADS to the
 * controller's Service. Bump it whenever envoyBootstrap() changes what a running sidecar needs.
 */
export const SIDECAR_BOOTSTRAP_FORMAT = 1;
/** Native sidecars (init containers with restartPolicy Always) are on by default from Kubernetes 1.29. */
export const NATIVE_SIDECAR_MIN_VERSION = { major: 1, minor: 29 } as const;
/** How often the injector re-reads the API server's /version (ms). */
export const SERVER_VERSION_REFRESH_MS = 10 * 60_000;
/**
 * The native sidecar's startup probe (GET :15903/fsm-proxy-ready): every second, for up to ten
 * minutes before kubelet restarts the sidecar — app containers wait until it passes.
 */
export const SIDECAR_STARTUP_PROBE_PERIOD_SECONDS = 1;
export const SIDECAR_STARTUP_PROBE_FAILURE_THRESHOLD = 600;
/**
 * Proxy route timeout of a rewritten lifecycle hook. Kubelet gives a hook no timeout of its own (a
 * preStop hook is bounded by the pod's grace period, 30 s by default).
 */
export const HOOK_TIMEOUT_SECONDS = 30;
