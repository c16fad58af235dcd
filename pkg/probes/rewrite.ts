/**
 * The probe rewrite contract: from an original probe handler, the target kubelet is sent to and the
 * exact httpGet it calls. This file is the only place a rewritten port or path is made; the injector
 * (which rewrites pods), the record decoder (which checks `rewritten`), the catalog (which serves and
 * shows it) and `fsm check probes` (which compares) all call it.
 *
 * - httpGet HTTP: port → 1590x, path → /fsm-<type>-probe, or /fsm-<type>-probe/<container> when
 *   several containers' HTTP probes of the type share the proxy listener.
 * - httpGet HTTPS: port → 1590x; scheme, headers and path are kept (TLS passes through the proxy to
 *   the app, so kubelet's request reaches the app as written). The record holds the request target
 *   kubelet sends ('/' for an empty path); see {@link keepsHttpsPath}.
 * - tcpSocket → httpGet :15904 /fsm-healthcheck with Original-Tcp-Port; grpc → the same with
 *   Original-Grpc-Port (and Original-Grpc-Service when set).
 *
 * Pure: no I/O, no clock.
 */
import type { V1Probe } from '@kubernetes/client-node';
import {
  DEFAULT_PROBE_TIMEOUT_SECONDS,
  HEALTHCHECK_PATH,
  HEALTHCHECK_PORT,
  ORIGINAL_GRPC_PORT_HEADER,
  ORIGINAL_GRPC_SERVICE_HEADER,
  ORIGINAL_TCP_PORT_HEADER,
  PROBE_TYPE_INFO,
} from '../constants/index.js';
import type { ProbeType } from '../constants/index.js';
import { rewriteTarget as requestTarget } from '../envoy/builders/index.js';
import type { OriginalProbe, OriginalProbeKind, ProbeHeader, RewrittenTarget } from './record.js';

/** An original probe handler as the injector read it: ports resolved, fields checked for HTTP syntax. */
export type OriginalHandler =
  | { kind: 'http' | 'https'; port: number; path: string; headers?: readonly ProbeHeader[] }
  | { kind: 'tcp'; port: number }
  | { kind: 'grpc'; port: number; service?: string };

/** Where the probe is in the pod. */
export interface ProbeSlot {
  type: ProbeType;
  container: string;
  /** HTTP probes of this type from several containers share the listener: each gets its own path. */
  perContainerPath: boolean;
}

/** The httpGet kubelet calls after the rewrite. */
export interface RewrittenHttpGet {
  port: number;
  path: string;
  scheme: 'HTTP' | 'HTTPS';
  /** Absent when kubelet sends no header of its own. */
  httpHeaders?: ProbeHeader[];
}

/**
 * An HTTPS probe keeps its path: `path` is the original `originalPath` as kubelet requests it — ''
 * and '/' alike, a missing leading '/', a '#fragment' and percent-encoding do not make another target.
 */
export function keepsHttpsPath(originalPath: string, path: string): boolean {
  return requestTarget(path) === requestTarget(originalPath);
}

/** Where kubelet is sent for a probe of `kind` in `slot`: the record's `rewritten`. */
export function rewrittenTarget(
  kind: OriginalProbeKind,
  originalPath: string,
  slot: ProbeSlot,
): RewrittenTarget {
  const info = PROBE_TYPE_INFO[slot.type];
  switch (kind) {
    case 'http':
      return { port: info.port, path: slot.perContainerPath ? `${info.path}/${slot.container}` : info.path };
    case 'https':
      // kubelet requests '/' for an empty path; any other path is kept as written.
      return { port: info.port, path: originalPath || '/' };
    case 'tcp':
    case 'grpc':
      return { port: HEALTHCHECK_PORT, path: HEALTHCHECK_PATH };
  }
}

/** The timeout kubelet applies: timeoutSeconds when it is a positive integer, else Kubernetes' default. */
export function effectiveTimeoutSeconds(timeoutSeconds: unknown): number {
  const t = timeoutSeconds;
  return typeof t === 'number' && Number.isInteger(t) && t >= 1 ? t : DEFAULT_PROBE_TIMEOUT_SECONDS;
}

/** The record of one rewritten probe: its original target and where kubelet is now sent. */
export function recordProbe(
  original: OriginalHandler,
  slot: ProbeSlot,
  timeoutSeconds: number,
): OriginalProbe {
  switch (original.kind) {
    case 'http':
    case 'https': {
      const headers =
        original.headers && original.headers.length > 0
          ? { headers: original.headers.map((h) => ({ name: h.name, value: h.value })) }
          : {};
      const rewritten = rewrittenTarget(original.kind, original.path, slot);
      const target = { port: original.port, path: original.path, ...headers, timeoutSeconds, rewritten };
      return original.kind === 'http'
        ? { kind: 'http', scheme: 'HTTP', ...target }
        : { kind: 'https', scheme: 'HTTPS', ...target };
    }
    case 'tcp':
      return {
        kind: 'tcp',
        port: original.port,
        timeoutSeconds,
        rewritten: rewrittenTarget('tcp', '', slot),
      };
    case 'grpc':
      return {
        kind: 'grpc',
        port: original.port,
        ...(original.service ? { grpcService: original.service } : {}),
        timeoutSeconds,
        rewritten: rewrittenTarget('grpc', '', slot),
      };
  }
}

/** Headers fsm-healthcheck reads to know what to check. */
function healthcheckHeaders(p: OriginalProbe): ProbeHeader[] {
  if (p.kind === 'tcp') return [{ name: ORIGINAL_TCP_PORT_HEADER, value: String(p.port) }];
  const headers = [{ name: ORIGINAL_GRPC_PORT_HEADER, value: String(p.port) }];
  if (p.kind === 'grpc' && p.grpcService)
    headers.push({ name: ORIGINAL_GRPC_SERVICE_HEADER, value: p.grpcService });
  return headers;
}

/** The httpGet kubelet calls for a recorded probe (fresh objects). */
export function rewrittenHttpGet(p: OriginalProbe): RewrittenHttpGet {
  const { port, path } = p.rewritten;
  if (p.kind === 'http' || p.kind === 'https') {
    const headers =
      p.headers && p.headers.length > 0 ? { httpHeaders: p.headers.map((h) => ({ ...h })) } : {};
    return { port, path, scheme: p.scheme, ...headers };
  }
  return { port, path, scheme: 'HTTP', httpHeaders: healthcheckHeaders(p) };
}

/**
 * `probe` as kubelet runs it after the rewrite (a fresh object; `probe` is not modified): its handler
 * now calls {@link rewrittenHttpGet}. An httpGet probe keeps the fields the rewrite does not change as
 * the user wrote them (an unset scheme stays unset, an HTTPS path stays as written); a tcpSocket or
 * grpc probe gets an httpGet in place of its handler. Other probe fields (periods, thresholds) stay.
 */
export function rewriteProbe(probe: V1Probe, record: OriginalProbe): V1Probe {
  const call = rewrittenHttpGet(record);
  if ((record.kind === 'http' || record.kind === 'https') && probe.httpGet) {
    const httpGet = { ...probe.httpGet, port: call.port };
    if (record.kind === 'http') httpGet.path = call.path;
    return { ...probe, httpGet };
  }
  const rest: V1Probe = { ...probe };
  delete rest.tcpSocket;
  delete rest.grpc;
  delete rest.httpGet;
  delete rest.exec;
  const { port, path, scheme, httpHeaders } = call;
  return { ...rest, httpGet: { port, path, scheme, ...(httpHeaders ? { httpHeaders } : {}) } };
}
