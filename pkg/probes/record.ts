/**
 * The record of the original probes: what the injector writes in the ORIGINAL_PROBES_ANNOTATION pod
 * annotation (JSON {@link OriginalProbesAnnotation}) and what the controller and the CLI read back.
 *
 * Decoding checks everything — version, shape, ranges, and that the rewritten target is one the
 * rewrite ({@link rewrittenTarget}) produces — because the proxy config is built from it: a bad value
 * becomes a clear message naming the pod, the annotation, the field and the value, never a NACKed push
 * or a thrown error.
 *
 * Growing the record: a new kind is a new member of the {@link OriginalProbe} union (and a case in
 * rewrite.ts); a new slot next to the probe types is a new key in {@link RECORD_SLOTS}; a new
 * top-level field is a new entry in {@link TOP_LEVEL_FIELDS}. Readers reject what they do not know,
 * so a change old readers must not misread bumps {@link ORIGINAL_PROBES_VERSION}; an addition they
 * reject (an unknown field) needs no bump, and leaves every record that does not use it readable by
 * them — what keeps a rolling upgrade (new injector, old controller) serving.
 *
 * Additions since the seed, each rejected by a seed reader as an unknown field:
 * - `tls: "originate"` on an HTTPS probe: kubelet calls the probe listener over plain HTTP at a
 *   per-container path and the proxy opens the TLS connection to the app (every HTTPS probe of a
 *   type but the first; the first still passes TLS through);
 * - `hooks`: the rewritten postStart / preStop httpGet hooks, by container.
 * Which fsm wrote a pod, and in which format, is the injection stamp (./stamp.ts), a sibling
 * annotation: a field here would make every new record unreadable to an older controller.
 */
import { HOOK_TYPES, ORIGINAL_PROBES_ANNOTATION, PROBE_TYPES } from '../constants/index.js';
import type { HookType, ProbeType, RecordSlot } from '../constants/index.js';
import { hasControlChar, isHeaderName, isHeaderValue } from './http-syntax.js';
import { keepsHttpsPath, rewrittenTarget } from './rewrite.js';

/** The annotation format version this code writes and reads. */
export const ORIGINAL_PROBES_VERSION = 1;

/**
 * What a probe was before the rewrite.
 * - `http` / `https`: an httpGet probe, now served by the proxy's probe listener (1590x); an `https`
 *   probe with `tls: "originate"` reaches the listener as plain HTTP and the proxy speaks TLS to the
 *   app.
 * - `tcp` / `grpc`: a tcpSocket / grpc probe (or an HTTPS probe degraded to a TCP check), now an
 *   httpGet to fsm-healthcheck; the proxy needs no listener for it.
 */
export type OriginalProbeKind = 'http' | 'https' | 'tcp' | 'grpc';

export const ORIGINAL_PROBE_KINDS: readonly OriginalProbeKind[] = ['http', 'https', 'tcp', 'grpc'];

export interface ProbeHeader {
  name: string;
  value: string;
}

/** Where kubelet now sends the probe: port (1590x or 15904) and path. */
export interface RewrittenTarget {
  port: number;
  path: string;
}

interface RecordedProbe {
  /** The original target port, resolved to a number (named ports are resolved at admission). */
  port: number;
  /** Effective timeoutSeconds of the probe (Kubernetes default 1 when unset). */
  timeoutSeconds: number;
  rewritten: RewrittenTarget;
}

export interface HttpOriginalProbe extends RecordedProbe {
  kind: 'http';
  scheme: 'HTTP';
  /** httpGet path as written ('' when absent). */
  path: string;
  /** httpGet httpHeaders as written (absent when none). */
  headers?: ProbeHeader[];
}

