/**
 * The mesh data path (issue 15): inbound mTLS on every declared app port, the outbound capture
 * listener's routes to meshed Services over mTLS, and how the sandbox stands in for the interception.
 */

/**
 * Pod or namespace annotation: the inbound mTLS mode of a meshed pod's app ports. The pod's value
 * wins over the namespace's; absent on both: DEFAULT_INBOUND_MTLS_MODE.
 * - `strict`: only TLS connections presenting a workload certificate of the mesh reach the app;
 * - `permissive`: those, and plaintext connections too (migration, non-meshed callers such as
 *   ingress controllers or Prometheus).
 * Any other value: the controller serves `strict` and reports the problem (log and pod Event naming
 * the annotation and value); fsm-injector warns at admission.
 */
export const INBOUND_MTLS_ANNOTATION = 'flomesh.io/inbound-mtls';
export const INBOUND_MTLS_MODES = ['strict', 'permissive'] as const;
export type InboundMtlsMode = (typeof INBOUND_MTLS_MODES)[number];
export const DEFAULT_INBOUND_MTLS_MODE: InboundMtlsMode = 'strict';

/**
 * The request header an HTTP app port receives the caller's identity in (Envoy's
 * x-forwarded-client-cert, `URI=spiffe://…`): set by the proxy from the verified client certificate,
 * and stripped from every request that did not come over mTLS (no caller can forge it).
 */
export const CLIENT_CERT_HEADER = 'x-forwarded-client-cert';

/**
 * Container port names whose inbound traffic is HTTP (Istio's port naming convention
 * `<protocol>[-<suffix>]`, e.g. `http`, `http-web`, `grpc-api`): those ports get an HTTP connection
 * manager (the caller's identity in CLIENT_CERT_HEADER); every other port is proxied as TCP.
 */
export const HTTP_PORT_PROTOCOLS: readonly string[] = ['http', 'http2', 'grpc', 'grpc-web', 'h2c'];

/** Connect timeout of a meshed Service's cluster and of the outbound passthrough. */
export const OUTBOUND_CONNECT_TIMEOUT_SECONDS = 5;

/**
 * Sandbox, loopback mode (no network namespace, nothing intercepts): set by the node agent for the
 * processes of a meshed pod to `<pod address>:15001`, the sidecar's outbound capture listener. A
 * meshed client dials it and opens the connection with a PROXY protocol v1 header naming its
 * original destination (`PROXY TCP4 <src> <dst> <sport> <dport>\r\n`), which the probe agent reads
 * as Envoy's proxy_protocol listener filter does. Absent: connections are intercepted (fsm-init's
 * rules) and the client dials its destination directly.
 */
export const SANDBOX_OUTBOUND_PROXY_ENV = 'FSM_SANDBOX_OUTBOUND_PROXY';

/**
 * Sandbox demo: the container env var naming what the bookbuyer client calls, `http://<host>:<port>/<path>`
 * (the demo points it at the bookstore Service's ClusterIP, DEMO_BOOKSTORE_CLUSTER_IP).
 */
export const SANDBOX_BOOKBUYER_TARGET_ENV = 'BOOKSTORE_URL';
/** The fixed ClusterIP of the demo's bookstore-v1 Service, so bookbuyer can call it without DNS. */
export const DEMO_BOOKSTORE_CLUSTER_IP = '10.96.250.14';
/** How often the demo's bookbuyer buys a book (ms). */
export const SANDBOX_BOOKBUYER_PERIOD_MS = 3000;
