/**
 * Defensive limits of fsm's HTTP servers (the controller's :9091, the injector's webhook and
 * metrics, fsm-healthcheck), applied by pkg/binary's createHttpServer/createHttpsServer. Their
 * clients — kubelet probes, the API server, Prometheus — send a whole request at once and never
 * pipeline; anything slower or greedier is a broken or hostile client and loses its connection.
 */

/** The complete request head must arrive within this (from connect, or from the previous answer). */
export const HTTP_HEADERS_TIMEOUT_MS = 10_000;
/** The complete request (head and body) must arrive within this: kube-apiserver waits ≤ 30 s. */
export const HTTP_REQUEST_TIMEOUT_MS = 30_000;
/** A connection with no request in flight that stays silent this long is closed. */
export const HTTP_IDLE_TIMEOUT_MS = 10_000;
/** Idle time allowed between two requests on a keep-alive connection (Node's default). */
export const HTTP_KEEPALIVE_TIMEOUT_MS = 5_000;
/** The webhook's keep-alive: the API server reuses its connections between admissions. */
export const WEBHOOK_KEEPALIVE_TIMEOUT_MS = 65_000;
/** A TLS client must finish its handshake within this (Node's default is 120 s). */
export const TLS_HANDSHAKE_TIMEOUT_MS = 10_000;
/** How often the head/request timeouts are checked (Node's default is 30 s). */
export const HTTP_TIMEOUT_CHECK_INTERVAL_MS = 1_000;
/**
 * Open connections per server. Over the cap the oldest connection without a request in flight is
 * closed, so a flood of idle connections never locks a prober out.
 */
export const HTTP_MAX_CONNECTIONS = 1_000;
/**
 * Bytes of a connection handed to the HTTP parser at a time: Node parses every request in what it
 * is given at once, so this bounds how many pipelined requests one read can make it build.
 */
export const HTTP_PARSE_SLICE_BYTES = 512;
/** Requests a connection may send while another of its requests is unanswered (pipelined). */
export const HTTP_MAX_PIPELINED_REQUESTS = 4;