export interface HttpsOriginalProbe extends RecordedProbe {
  kind: 'https';
  scheme: 'HTTPS';
  /** httpGet path as written ('' when absent). */
  path: string;
  /** httpGet httpHeaders as written (absent when none). */
  headers?: ProbeHeader[];
  /**
   * Absent: TLS passes through the proxy (kubelet's TLS reaches the app; the seed's rule, one per
   * probe type). `originate`: kubelet calls the listener over plain HTTP at a per-container path and
   * the proxy opens the TLS connection to the app, without verifying it (as kubelet does).
   */
  tls?: 'originate';
}

export interface TcpOriginalProbe extends RecordedProbe {
  kind: 'tcp';
}

export interface GrpcOriginalProbe extends RecordedProbe {
  kind: 'grpc';
  /** grpc probe service name, when set. */
  grpcService?: string;
}

export type OriginalProbe = HttpOriginalProbe | HttpsOriginalProbe | TcpOriginalProbe | GrpcOriginalProbe;

/** What the record holds per container: one entry per rewritten probe type. */
export const RECORD_SLOTS: readonly ProbeType[] = PROBE_TYPES;

/** Original probes by container name, then by probe type. Only rewritten probes appear. */
export type OriginalProbesByContainer = Record<string, Partial<Record<ProbeType, OriginalProbe>>>;

/** A rewritten lifecycle hook: always served by the proxy (HTTP, or HTTPS with TLS origination). */
export type OriginalHook = HttpOriginalProbe | (HttpsOriginalProbe & { tls: 'originate' });

/** Original lifecycle hooks by container name, then by hook. Only rewritten hooks appear. */
export type OriginalHooksByContainer = Record<string, Partial<Record<HookType, OriginalHook>>>;

/** JSON value of the ORIGINAL_PROBES_ANNOTATION pod annotation. */
export interface OriginalProbesAnnotation {
  /** Format version; readers reject versions they do not know. */
  v: typeof ORIGINAL_PROBES_VERSION;
  containers: OriginalProbesByContainer;
  /** Rewritten lifecycle hooks (absent when none). */
  hooks?: OriginalHooksByContainer;
}

/** True for an HTTPS probe whose TLS the proxy originates (kubelet calls it over plain HTTP). */
export function originatesTls(p: OriginalProbe): p is HttpsOriginalProbe & { tls: 'originate' } {
  return p.kind === 'https' && p.tls === 'originate';
}

/** True for an HTTPS probe whose TLS passes through the proxy to the app (the seed's rule). */
export function passesTlsThrough(p: OriginalProbe): p is HttpsOriginalProbe {
  return p.kind === 'https' && p.tls === undefined;
}

/** The original target as a Kubernetes probe handler (what the pod said before the rewrite). */
export interface OriginalHandlerView {
  httpGet?: { path: string; port: number; scheme: 'HTTP' | 'HTTPS'; httpHeaders?: ProbeHeader[] };
  tcpSocket?: { port: number };
  grpc?: { port: number; service?: string };
}

export function originalHandler(p: OriginalProbe): OriginalHandlerView {
  switch (p.kind) {
    case 'http':
    case 'https': {
      const headers =
        p.headers && p.headers.length > 0 ? { httpHeaders: p.headers.map((h) => ({ ...h })) } : {};
      return { httpGet: { path: p.path, port: p.port, scheme: p.scheme, ...headers } };
    }
    case 'tcp':
      return { tcpSocket: { port: p.port } };
    case 'grpc':
      return {
        grpc: p.grpcService !== undefined ? { port: p.port, service: p.grpcService } : { port: p.port },
      };
  }
}

/** Serialises an annotation value: what the injector writes (also used by fixtures and tools). */
export function formatOriginalProbes(
  containers: OriginalProbesByContainer,
  hooks: OriginalHooksByContainer = {},
): string {
  const value: OriginalProbesAnnotation = { v: ORIGINAL_PROBES_VERSION, containers };
  if (Object.keys(hooks).length > 0) value.hooks = hooks;
  return JSON.stringify(value);
}

