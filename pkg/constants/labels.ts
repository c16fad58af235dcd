/** Labels and annotations other parts of the system (and operators) rely on. */

/** Namespace label: `flomesh.io/monitored-by=<mesh name>` puts the namespace in that mesh. */
export const MONITORED_BY_LABEL = 'flomesh.io/monitored-by';
/** Namespace label: present (any value) → the namespace is ignored by every mesh. */
export const IGNORE_LABEL = 'flomesh.io/ignore';
/**
 * Namespace or pod annotation: enabled|yes|true / disabled|no|false (case-insensitive).
 * The pod's value overrides the namespace's; any other value is an admission error.
 */
export const SIDECAR_INJECTION_ANNOTATION = 'flomesh.io/sidecar-injection';
export const INJECTION_ENABLED_VALUES: readonly string[] = ['enabled', 'yes', 'true'];
export const INJECTION_DISABLED_VALUES: readonly string[] = ['disabled', 'no', 'false'];

/** Pod annotation: `disabled` keeps probes untouched (the sidecar is still injected). */
export const PROBE_REWRITE_ANNOTATION = 'flomesh.io/probe-rewrite';
/** Pod annotation written by the injector: JSON of the original probe targets (the record, pkg/probes). */
export const ORIGINAL_PROBES_ANNOTATION = 'flomesh.io/original-probes';
/**
 * Pod annotation written by the injector: which fsm injector wrote the pod and in which format
 * (JSON, the injection stamp of pkg/probes). A pod without it was injected by the seed's format 1.
 */
export const INJECTION_STAMP_ANNOTATION = 'flomesh.io/injected-by';
/**
 * Namespace or pod annotation: enabled|yes|true / disabled|no|false. Whether the sidecar runs as a
 * native sidecar (an init container with restartPolicy Always, Kubernetes >= 1.29) that app
 * containers wait for, or as a classic sidecar container. The pod's value overrides the namespace's;
 * unset: native when the API server supports it.
 */
export const NATIVE_SIDECAR_ANNOTATION = 'flomesh.io/native-sidecar';
/** Pod label written by the injector: the proxy UUID, equal to the sidecar's Envoy node.id. */
export const PROXY_UUID_LABEL = 'flomesh.io/proxy-uuid';

/** Labels carried by the control-plane Deployments (the CLI finds meshes by them). */
export const APP_LABEL = 'app';
export const MESH_NAME_LABEL = 'meshName';
export const CONTROLLER_APP = 'fsm-controller';
export const INJECTOR_APP = 'fsm-injector';
export const APP_VERSION_LABEL = 'app.kubernetes.io/version';
export const APP_NAME_LABEL = 'app.kubernetes.io/name';
export const APP_INSTANCE_LABEL = 'app.kubernetes.io/instance';

/** Namespaces never injected, whatever their labels say. */
export const SYSTEM_NAMESPACES: readonly string[] = ['kube-system', 'kube-public', 'kube-node-lease'];

/** Container names the injector adds. */
export const SIDECAR_CONTAINER_NAME = 'sidecar';
export const INIT_CONTAINER_NAME = 'fsm-init';
export const HEALTHCHECK_CONTAINER_NAME = 'fsm-healthcheck';
/** Container port names on the sidecar, only for probe types in use. */
export const LIVENESS_PORT_NAME = 'liveness-port';
export const READINESS_PORT_NAME = 'readiness-port';
export const STARTUP_PORT_NAME = 'startup-port';

/** Env var read by fsm-healthcheck: comma list of ports it may dial (set by the injector). */
export const HEALTHCHECK_ALLOWED_PORTS_ENV = 'FSM_HEALTHCHECK_ALLOWED_PORTS';
