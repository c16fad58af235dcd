/**
 * The debug view of a proxy without secrets: probe header values (an `Authorization: Bearer …` of
 * a probe travels in the pod spec, the route's request_headers_to_add and the Probes view) are
 * replaced by REDACTED_VALUE, names kept. Headers fsm derives from ports (Original-Tcp-Port,
 * Original-Grpc-Port, Original-Grpc-Service of tcp and grpc probes) are not the user's and stay.
 * Pure: returns a copy.
 */
import { REDACTED_VALUE } from '../constants/index.js';
import type { DesiredProxy } from './desired.js';
import type { ProbesView, ProbeViewEntry } from './probes-view.js';

type Json = Record<string, unknown>;

function isObj(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Deep copy with every route's header values and literal Host rewrite redacted. */
function redactRoutes(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(redactRoutes);
  if (!isObj(v)) return v;
  const out: Json = {};
  for (const [k, x] of Object.entries(v)) {
    if (k === 'request_headers_to_add' && Array.isArray(x)) {
      out[k] = x.map((h: unknown) =>
        isObj(h) && isObj(h['header']) ? { ...h, header: { ...h['header'], value: REDACTED_VALUE } } : h,
      );
    } else if (k === 'host_rewrite_literal' && typeof x === 'string') {
      out[k] = REDACTED_VALUE;
    } else {
      out[k] = redactRoutes(x);
    }
  }
  return out;
}

function redactHeaders<T extends { httpHeaders?: { name: string; value: string }[] }>(a: T): T {
  return a.httpHeaders
    ? { ...a, httpHeaders: a.httpHeaders.map((h) => ({ name: h.name, value: REDACTED_VALUE })) }
    : a;
}

function redactEntry(e: ProbeViewEntry): ProbeViewEntry {
  if (e.kind !== 'http' && e.kind !== 'https') return e;
  const original = e.original.httpGet
    ? { ...e.original, httpGet: redactHeaders(e.original.httpGet) }
    : e.original;
  return { ...e, httpGet: redactHeaders(e.httpGet), original };
}

export function redactProbesView(v: ProbesView): ProbesView {
  return {
    LivenessProbes: v.LivenessProbes.map(redactEntry),
    ReadinessProbes: v.ReadinessProbes.map(redactEntry),
    StartupProbes: v.StartupProbes.map(redactEntry),
  };
}

export function redactProxy<T extends DesiredProxy>(d: T): T {
  return {
    ...d,
    resources: redactRoutes(d.resources) as DesiredProxy['resources'],
    probes: redactProbesView(d.probes),
  };
}
