/**
 * Why a rewritten probe fails: from what its rewritten endpoint answers, the root cause kubelet cannot
 * see (kubelet only records "HTTP probe failed with statuscode: 503"). Pure; the controller's probe
 * diagnosis calls the endpoint exactly as kubelet does and hands the answer here.
 *
 * Where the cause comes from:
 * - the proxy's probe listeners (http, and https with TLS origination): when the proxy answers
 *   instead of the app, Envoy's local reply body says why, in words that encode its response flags —
 *   `upstream connect error or disconnect/reset before headers. reset reason: <reason>[, transport
 *   failure reason: <detail>]` (UF: connection failure, with `delayed connect error: 111` for a
 *   refused connection and `TLS_error:...` for a failed handshake; connection timeout; UC: connection
 *   termination), `upstream request timeout` (UT), `no healthy upstream` (UH). Envoy's default local
 *   replies: nothing to configure, so every Envoy (and the sandbox's probe agent, which answers in the
 *   same words) reports the same way. Any other answer is the app's own;
 * - an HTTPS probe whose TLS passes through: the proxy only relays bytes, so an answer is the app's
 *   own and a connection closed before the TLS handshake is all there is to say;
 * - fsm-healthcheck (tcp, grpc): its 503 body names the reason (`Failed to establish connection to
 *   <target>: connection refused`, `gRPC health check of <target>: NOT_SERVING`).
 *
 * Limits: an app whose own error body is word for word one of Envoy's local replies is taken for the
 * proxy (it usually is a proxy reporting its own upstream); an empty 404 may be the proxy's (no route)
 * or the app's, and is reported as the app's status.
 */
import { HOOK_TYPES } from '../constants/index.js';
import type { RecordSlot } from '../constants/index.js';
import type { OriginalProbe } from './record.js';

/** What calling a rewritten probe endpoint gave. */
export interface ProbeAnswer {
  /** The HTTP status, when an answer came. */
  status?: number;
  /** The start of the body, when an answer came. */
  body?: string;
  /** No answer: the transport error. */
  error?: { code?: string; message: string };
  /** No answer within the probe's timeout. */
  timedOut?: boolean;
}

/** The root causes `ProbeTargetFailed` events name. */
export type ProbeFailureCause =
  | 'connection refused'
  | 'timeout'
  | 'app status'
  | 'TLS failure'
  | 'connection closed'
  | 'connection failure'
  | 'proxy configuration'
  | 'probe endpoint unreachable';

export interface ProbeFailure {
  cause: ProbeFailureCause;
  /** One sentence: what failed, where (the app's address and port). */
  detail: string;
}

function appAddress(p: OriginalProbe): string {
  return `127.0.0.1:${p.port}`;
}

function seconds(p: OriginalProbe): string {
  return `${Math.max(1, p.timeoutSeconds)}s`;
}

const TLS_ERROR = /TLS|SSL|certificate|handshake|EPROTO|WRONG_VERSION/i;

/** A failed connection to the app, classified from a free-text reason (Envoy's or a socket's). */
function connectionFailure(p: OriginalProbe, text: string, closed: boolean): ProbeFailure {
  const at = appAddress(p);
  if (TLS_ERROR.test(text)) {
    return { cause: 'TLS failure', detail: `the TLS handshake with the app on ${at} failed (${text})` };
  }
  if (/time(d)?[ _-]?out/i.test(text)) {
    return { cause: 'timeout', detail: `connecting to the app on ${at} timed out` };
  }
  if (/refused|\b111\b|ECONNREFUSED/i.test(text)) {
    return { cause: 'connection refused', detail: `connection refused by ${at}: nothing listens there` };
  }
  if (closed || /termination|reset|ECONNRESET|closed/i.test(text)) {
    return { cause: 'connection closed', detail: `the app on ${at} closed the connection before answering` };
  }
  return { cause: 'connection failure', detail: `connecting to the app on ${at} failed (${text})` };
}

/** Envoy's local reply bodies (text/plain) and the response flag each one stands for. */
const UPSTREAM_RESET =
  /^upstream connect error or disconnect\/reset before headers\. (?:retried and the latest )?reset reason: ([^,]+)(?:, transport failure reason: (.*))?$/s;
const UPSTREAM_TIMEOUT = 'upstream request timeout';
const NO_HEALTHY_UPSTREAM = 'no healthy upstream';

/** The proxy's own answer, when the body is one of Envoy's local replies; undefined otherwise. */
function proxyReply(p: OriginalProbe, status: number, body: string): ProbeFailure | undefined {
  const text = body.trim();
  if (text === UPSTREAM_TIMEOUT) {
    return { cause: 'timeout', detail: `the app on ${appAddress(p)} did not answer within ${seconds(p)}` };
  }
  if (text === NO_HEALTHY_UPSTREAM) {
    return {
      cause: 'proxy configuration',
      detail: `the proxy answered ${status} "${NO_HEALTHY_UPSTREAM}": its cluster for this probe has no endpoint`,
    };
  }
  const reset = UPSTREAM_RESET.exec(text);
  if (!reset) return undefined;
  const reason = reset[1]!.trim();
  const transport = reset[2]?.trim();
  return connectionFailure(
    p,
    transport ? `${reason}: ${transport}` : reason,
    /termination|reset/.test(reason),
  );
}

