/**
 * Every port of the seed, in one place. Kubelet, sidecars, operators and the deploy manifests
 * rely on these numbers: change them only through the architecture contract.
 */

/** Rewritten httpGet liveness probes arrive here (proxy listener `liveness_listener`). */
export const LIVENESS_PROBE_PORT = 15901;
/** Rewritten httpGet readiness probes arrive here (proxy listener `readiness_listener`). */
export const READINESS_PROBE_PORT = 15902;
/** Rewritten httpGet startup probes arrive here (proxy listener `startup_listener`). */
export const STARTUP_PROBE_PORT = 15903;
/** fsm-healthcheck: rewritten tcpSocket and grpc probes arrive here as GET /fsm-healthcheck. */
export const HEALTHCHECK_PORT = 15904;

/** Ports kubelet must reach directly: fsm-init adds iptables RETURN rules for them. */
export const PROBE_BYPASS_PORTS: readonly number[] = [
  LIVENESS_PROBE_PORT,
  READINESS_PROBE_PORT,
  STARTUP_PROBE_PORT,
  HEALTHCHECK_PORT,
];

/** fsm-injector HTTPS webhook (POST /mutate-pod-creation, GET /healthz). */
export const INJECTOR_WEBHOOK_PORT = 9090;
/** fsm-controller health (/health/alive, /health/ready), /metrics, /version and debug. */
export const CONTROLLER_HEALTH_PORT = 9091;
/** fsm-injector metrics (/metrics) — same number as the controller's health port, separate pod. */
export const INJECTOR_METRICS_PORT = 9091;
/** fsm-controller Envoy v3 Aggregated Discovery Service (gRPC). */
export const ADS_PORT = 15128;

/** Envoy sidecar: admin interface (bound to 127.0.0.1 only). */
export const PROXY_ADMIN_PORT = 15000;
/** Envoy sidecar: outbound capture listener (iptables REDIRECT target for pod egress). */
export const PROXY_OUTBOUND_PORT = 15001;
/** Envoy sidecar: inbound capture listener (iptables REDIRECT target for pod ingress). */
export const PROXY_INBOUND_PORT = 15003;
/** Envoy sidecar: stats / prometheus scrape port. */
export const PROXY_STATS_PORT = 15010;

/** UID the sidecar runs as; fsm-init exempts its traffic from redirection. */
export const PROXY_UID = 1500;
/** Non-root UID for fsm-healthcheck and control-plane containers. */
export const NON_ROOT_UID = 65532;
