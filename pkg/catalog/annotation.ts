/**
 * Reading the injector's record of the original probes (ORIGINAL_PROBES_ANNOTATION, JSON
 * {@link OriginalProbesAnnotation}). Everything is checked — version, shape, ranges, and that the
 * rewritten target is one the injector produces — because the proxy config is built from it and a
 * bad value must become a clear message, never a NACKed push or a thrown error.
 */
import {
  HEALTHCHECK_PATH,
  HEALTHCHECK_PORT,
  ORIGINAL_PROBES_ANNOTATION,
  PROBE_TYPE_INFO,
  PROBE_TYPES,
} from '../constants/index.js';
import type {
  OriginalProbe,
  OriginalProbeKind,
  OriginalProbesAnnotation,
  OriginalProbesByContainer,
  ProbeType,
} from '../constants/index.js';
import { rewriteTarget } from '../envoy/builders/index.js';
import type { PodLike } from './pod.js';
import { podRef } from './pod.js';

/** The annotation format version this controller reads. */
export const ORIGINAL_PROBES_VERSION = 1;

export type AnnotationResult =
  | { status: 'absent'; containers: OriginalProbesByContainer }
  | { status: 'valid'; containers: OriginalProbesByContainer }
  | { status: 'invalid'; error: string };

const KINDS: readonly OriginalProbeKind[] = ['http', 'https', 'tcp', 'grpc'];
const PROBE_KEYS = new Set([
  'kind',
  'scheme',
  'port',
  'path',
  'headers',
  'timeoutSeconds',
  'grpcService',
  'rewritten',
]);
const MAX_TIMEOUT_SECONDS = 2147483647; // Kubernetes' int32 field
/** Container names are DNS-1123 labels. */
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** RFC 9110 token: what Envoy (and kubelet) accept as a header name. */
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** No control characters (kubelet cannot send them); spaces and non-ASCII get percent-encoded. */
function hasControlChar(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}
/** A header value: no control characters except horizontal tab. */
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\uffff]*$/;

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

function headers(v: unknown, path: string): { name: string; value: string }[] {
  if (!Array.isArray(v)) fail(path, `must be an array of {name, value}, got ${show(v)}`);
  return v.map((h: unknown, i) => {
    const p = `${path}[${i}]`;
    if (!isObject(h)) fail(p, `must be an object {name, value}, got ${show(h)}`);
    for (const k of Object.keys(h)) if (k !== 'name' && k !== 'value') fail(`${p}.${k}`, 'unknown field');
    if (typeof h.name !== 'string' || !HEADER_NAME.test(h.name)) {
      fail(`${p}.name`, `must be an HTTP header name (token characters), got ${show(h.name)}`);
    }
    if (h.name.startsWith(':')) fail(`${p}.name`, `pseudo-headers cannot be set, got ${show(h.name)}`);
    if (typeof h.value !== 'string' || !HEADER_VALUE.test(h.value)) {
      fail(`${p}.value`, `must be a string without control characters, got ${show(h.value)}`);
    }
    return { name: h.name, value: h.value };
  });
}

function probe(v: unknown, path: string, container: string, type: ProbeType): OriginalProbe {
  if (!isObject(v)) fail(path, `must be an object, got ${show(v)}`);
  for (const k of Object.keys(v)) if (!PROBE_KEYS.has(k)) fail(`${path}.${k}`, 'unknown field');
  const kind = v.kind;
  if (typeof kind !== 'string' || !(KINDS as readonly string[]).includes(kind)) {
    fail(`${path}.kind`, `must be one of ${KINDS.join(', ')}, got ${show(kind)}`);
  }
  const k = kind as OriginalProbeKind;
  const web = k === 'http' || k === 'https';
  const out: OriginalProbe = {
    kind: k,
    port: integer(v.port, `${path}.port`, 1, 65535),
    timeoutSeconds: integer(v.timeoutSeconds, `${path}.timeoutSeconds`, 0, MAX_TIMEOUT_SECONDS),
    rewritten: { port: 0, path: '' },
  };
  if (v.scheme !== undefined) {
    const want = k === 'https' ? 'HTTPS' : 'HTTP';
    if (!web || v.scheme !== want) {
      fail(
        `${path}.scheme`,
        web ? `must be ${want} for kind ${k}, got ${show(v.scheme)}` : `not allowed for kind ${k}`,
      );
    }
    out.scheme = want;
  } else if (web) {
    out.scheme = k === 'https' ? 'HTTPS' : 'HTTP';
  }
  if (web) {
    out.path = probePath(v.path, `${path}.path`);
  } else if (v.path !== undefined) {
    fail(`${path}.path`, `not allowed for kind ${k}`);
  }
  if (v.headers !== undefined) {
    const hs = headers(v.headers, `${path}.headers`);
    if (!web && hs.length > 0) fail(`${path}.headers`, `not allowed for kind ${k}`);
    if (web && hs.length > 0) out.headers = hs;
  }
  if (v.grpcService !== undefined) {
    if (k !== 'grpc') fail(`${path}.grpcService`, `only for kind grpc, not ${k}`);
    if (typeof v.grpcService !== 'string' || !HEADER_VALUE.test(v.grpcService)) {
      fail(`${path}.grpcService`, `must be a string without control characters, got ${show(v.grpcService)}`);
    }
    out.grpcService = v.grpcService;
  }
  out.rewritten = rewritten(v.rewritten, `${path}.rewritten`, container, type, out);
  return out;
}

