/** fsm-controller tunables (flag defaults). */

/** Pod changes within this window are coalesced into one reconcile (and one push). */
export const DEFAULT_RECONCILE_DEBOUNCE_MS = 50;
/** Readiness fails when an informer has been without a watch for longer than this. */
export const DEFAULT_OUT_OF_SYNC_THRESHOLD_MS = 30_000;
/** Parallel reconcile workers. */
export const DEFAULT_RECONCILE_WORKERS = 4;
