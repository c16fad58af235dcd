/** Defaults of flags and names shared by several binaries. */

export const DEFAULT_MESH_NAME = 'fsm';
export const DEFAULT_FSM_NAMESPACE = 'fsm-system';
export const CONTROLLER_SERVICE_NAME = 'fsm-controller';
export const INJECTOR_SERVICE_NAME = 'fsm-injector';
export const WEBHOOK_CONFIGURATION_NAME = 'fsm-injector';
export const DEFAULT_HEALTHCHECK_TARGET_HOST = '127.0.0.1';
/** Kubelet's default probe timeoutSeconds is 1: the healthcheck dial timeout matches it. */
export const DEFAULT_DIAL_TIMEOUT_MS = 1000;
export const DEFAULT_PROBE_TIMEOUT_SECONDS = 1;
/** Hard bound on graceful shutdown before a binary exits anyway. */
export const SHUTDOWN_GRACE_MS = 5000;
/**
 * fsm-controller's shutdown budget is derived from its Deployment's terminationGracePeriodSeconds
 * (kubelet sends SIGKILL when it runs out): the budget leaves SHUTDOWN_MARGIN_MS of it unused, so a
 * slow stop exits by itself, logged, instead of being killed mid-write.
 */
export const CONTROLLER_TERMINATION_GRACE_SECONDS = 30;
export const SHUTDOWN_MARGIN_MS = 5000;
export const DEFAULT_CONTROLLER_SHUTDOWN_GRACE_MS =
  CONTROLLER_TERMINATION_GRACE_SECONDS * 1000 - SHUTDOWN_MARGIN_MS;
/**
 * Within the budget: how long the ADS server waits for closed streams to flush their status (a
 * reader that stopped reading cannot take it) before cutting the connections, and how long /health
 * keeps answering (ready 503) after SIGTERM so a probe or scrape in flight gets an answer.
 */
export const ADS_SHUTDOWN_FLUSH_MS = 1000;
/**
 * Response bytes the ADS server hands to its streams without their being flushed yet, all streams
 * together (pkg/ads write-budget.ts): 10,000 proxies connecting at once then take turns instead of
 * each holding its ~1.5 MB first config in memory at the same time.
 */
export const ADS_WRITE_BUDGET_BYTES = 64 * 1024 * 1024;
export const HEALTH_SHUTDOWN_HOLD_MS = 500;
/** AdmissionReview bodies above this are refused with 413. */
export const MAX_ADMISSION_BODY_BYTES = 3 * 1024 * 1024;
/**
 * AdmissionReview bodies nesting JSON deeper than this are refused with 400 before they are parsed
 * (a Pod's deepest fields sit about 12 levels in; a hostile body 10,000 deep would otherwise
 * overflow the stack of every recursive walk after JSON.parse).
 */
export const MAX_ADMISSION_JSON_DEPTH = 100;
/** Pinned sidecar image (the injector's --sidecar-image default). */
export const DEFAULT_SIDECAR_IMAGE = 'envoyproxy/envoy:v1.32.3';
export const DEFAULT_INIT_IMAGE = 'flomesh/fsm-init:v0.1.0';
export const DEFAULT_HEALTHCHECK_IMAGE = 'flomesh/fsm-healthcheck:v0.1.0';

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export const DEFAULT_LOG_LEVEL: LogLevel = 'info';
