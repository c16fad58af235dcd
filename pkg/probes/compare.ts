/**
 * The one comparison of a live probe (the pod's container as it is now) against its record: does
 * kubelet still call exactly what fsm serves for it? The catalog reports a difference as a problem of
 * the proxy; `fsm check probes` fails its rewrite check on it. Both use this function, so they cannot
 * disagree.
 *
 * Compared as kubelet sends the request: the port (a decimal or named port resolved against the
 * container, as kubelet does), the scheme (unset is HTTP), the host (must be unset: the pod itself),
 * the path (exactly, except that an HTTPS probe keeps its own path — see keepsHttpsPath) and the
 * headers (names case-insensitive, the values of one name in order, as Go's http.Header holds them).
 */
import { PROBE_TYPE_INFO } from '../constants/index.js';
import type { HookType, ProbeType } from '../constants/index.js';
import type { OriginalProbe, ProbeHeader } from './record.js';
import { keepsHttpsPath, rewrittenHttpGet } from './rewrite.js';
import type { RewrittenHttpGet } from './rewrite.js';

/** The parts of a live httpGet handler kubelet uses. Structural: a V1HTTPGetAction fits. */
export interface LiveHttpGet {
  readonly port: number | string;
  readonly path?: string;
  readonly scheme?: string;
  readonly host?: string;
  readonly httpHeaders?: readonly { readonly name: string; readonly value: string }[];
}

export interface LiveProbe {
  readonly httpGet?: LiveHttpGet;
  readonly tcpSocket?: unknown;
  readonly grpc?: unknown;
  readonly exec?: unknown;
}

/** A lifecycle handler as kubelet runs it (only httpGet is ever rewritten). */
export interface LiveHandler {
  readonly httpGet?: LiveHttpGet;
  readonly exec?: unknown;
  readonly sleep?: unknown;
  readonly tcpSocket?: unknown;
}

export interface LiveContainer {
  readonly name: string;
  readonly lifecycle?: {
    readonly postStart?: LiveHandler | null;
    readonly preStop?: LiveHandler | null;
  } | null;
  readonly livenessProbe?: LiveProbe | null;
  readonly readinessProbe?: LiveProbe | null;
  readonly startupProbe?: LiveProbe | null;
  readonly ports?: readonly { readonly containerPort: number; readonly name?: string }[];
}

/**
 * - `missing`: the container has no such probe any more;
 * - `not-http-get`: the probe has another handler (exec, tcpSocket, grpc) or none;
 * - `differs`: an httpGet that calls something else (port, path, scheme, host or headers).
 */
export type ProbeDriftKind = 'missing' | 'not-http-get' | 'differs';

export interface ProbeDrift {
  kind: ProbeDriftKind;
  /** What kubelet must call, per the record. */
  expected: RewrittenHttpGet;
  /** `container <c> <field> ..., but the annotation records its rewrite to ...`. */
  message: string;
}

function isPort(n: unknown): n is number {
  return typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= 65535;
}

/**
 * Resolves a probe's port against its container, as kubelet does: a number is taken as is; a string
 * is a container port name, or failing that a decimal number. Undefined when it does not resolve to
 * 1-65535.
 */
export function resolveProbePort(
  port: unknown,
  container: { readonly name?: string; readonly ports?: LiveContainer['ports'] },
): number | undefined {
  if (typeof port === 'number') return isPort(port) ? port : undefined;
  if (typeof port !== 'string' || port === '') return undefined;
  const named = (container.ports ?? []).find((p) => p.name === port);
  if (named) return isPort(named.containerPort) ? named.containerPort : undefined;
  if (/^[0-9]+$/.test(port)) {
    const n = Number(port);
    return isPort(n) ? n : undefined;
  }
  return undefined;
}

/** Headers as Go's http.Header holds them: by case-insensitive name, values in order. */
function headerMap(headers: readonly ProbeHeader[]): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const h of headers) {
    const k = h.name.toLowerCase();
    m.set(k, [...(m.get(k) ?? []), h.value]);
  }
  return m;
}

function sameHeaders(a: readonly ProbeHeader[], b: readonly ProbeHeader[]): boolean {
  const ma = headerMap(a);
  const mb = headerMap(b);
  if (ma.size !== mb.size) return false;
  for (const [k, va] of ma) {
    const vb = mb.get(k);
    if (!vb || vb.length !== va.length || va.some((v, i) => v !== vb[i])) return false;
  }
  return true;
}

function showHeaders(h: readonly ProbeHeader[] | undefined): string {
  return `[${(h ?? []).map((x) => `${x.name}: ${x.value}`).join(', ')}]`;
}

/**
 * Undefined when the container's probe of `type` calls exactly what `record` says kubelet calls after
 * the rewrite; otherwise what differs.
 */
export function compareProbe(
  container: LiveContainer,
  type: ProbeType,
  record: OriginalProbe,
): ProbeDrift | undefined {
  const field = PROBE_TYPE_INFO[type].field;
  return compareHandler(container, field, 'probe', container[field], record);
}

/**
 * Undefined when the container's lifecycle hook calls exactly what `record` says kubelet calls after
 * the rewrite; otherwise what differs (as {@link compareProbe}).
 */
export function compareHook(
  container: LiveContainer,
  hook: HookType,
  record: OriginalProbe,
): ProbeDrift | undefined {
  return compareHandler(container, `lifecycle.${hook}`, 'hook', container.lifecycle?.[hook], record);
}

function compareHandler(
  container: LiveContainer,
  field: string,
  what: 'probe' | 'hook',
  live: LiveProbe | LiveHandler | null | undefined,
  record: OriginalProbe,
): ProbeDrift | undefined {
  const expected = rewrittenHttpGet(record);
  const want = `httpGet port ${expected.port} path ${expected.path}`;
  const g = live?.httpGet;
  if (!g) {
    const kind = live === undefined || live === null ? 'missing' : 'not-http-get';
    const now = kind === 'missing' ? `has no such ${what}` : `is not an httpGet ${what}`;
    return {
      kind,
      expected,
      message: `container ${container.name} ${field} ${now}, but the annotation records its rewrite to ${want}`,
    };
  }
  const path = g.path ?? '';
  const scheme = g.scheme || 'HTTP';
  const portDiffers = resolveProbePort(g.port, container) !== expected.port;
  const pathDiffers =
    record.kind === 'https' && record.tls === undefined
      ? !keepsHttpsPath(expected.path, path)
      : path !== expected.path;
  const schemeDiffers = scheme !== expected.scheme;
  const hostDiffers = g.host !== undefined && g.host !== '';
  const headersDiffer = !sameHeaders(g.httpHeaders ?? [], expected.httpHeaders ?? []);
  if (!portDiffers && !pathDiffers && !schemeDiffers && !hostDiffers && !headersDiffer) return undefined;
  // Port and path are always named; scheme, host and headers when they are what differs.
  let now = `httpGet port ${JSON.stringify(g.port)} path ${JSON.stringify(path)}`;
  let recorded = want;
  if (schemeDiffers) {
    now += ` scheme ${JSON.stringify(scheme)}`;
    recorded += ` scheme ${expected.scheme}`;
  }
  if (hostDiffers) {
    now += ` host ${JSON.stringify(g.host)}`;
    recorded += ' to the pod itself (no host)';
  }
  if (headersDiffer) {
    now += ` headers ${showHeaders(g.httpHeaders)}`;
    recorded += ` headers ${showHeaders(expected.httpHeaders)}`;
  }
  return {
    kind: 'differs',
    expected,
    message: `container ${container.name} ${field} targets ${now}, but the annotation records its rewrite to ${recorded}`,
  };
}
