/** Kubernetes API access: kubeconfig discovery, informer and work-queue tuning. */

/** Environment variable holding kubeconfig paths (separated by ':' on POSIX). */
export const KUBECONFIG_ENV = 'KUBECONFIG';
/** In-cluster service-account files (mounted into every pod). */
export const SERVICEACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';
export const SERVICEACCOUNT_TOKEN_FILE = 'token';
export const SERVICEACCOUNT_CA_FILE = 'ca.crt';
export const SERVICEACCOUNT_NAMESPACE_FILE = 'namespace';

/** Label an EndpointSlice names its Service with (set by the EndpointSlice controller). */
export const ENDPOINTSLICE_SERVICE_LABEL = 'kubernetes.io/service-name';

/** Label kube-apiserver puts on every namespace (its name): namespaceSelectors rely on it. */
export const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';

/**
 * The control plane's retry backoff (informer restarts, work-queue retries; pkg/backoff's defaults):
 * first delay, cap, and ± jitter fraction.
 */
export const BACKOFF_INITIAL_MS = 200;
export const BACKOFF_MAX_MS = 30_000;
export const BACKOFF_JITTER = 0.3;
/**
 * Informers, while the API server cannot be reached at all (connection refused, no route, DNS):
 * the watch is retried at this short capped interval (jittered below the cap), instead of the
 * exponential backoff above, which is for an API server that answers with errors. See
 * pkg/k8s/informer.ts for why this does not load the API server.
 */
export const INFORMER_RECONNECT_INITIAL_MS = 250;
export const INFORMER_RECONNECT_MAX_MS = 1000;
/** Server-side watch timeout; each watch asks for a random value in [t, 2t) as client-go does. */
export const INFORMER_WATCH_TIMEOUT_SECONDS = 300;
/** A watch with no bytes (not even a BOOKMARK) for this long is presumed dead and restarted. */
export const INFORMER_WATCH_IDLE_TIMEOUT_MS = 90_000;
/** Items per list page (limit/continue). */
export const INFORMER_LIST_PAGE_SIZE = 500;
/** Work-queue periodic resync: every cached key is reconciled again this often. */
export const WORKQUEUE_RESYNC_MS = 60_000;
/**
 * Work-queue coalescing (with a debounce window): a key that keeps changing is reconciled at most
 * once per this interval (its first change at once), and no change is held longer than this.
 */
export const WORKQUEUE_COALESCE_INTERVAL_MS = 1_000;

/**
 * Set by the sandbox's node agent for the processes of a pod: the pod's own loopback address.
 * A server asked to bind a wildcard address binds this one instead (pkg/binary bindHost): the
 * loopback-mode stand-in for a pod network namespace.
 */
export const SANDBOX_POD_IP_ENV = 'FSM_SANDBOX_POD_IP';
/** The sandbox's pod network when --network is not given: auto, namespaces or loopback. */
export const SANDBOX_NETWORK_ENV = 'FSM_SANDBOX_NETWORK';
