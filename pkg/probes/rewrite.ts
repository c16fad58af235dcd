/**
 * The probe rewrite contract: from an original probe handler, the target kubelet is sent to and the
 * exact httpGet it calls. This file is the only place a rewritten port or path is made; the injector
 * (which rewrites pods), the record decoder (which checks `rewritten`), the catalog (which serves and
 * shows it) and `fsm check probes` (which compares) all call it.
 *
 * - httpGet HTTP: port → 1590x, path → /fsm-<type>-probe, or /fsm-<type>-probe/<container> when
 *   several containers' HTTP probes of the type share the proxy listener.
 * - httpGet HTTPS, the first of its type in the pod: port → 1590x; scheme, headers and path are kept
 *   (TLS passes through the proxy to the app, so kubelet's request reaches the app as written). The
 *   record holds the request target kubelet sends ('/' for an empty path); see {@link keepsHttpsPath}.
 * - httpGet HTTPS, any other of its type (`tls: "originate"`): port → 1590x, path →
 *   /fsm-<type>-probe/<container>, scheme → HTTP, headers kept; the proxy opens the TLS connection to
 *   the app, without verifying its certificate — exactly what kubelet's HTTPS probes do.
 * - lifecycle hooks (postStart / preStop httpGet): port → 15903 (the startup listener), path →
 *   /fsm-poststart-hook/<container> or /fsm-prestop-hook/<container>, scheme → HTTP (an HTTPS hook's
 *   TLS is originated by the proxy), headers kept.
 * - tcpSocket → httpGet :15904 /fsm-healthcheck with Original-Tcp-Port; grpc → the same with
 *   Original-Grpc-Port (and Original-Grpc-Service when set).
 *
 * Pure: no I/O, no clock.
 */
import type { V1LifecycleHandler, V1Probe } from '@kubernetes/client-node';
import {
  DEFAULT_PROBE_TIMEOUT_SECONDS,
  HEALTHCHECK_PATH,
  HEALTHCHECK_PORT,
  HOOK_TYPE_INFO,
  ORIGINAL_GRPC_PORT_HEADER,
  ORIGINAL_GRPC_SERVICE_HEADER,
  ORIGINAL_TCP_PORT_HEADER,
  PROBE_TYPE_INFO,
} from '../constants/index.js';
import type { RecordSlot } from '../constants/index.js';
import { rewriteTarget as requestTarget } from '../envoy/builders/index.js';
import type { OriginalProbe, OriginalProbeKind, ProbeHeader, RewrittenTarget } from './record.js';

/** An original probe handler as the injector read it: ports resolved, fields checked for HTTP syntax. */
export type OriginalHandler =
  | { kind: 'http' | 'https'; port: number; path: string; headers?: readonly ProbeHeader[] }
  | { kind: 'tcp'; port: number }
  | { kind: 'grpc'; port: number; service?: string };

/** Where the probe (or lifecycle hook) is in the pod. */
export interface ProbeSlot {
  type: RecordSlot;
  container: string;
  /** HTTP probes of this type from several containers share the listener: each gets its own path. */
  perContainerPath: boolean;
  /** An HTTPS probe the proxy speaks TLS for (every HTTPS hook, every HTTPS probe but one per type). */
  tls?: 'originate';
}

function isHook(slot: RecordSlot): slot is keyof typeof HOOK_TYPE_INFO {
  return Object.hasOwn(HOOK_TYPE_INFO, slot);
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
  if (isHook(slot.type)) {
    // Hooks always go through the proxy, each container at its own path.
    const hook = HOOK_TYPE_INFO[slot.type];
    return { port: hook.port, path: `${hook.path}/${slot.container}` };
  }
  const info = PROBE_TYPE_INFO[slot.type];
  switch (kind) {
    case 'http':
      return { port: info.port, path: slot.perContainerPath ? `${info.path}/${slot.container}` : info.path };
    case 'https':
      if (slot.tls === 'originate') return { port: info.port, path: `${info.path}/${slot.container}` };
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
      const target = { port: original.port, path: original.path, ...headers, timeoutSeconds };
      if (original.kind === 'http') return { kind: 'http', scheme: 'HTTP', ...target, rewritten };
      const tls = slot.tls === 'originate' ? { tls: 'originate' as const } : {};
      return { kind: 'https', scheme: 'HTTPS', ...target, ...tls, rewritten };
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

/** The httpGet kubelet calls for a recorded probe or hook (fresh objects). */
export function rewrittenHttpGet(p: OriginalProbe): RewrittenHttpGet {
  const { port, path } = p.rewritten;
  if (p.kind === 'http' || p.kind === 'https') {
    const headers =
      p.headers && p.headers.length > 0 ? { httpHeaders: p.headers.map((h) => ({ ...h })) } : {};
    // TLS originated by the proxy: kubelet speaks plain HTTP to the listener.
    const scheme = p.kind === 'https' && p.tls === 'originate' ? 'HTTP' : p.scheme;
    return { port, path, scheme, ...headers };
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
    if (record.kind === 'https' && record.tls === 'originate') {
      httpGet.path = call.path;
      httpGet.scheme = call.scheme;
    }
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

/**
 * A lifecycle hook handler as kubelet runs it after the rewrite (a fresh object; `handler` is not
 * modified): its httpGet calls {@link rewrittenHttpGet} of the record — port, path and (for HTTPS,
 * whose TLS the proxy originates) scheme change; host stays unset, headers stay as written.
 */
export function rewriteHook(handler: V1LifecycleHandler, record: OriginalProbe): V1LifecycleHandler {
  const call = rewrittenHttpGet(record);
  const httpGet = { ...(handler.httpGet ?? { port: call.port }), port: call.port, path: call.path };
  // An unset scheme is HTTP already; a written one becomes HTTP (HTTPS: the proxy speaks the TLS).
  if (handler.httpGet?.scheme !== undefined) httpGet.scheme = call.scheme;
  return { ...handler, httpGet };
}