const HEALTHCHECK_TCP = /^Failed to establish connection to \S+: (.*)$/;
const HEALTHCHECK_GRPC = /^gRPC health check of .*: ([^:]+)$/;
const GRPC_STATUSES = new Set(['NOT_SERVING', 'SERVICE_UNKNOWN', 'UNKNOWN']);

/** fsm-healthcheck's answer (tcp and grpc probes). */
function healthcheckReply(p: OriginalProbe, status: number, body: string): ProbeFailure {
  const line = body.trim().split('\n', 1)[0] ?? '';
  const tcp = HEALTHCHECK_TCP.exec(line);
  if (tcp) return connectionFailure(p, tcp[1]!, false);
  const grpc = HEALTHCHECK_GRPC.exec(line);
  if (grpc) {
    const reason = grpc[1]!.trim();
    if (GRPC_STATUSES.has(reason)) {
      return {
        cause: 'app status',
        detail: `the app's gRPC health service on ${appAddress(p)} answered ${reason}`,
      };
    }
    return connectionFailure(p, reason, false);
  }
  return {
    cause: 'probe endpoint unreachable',
    detail: `fsm-healthcheck answered ${status}${line ? `: ${line}` : ''}`,
  };
}

/**
 * The root cause of a failing rewritten probe from its endpoint's answer; undefined when the answer
 * is a success (status 200-399, as kubelet counts it).
 */
export function diagnoseProbeAnswer(record: OriginalProbe, answer: ProbeAnswer): ProbeFailure | undefined {
  const endpoint = `:${record.rewritten.port}`;
  const passthrough = record.kind === 'https' && record.tls === undefined;
  if (answer.status === undefined) {
    if (answer.timedOut) {
      return passthrough
        ? {
            cause: 'timeout',
            detail: `the app on ${appAddress(record)} did not answer within ${seconds(record)}`,
          }
        : { cause: 'timeout', detail: `no answer on ${endpoint} within ${seconds(record)}` };
    }
    const err = answer.error ?? { message: 'no answer' };
    if (err.code === 'ECONNREFUSED') {
      return {
        cause: 'probe endpoint unreachable',
        detail: `nothing listens on ${endpoint} (the sidecar is not running or has not received its configuration)`,
      };
    }
    if (passthrough) {
      // The proxy relays TLS bytes: a connection it closes before the handshake means it could not
      // connect to the app; a TLS error is the app's own.
      if (TLS_ERROR.test(`${err.code ?? ''} ${err.message}`) && !/before secure TLS/i.test(err.message)) {
        return {
          cause: 'TLS failure',
          detail: `the TLS handshake with the app on ${appAddress(record)} failed (${err.message})`,
        };
      }
      return {
        cause: 'connection failure',
        detail: `the proxy closed the connection before the TLS handshake: the app on ${appAddress(record)} refused it or did not accept it in time (TLS passes through the proxy, which adds no detail)`,
      };
    }
    return { cause: 'probe endpoint unreachable', detail: `calling ${endpoint} failed (${err.message})` };
  }
  const status = answer.status;
  if (status >= 200 && status < 400) return undefined;
  if (record.kind === 'tcp' || record.kind === 'grpc')
    return healthcheckReply(record, status, answer.body ?? '');
  const proxy = passthrough ? undefined : proxyReply(record, status, answer.body ?? '');
  return proxy ?? { cause: 'app status', detail: `the app on ${appAddress(record)} answered ${status}` };
}

/** The original target as operators wrote it: `httpGet https://:8443/ready`, `tcpSocket :5432`. */
export function describeOriginalTarget(p: OriginalProbe): string {
  switch (p.kind) {
    case 'http':
    case 'https':
      return `httpGet ${p.scheme.toLowerCase()}://:${p.port}${p.path || '/'}`;
    case 'tcp':
      return `tcpSocket :${p.port}`;
    case 'grpc':
      return `grpc :${p.port}${p.grpcService ? ` service ${p.grpcService}` : ''}`;
  }
}

function slotLabel(slot: RecordSlot): string {
  if ((HOOK_TYPES as readonly string[]).includes(slot))
    return `${slot.charAt(0).toUpperCase()}${slot.slice(1)} hook`;
  return `${slot.charAt(0).toUpperCase()}${slot.slice(1)} probe`;
}

/**
 * The message of a ProbeTargetFailed event: the probe, the cause, what failed, and the original
 * target with where kubelet is sent now. E.g. `Readiness probe of container app: connection refused:
 * connection refused by 127.0.0.1:14002: nothing listens there (original target httpGet
 * http://:14002/ready; kubelet calls :15902/fsm-readiness-probe)`.
 */
export function probeFailureMessage(
  slot: RecordSlot,
  container: string,
  record: OriginalProbe,
  failure: ProbeFailure,
): string {
  const { port, path } = record.rewritten;
  return (
    `${slotLabel(slot)} of container ${container}: ${failure.cause}: ${failure.detail} ` +
    `(original target ${describeOriginalTarget(record)}; kubelet calls :${port}${path})`
  );
}
