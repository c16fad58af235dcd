/** Names and defaults of the install rendered by pkg/deploy (`fsm install`). */

/** Secret (type kubernetes.io/tls) holding the injector's serving certificate and its CA. */
export const INJECTOR_TLS_SECRET_NAME = 'fsm-injector-tls';
/** Where the injector container mounts that Secret. */
export const INJECTOR_TLS_MOUNT_PATH = '/etc/fsm/tls';
export const TLS_CERT_KEY = 'tls.crt';
export const TLS_KEY_KEY = 'tls.key';
export const TLS_CA_KEY = 'ca.crt';
/** The serving certificate is re-issued by `fsm install` when it expires within this window. */
export const INJECTOR_CERT_RENEW_BEFORE_MS = 30 * 24 * 3600 * 1000;
export const INJECTOR_CERT_VALIDITY_DAYS = 365;
/** Image repository prefix of the control-plane images (`<registry>/fsm-controller:v<version>`). */
export const DEFAULT_IMAGE_REGISTRY = 'flomesh';
/** Field manager name fsm uses when it writes objects. */
export const FSM_FIELD_MANAGER = 'fsm-install';
/** Label value of app.kubernetes.io/managed-by on every installed object. */
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY_VALUE = 'fsm';
