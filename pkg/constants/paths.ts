/** HTTP paths and headers of the seed. */

/** Rewritten httpGet probe paths (a suffix `/<container>` when several containers share a type). */
export const LIVENESS_PROBE_PATH = '/fsm-liveness-probe';
export const READINESS_PROBE_PATH = '/fsm-readiness-probe';
export const STARTUP_PROBE_PATH = '/fsm-startup-probe';

/**
 * Rewritten lifecycle hooks (postStart / preStop httpGet): kubelet calls the startup listener
 * (STARTUP_PROBE_PORT) at `<path>/<container>`; the proxy forwards to the hook's original target.
 */
export const POST_START_HOOK_PATH = '/fsm-poststart-hook';
export const PRE_STOP_HOOK_PATH = '/fsm-prestop-hook';
/**
 * A native sidecar's own startup probe: served on the startup listener (STARTUP_PROBE_PORT) by a
 * route the controller pushes, so it answers only once the proxy received its listeners (LDS).
 */
export const PROXY_READY_PATH = '/fsm-proxy-ready';
/** The answer of PROXY_READY_PATH (200, text/plain). */
export const PROXY_READY_BODY = 'proxy configured';

/** fsm-healthcheck endpoint for rewritten tcpSocket / grpc probes. */
export const HEALTHCHECK_PATH = '/fsm-healthcheck';
/** Header carrying the original tcpSocket port (decimal 1-65535). */
export const ORIGINAL_TCP_PORT_HEADER = 'Original-Tcp-Port';
/** Header carrying the original grpc probe port (decimal 1-65535). */
export const ORIGINAL_GRPC_PORT_HEADER = 'Original-Grpc-Port';
/** Optional header carrying the original grpc probe's service name. */
export const ORIGINAL_GRPC_SERVICE_HEADER = 'Original-Grpc-Service';

/** fsm-injector */
export const WEBHOOK_MUTATE_PATH = '/mutate-pod-creation';
export const INJECTOR_HEALTHZ_PATH = '/healthz';
export const INJECTOR_HEALTHZ_BODY = 'Health OK';

/** fsm-controller :9091 */
export const HEALTH_ALIVE_PATH = '/health/alive';
export const HEALTH_READY_PATH = '/health/ready';
export const HEALTH_ALIVE_BODY = 'Service is alive';
export const HEALTH_READY_BODY = 'Service is ready';
export const METRICS_PATH = '/metrics';
export const VERSION_PATH = '/version';
/** Debug: GET /debug/proxies lists proxies; /debug/proxies/<namespace>/<pod> returns one config. */
export const DEBUG_PROXIES_PATH = '/debug/proxies';