export type ParsedOriginalProbes =
  | { status: 'absent'; containers: OriginalProbesByContainer; hooks?: undefined }
  | { status: 'valid'; containers: OriginalProbesByContainer; hooks?: OriginalHooksByContainer }
  | { status: 'invalid'; error: string };

/**
 * Parses the annotation's raw value. `absent` when the pod has none (nothing was rewritten);
 * `invalid` with a message naming the pod, the annotation, the field and what is wrong. Never throws.
 * `hooks` is set only when the record has rewritten lifecycle hooks.
 */
export function parseOriginalProbes(raw: string | undefined, pod: string): ParsedOriginalProbes {
  if (raw === undefined) return { status: 'absent', containers: {} };
  const where = `pod ${pod}: annotation ${ORIGINAL_PROBES_ANNOTATION}`;
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (e) {
    return { status: 'invalid', error: `${where}: not valid JSON (${(e as Error).message})` };
  }
  try {
    const { containers, hooks } = validate(value);
    return hooks ? { status: 'valid', containers, hooks } : { status: 'valid', containers };
  } catch (e) {
    if (e instanceof Invalid) return { status: 'invalid', error: `${where}: ${e.message}` };
    return { status: 'invalid', error: `${where}: ${String(e)}` };
  }
}

// ---------------------------------------------------------------------------------------------
// Decoding

const TOP_LEVEL_FIELDS = new Set(['v', 'containers', 'hooks']);
const PROBE_FIELDS = new Set([
  'kind',
  'scheme',
  'port',
  'path',
  'headers',
  'timeoutSeconds',
  'grpcService',
  'tls',
  'rewritten',
]);
const MAX_TIMEOUT_SECONDS = 2147483647; // Kubernetes' int32 field
/** Container names are DNS-1123 labels. */
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

class Invalid extends Error {}

function fail(path: string, problem: string): never {
  throw new Invalid(`${path}: ${problem}`);
}

function show(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  const s = JSON.stringify(v);
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function integer(v: unknown, path: string, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    fail(path, `must be an integer ${min}-${max}, got ${show(v)}`);
  }
  return v;
}

function probePath(v: unknown, path: string): string {
  if (typeof v !== 'string') fail(path, `must be a string, got ${show(v)}`);
  if (hasControlChar(v)) fail(path, `must not contain control characters, got ${show(v)}`);
  return v;
}

function headers(v: unknown, path: string): ProbeHeader[] {
  if (!Array.isArray(v)) fail(path, `must be an array of {name, value}, got ${show(v)}`);
  return v.map((h: unknown, i) => {
    const p = `${path}[${i}]`;
    if (!isObject(h)) fail(p, `must be an object {name, value}, got ${show(h)}`);
    for (const k of Object.keys(h)) if (k !== 'name' && k !== 'value') fail(`${p}.${k}`, 'unknown field');
    if (!isHeaderName(h.name)) {
      fail(`${p}.name`, `must be an HTTP header name (token characters), got ${show(h.name)}`);
    }
    if (!isHeaderValue(h.value)) {
      fail(`${p}.value`, `must be a string without control characters, got ${show(h.value)}`);
    }
    return { name: h.name, value: h.value };
  });
}

/** Where a record entry sits: a probe type or a lifecycle hook of one container. */
interface EntryWhere {
  slot: RecordSlot;
  container: string;
  /** Kinds this slot may hold (hooks: http and https only, always through the proxy). */
  kinds: readonly OriginalProbeKind[];
}

