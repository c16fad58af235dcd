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

// Webhook TLS from cert-manager (`fsm install --cert-manager`): the injector mounts the Secret
// INJECTOR_TLS_SECRET_NAME that cert-manager writes, and cert-manager's CA injector fills the webhook
// configuration's caBundle from the serving Certificate named in this annotation (`<ns>/<name>`).
export const CERT_MANAGER_API_VERSION = 'cert-manager.io/v1';
export const CERT_MANAGER_GROUP = 'cert-manager.io';
export const CERT_MANAGER_INJECT_CA_FROM_ANNOTATION = 'cert-manager.io/inject-ca-from';
/** Bootstrap chain: a self-signed Issuer signs the CA Certificate; an Issuer of that CA signs the serving one. */
export const INJECTOR_SELF_SIGNED_ISSUER_NAME = 'fsm-injector-selfsigned';
/** Name of the CA Certificate, of the Secret cert-manager writes it to, and of the CA Issuer. */
export const INJECTOR_CA_NAME = 'fsm-injector-ca';
export const INJECTOR_SERVING_CERTIFICATE_NAME = 'fsm-injector-serving';
/**
 * The CA lives 5 years and is renewed once the remaining time is shorter than a serving certificate's
 * whole life plus its renewal window: every serving certificate signed by the old CA is replaced
 * (picking up the new CA) before the old CA expires. cert-manager does not re-issue leaf certificates
 * when their issuer's CA changes, so this margin is what keeps the chain valid.
 */
export const INJECTOR_CA_VALIDITY_DAYS = 5 * 365;
export const INJECTOR_CA_RENEW_BEFORE_DAYS = INJECTOR_CERT_VALIDITY_DAYS + 30;
