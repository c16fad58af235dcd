/**
 * Access log lines of the data plane: a configured format (config/access-log.ts) filled from what
 * one connection or request did. Unknown values print `-`, as Envoy prints them.
 */
import type { AccessLogModel } from './model.js';

/** What a connection (tcp_proxy) or a request (HTTP connection manager) did. */
export interface AccessLogValues {
  start: Date;
  downstreamRemote?: string;
  downstreamLocal?: string;
  /** The client's verified SPIFFE ID (mTLS). */
  peerUri?: string;
  upstreamCluster?: string;
  upstreamHost?: string;
  /** Envoy's response flags (`UF` upstream connection failure, `NR` no route, …); '' none. */
  responseFlags?: string;
  responseCode?: number;
  bytesReceived?: number;
  bytesSent?: number;
  durationMs?: number;
  protocol?: string;
  /** Request headers (lower-case names), and `:method`, `:path`. */
  request?: Readonly<Record<string, string | string[] | undefined>>;
}

function requestValue(values: AccessLogValues, arg: string): string | undefined {
  // REQ(X?Y): X, else Y.
  for (const name of arg.toLowerCase().split('?')) {
    const v = values.request?.[name];
    if (v !== undefined) return Array.isArray(v) ? v.join(',') : v;
  }
  return undefined;
}

function valueOf(values: AccessLogValues, operator: string, arg?: string): string | undefined {
  switch (operator) {
    case 'START_TIME':
      return values.start.toISOString();
    case 'DOWNSTREAM_REMOTE_ADDRESS':
      return values.downstreamRemote;
    case 'DOWNSTREAM_LOCAL_ADDRESS':
      return values.downstreamLocal;
    case 'DOWNSTREAM_PEER_URI_SAN':
      return values.peerUri;
    case 'UPSTREAM_CLUSTER':
      return values.upstreamCluster;
    case 'UPSTREAM_HOST':
      return values.upstreamHost;
    case 'RESPONSE_FLAGS':
      return values.responseFlags || '-';
    case 'RESPONSE_CODE':
      return values.responseCode === undefined ? '0' : String(values.responseCode);
    case 'BYTES_RECEIVED':
      return String(values.bytesReceived ?? 0);
    case 'BYTES_SENT':
      return String(values.bytesSent ?? 0);
    case 'DURATION':
      return values.durationMs === undefined ? undefined : String(Math.round(values.durationMs));
    case 'PROTOCOL':
      return values.protocol;
    case 'REQ':
      return arg === undefined ? undefined : requestValue(values, arg);
    default:
      return undefined;
  }
}

/** The line of one access log (without its trailing newline). */
export function formatAccessLog(log: AccessLogModel, values: AccessLogValues): string {
  let out = '';
  for (const part of log.format) {
    if ('text' in part) {
      out += part.text;
      continue;
    }
    let v = valueOf(values, part.operator, part.arg) ?? '-';
    if (part.max !== undefined) v = v.slice(0, part.max);
    out += v;
  }
  return out.replace(/\n$/, '');
}