/** The rewritten target must be exactly what the injector produces for this probe. */
function rewritten(
  v: unknown,
  path: string,
  container: string,
  type: ProbeType,
  p: OriginalProbe,
): { port: number; path: string } {
  if (!isObject(v)) fail(path, `must be an object {port, path}, got ${show(v)}`);
  for (const k of Object.keys(v)) if (k !== 'port' && k !== 'path') fail(`${path}.${k}`, 'unknown field');
  const info = PROBE_TYPE_INFO[type];
  const wantPort = p.kind === 'tcp' || p.kind === 'grpc' ? HEALTHCHECK_PORT : info.port;
  if (v.port !== wantPort)
    fail(`${path}.port`, `must be ${wantPort} for a ${p.kind} ${type} probe, got ${show(v.port)}`);
  const got = probePath(v.path, `${path}.path`);
  if (p.kind === 'http') {
    const allowed = [info.path, `${info.path}/${container}`];
    if (!allowed.includes(got)) fail(`${path}.path`, `must be ${allowed.join(' or ')}, got ${show(got)}`);
  } else if (p.kind === 'https') {
    // The injector keeps the path (kubelet requests '/' for an empty one): either spelling is fine.
    if (got !== p.path && got !== rewriteTarget(p.path ?? '')) {
      fail(`${path}.path`, `an HTTPS probe keeps its path ${show(p.path)}, got ${show(got)}`);
    }
  } else if (got !== HEALTHCHECK_PATH) {
    fail(`${path}.path`, `must be ${HEALTHCHECK_PATH} for a ${p.kind} probe, got ${show(got)}`);
  }
  return { port: wantPort, path: got };
}

/** Validates a decoded annotation value; returns a normalised copy or throws Invalid. */
function validate(v: unknown): OriginalProbesByContainer {
  if (!isObject(v)) fail('value', `must be a JSON object, got ${show(v)}`);
  if (v.v === undefined) fail('v', `missing (this controller reads version ${ORIGINAL_PROBES_VERSION})`);
  if (v.v !== ORIGINAL_PROBES_VERSION) {
    fail('v', `unsupported version ${show(v.v)} (this controller reads version ${ORIGINAL_PROBES_VERSION})`);
  }
  for (const k of Object.keys(v)) if (k !== 'v' && k !== 'containers') fail(k, 'unknown field');
  if (!isObject(v.containers))
    fail('containers', `must be an object keyed by container name, got ${show(v.containers)}`);
  const out: OriginalProbesByContainer = {};
  for (const [container, probes] of Object.entries(v.containers)) {
    const cpath = `containers[${JSON.stringify(container)}]`;
    if (!DNS_LABEL.test(container) || container.length > 63) {
      fail(cpath, 'container name must be a DNS-1123 label (lowercase letters, digits, "-", at most 63)');
    }
    if (!isObject(probes)) fail(cpath, `must be an object keyed by probe type, got ${show(probes)}`);
    const byType: Partial<Record<ProbeType, OriginalProbe>> = {};
    for (const [type, p] of Object.entries(probes)) {
      if (!(PROBE_TYPES as readonly string[]).includes(type)) {
        fail(`${cpath}.${type}`, `unknown probe type (one of ${PROBE_TYPES.join(', ')})`);
      }
      byType[type as ProbeType] = probe(p, `${cpath}.${type}`, container, type as ProbeType);
    }
    out[container] = byType;
  }
  return out;
}

/**
 * Parses the annotation's raw value. `absent` when the pod has none (nothing was rewritten);
 * `invalid` with a message naming the pod, the annotation, the field and what is wrong. Never throws.
 */
export function parseOriginalProbes(raw: string | undefined, pod: string): AnnotationResult {
  if (raw === undefined) return { status: 'absent', containers: {} };
  const where = `pod ${pod}: annotation ${ORIGINAL_PROBES_ANNOTATION}`;
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (e) {
    return { status: 'invalid', error: `${where}: not valid JSON (${(e as Error).message})` };
  }
  try {
    return { status: 'valid', containers: validate(value) };
  } catch (e) {
    if (e instanceof Invalid) return { status: 'invalid', error: `${where}: ${e.message}` };
    return { status: 'invalid', error: `${where}: ${String(e)}` };
  }
}

/** The annotation of a pod, parsed. */
export function podOriginalProbes(pod: PodLike): AnnotationResult {
  return parseOriginalProbes(pod.metadata?.annotations?.[ORIGINAL_PROBES_ANNOTATION], podRef(pod));
}

/** Serialises an annotation value (what the injector writes; used by fixtures and tools). */
export function formatOriginalProbes(containers: OriginalProbesByContainer): string {
  const value: OriginalProbesAnnotation = { v: ORIGINAL_PROBES_VERSION, containers };
  return JSON.stringify(value);
}
