/** HTTP paths and headers of the seed. */

/** Rewritten httpGet probe paths (a suffix `/<container>` when several containers share a type). */
export const LIVENESS_PROBE_PATH = '/fsm-liveness-probe';
export const READINESS_PROBE_PATH = '/fsm-readiness-probe';
export const STARTUP_PROBE_PATH = '/fsm-startup-probe';

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