function probe(v: unknown, path: string, where: EntryWhere): OriginalProbe {
  if (!isObject(v)) fail(path, `must be an object, got ${show(v)}`);
  for (const k of Object.keys(v)) if (!PROBE_FIELDS.has(k)) fail(`${path}.${k}`, 'unknown field');
  const kind = v.kind;
  if (typeof kind !== 'string' || !(where.kinds as readonly string[]).includes(kind)) {
    fail(`${path}.kind`, `must be one of ${where.kinds.join(', ')}, got ${show(kind)}`);
  }
  const k = kind as OriginalProbeKind;
  const web = k === 'http' || k === 'https';
  const port = integer(v.port, `${path}.port`, 1, 65535);
  const timeoutSeconds = integer(v.timeoutSeconds, `${path}.timeoutSeconds`, 0, MAX_TIMEOUT_SECONDS);
  if (v.scheme !== undefined) {
    const want = k === 'https' ? 'HTTPS' : 'HTTP';
    if (!web || v.scheme !== want) {
      fail(
        `${path}.scheme`,
        web ? `must be ${want} for kind ${k}, got ${show(v.scheme)}` : `not allowed for kind ${k}`,
      );
    }
  }
  let originalPath = '';
  if (web) originalPath = probePath(v.path, `${path}.path`);
  else if (v.path !== undefined) fail(`${path}.path`, `not allowed for kind ${k}`);
  let hs: ProbeHeader[] = [];
  if (v.headers !== undefined) {
    hs = headers(v.headers, `${path}.headers`);
    if (!web && hs.length > 0) fail(`${path}.headers`, `not allowed for kind ${k}`);
  }
  let grpcService: string | undefined;
  if (v.grpcService !== undefined) {
    if (k !== 'grpc') fail(`${path}.grpcService`, `only for kind grpc, not ${k}`);
    if (!isHeaderValue(v.grpcService)) {
      fail(`${path}.grpcService`, `must be a string without control characters, got ${show(v.grpcService)}`);
    }
    grpcService = v.grpcService;
  }
  const hook = isHookSlot(where.slot);
  let originate = false;
  if (v.tls !== undefined) {
    if (k !== 'https') fail(`${path}.tls`, `only for kind https, not ${k}`);
    if (v.tls !== 'originate') fail(`${path}.tls`, `must be "originate" (or absent), got ${show(v.tls)}`);
    originate = true;
  } else if (hook && k === 'https') {
    fail(`${path}.tls`, 'an HTTPS lifecycle hook must be "originate" (a hook never passes TLS through)');
  }
  const rewritten = rewrittenOf(v.rewritten, `${path}.rewritten`, where, k, originalPath, originate);
  const headerField = hs.length > 0 ? { headers: hs } : {};
  switch (k) {
    case 'http':
      return { kind: k, scheme: 'HTTP', port, path: originalPath, ...headerField, timeoutSeconds, rewritten };
    case 'https':
      return {
        kind: k,
        scheme: 'HTTPS',
        port,
        path: originalPath,
        ...headerField,
        timeoutSeconds,
        ...(originate ? { tls: 'originate' as const } : {}),
        rewritten,
      };
    case 'tcp':
      return { kind: k, port, timeoutSeconds, rewritten };
    case 'grpc':
      return {
        kind: k,
        port,
        ...(grpcService !== undefined ? { grpcService } : {}),
        timeoutSeconds,
        rewritten,
      };
  }
}

function isHookSlot(slot: RecordSlot): slot is HookType {
  return (HOOK_TYPES as readonly string[]).includes(slot);
}

