/** fsm-controller tunables (flag defaults). */

/** Pod changes within this window are coalesced into one reconcile (and one push). */
export const DEFAULT_RECONCILE_DEBOUNCE_MS = 50;
/** Readiness fails when an informer has been without a watch for longer than this. */
export const DEFAULT_OUT_OF_SYNC_THRESHOLD_MS = 30_000;
/** Parallel reconcile workers. */
export const DEFAULT_RECONCILE_WORKERS = 4;

/**
 * Root causes of failed probes (the controller's probe diagnosis): at most one diagnosis, and so at
 * most one ProbeTargetFailed event, per pod, container and probe in this window.
 */
export const DEFAULT_PROBE_DIAGNOSIS_INTERVAL_MS = 60_000;
/** Event reason of a failed probe's root cause, recorded on the pod by fsm-controller. */
export const PROBE_TARGET_FAILED_REASON = 'ProbeTargetFailed';
/** Kubelet's event reason of a probe that succeeded with a warning (an off-host redirect). */
export const PROBE_WARNING_REASON = 'ProbeWarning';
/** Kubelet's event reason of a failed probe (the trigger of a diagnosis). */
export const PROBE_UNHEALTHY_REASON = 'Unhealthy';
/** Event source (reportingComponent) of the controller's events. */
export const CONTROLLER_EVENT_SOURCE = 'fsm-controller';
/** Controller metric: meshed pods injected in a format older than the running control plane's. */
export const OUTDATED_INJECTION_METRIC = 'fsm_controller_pods_outdated_injection';
/** Controller metric: probe diagnoses by cause. */
export const PROBE_DIAGNOSES_METRIC = 'fsm_controller_probe_diagnoses_total';
/**
 * Event reason of a problem in a meshed pod's config that the user can fix (a bad annotation value,
 * an unreadable probe record, an odd port), recorded on the pod by fsm-controller when it appears.
 */
export const PROXY_CONFIG_PROBLEM_REASON = 'ProxyConfigProblem';