/** The rewritten target must be exactly what the rewrite produces for this probe. */
function rewrittenOf(
  v: unknown,
  path: string,
  where: EntryWhere,
  kind: OriginalProbeKind,
  originalPath: string,
  originate: boolean,
): RewrittenTarget {
  if (!isObject(v)) fail(path, `must be an object {port, path}, got ${show(v)}`);
  for (const k of Object.keys(v)) if (k !== 'port' && k !== 'path') fail(`${path}.${k}`, 'unknown field');
  const slot = { type: where.slot, container: where.container };
  const tls = originate ? { tls: 'originate' as const } : {};
  const want = rewrittenTarget(kind, originalPath, { ...slot, perContainerPath: false, ...tls });
  const what = isHookSlot(where.slot) ? `${where.slot} hook` : `${where.slot} probe`;
  if (v.port !== want.port) {
    fail(`${path}.port`, `must be ${want.port} for a ${kind} ${what}, got ${show(v.port)}`);
  }
  const got = probePath(v.path, `${path}.path`);
  if (kind === 'http' && !isHookSlot(where.slot)) {
    const shared = rewrittenTarget(kind, originalPath, { ...slot, perContainerPath: true });
    const allowed = [want.path, shared.path];
    if (!allowed.includes(got)) fail(`${path}.path`, `must be ${allowed.join(' or ')}, got ${show(got)}`);
  } else if (kind === 'https' && !originate) {
    if (!keepsHttpsPath(originalPath, got)) {
      fail(`${path}.path`, `an HTTPS probe keeps its path ${show(originalPath)}, got ${show(got)}`);
    }
  } else if (got !== want.path) {
    const of = originate ? `an HTTPS ${what} the proxy speaks TLS for` : `a ${kind} ${what.split(' ')[1]}`;
    fail(`${path}.path`, `must be ${want.path} for ${of}, got ${show(got)}`);
  }
  return { port: want.port, path: got };
}

const HOOK_KINDS: readonly OriginalProbeKind[] = ['http', 'https'];

/** `containers` or `hooks`: objects keyed by container name, then by slot. */
function byContainer<S extends RecordSlot>(
  v: unknown,
  field: string,
  slots: readonly S[],
  kinds: readonly OriginalProbeKind[],
  unknownSlot: string,
): Record<string, Partial<Record<S, OriginalProbe>>> {
  if (!isObject(v)) fail(field, `must be an object keyed by container name, got ${show(v)}`);
  const out: Record<string, Partial<Record<S, OriginalProbe>>> = {};
  for (const [container, entries] of Object.entries(v)) {
    const cpath = `${field}[${JSON.stringify(container)}]`;
    if (!DNS_LABEL.test(container) || container.length > 63) {
      fail(cpath, 'container name must be a DNS-1123 label (lowercase letters, digits, "-", at most 63)');
    }
    if (!isObject(entries)) fail(cpath, `must be an object keyed by ${unknownSlot}, got ${show(entries)}`);
    const bySlot: Partial<Record<S, OriginalProbe>> = {};
    for (const [slot, p] of Object.entries(entries)) {
      if (!(slots as readonly string[]).includes(slot)) {
        fail(`${cpath}.${slot}`, `unknown ${unknownSlot} (one of ${slots.join(', ')})`);
      }
      bySlot[slot as S] = probe(p, `${cpath}.${slot}`, { slot: slot as S, container, kinds });
    }
    out[container] = bySlot;
  }
  return out;
}

/** Validates a decoded annotation value; returns a normalised copy or throws Invalid. */
function validate(v: unknown): { containers: OriginalProbesByContainer; hooks?: OriginalHooksByContainer } {
  if (!isObject(v)) fail('value', `must be a JSON object, got ${show(v)}`);
  if (v.v === undefined) fail('v', `missing (this controller reads version ${ORIGINAL_PROBES_VERSION})`);
  if (v.v !== ORIGINAL_PROBES_VERSION) {
    fail('v', `unsupported version ${show(v.v)} (this controller reads version ${ORIGINAL_PROBES_VERSION})`);
  }
  for (const k of Object.keys(v)) if (!TOP_LEVEL_FIELDS.has(k)) fail(k, 'unknown field');
  const containers = byContainer(
    v.containers,
    'containers',
    RECORD_SLOTS,
    ORIGINAL_PROBE_KINDS,
    'probe type',
  );
  if (v.hooks === undefined) return { containers };
  // Hook entries are http or https with TLS origination (checked by probe()): OriginalHook.
  const hooks = byContainer(v.hooks, 'hooks', HOOK_TYPES, HOOK_KINDS, 'lifecycle hook');
  return Object.keys(hooks).length > 0
    ? { containers, hooks: hooks as OriginalHooksByContainer }
    : { containers };
}
