/**
 * Kubelet's Unhealthy events, read back: which pod, container and probe failed. They trigger the
 * controller's probe diagnosis (probe-diagnosis.ts). Pure.
 *
 * Kubelet words them `<Liveness|Readiness|Startup> probe failed: <output>` with
 * involvedObject.fieldPath `spec.containers{<name>}` (or `spec.initContainers{<name>}` for a native
 * sidecar), and aggregates repeats into one Event whose count and lastTimestamp grow.
 */
import type { CoreV1Event } from '@kubernetes/client-node';
import { PROBE_TYPES, PROBE_UNHEALTHY_REASON, type ProbeType } from '../constants/index.js';

export interface FailedProbe {
  namespace: string;
  pod: string;
  /** The pod's uid when the event names it (a re-created pod of the same name is another pod). */
  podUid?: string;
  container: string;
  type: ProbeType;
  /** When kubelet last saw it fail (ms since the epoch), when the event says. */
  at?: number;
}

const FIELD_PATH = /^spec\.(?:containers|initContainers)\{([^}]+)\}$/;

function time(v: unknown): number | undefined {
  if (v === undefined || v === null) return undefined;
  const ms = v instanceof Date ? v.getTime() : Date.parse(String(v));
  return Number.isNaN(ms) ? undefined : ms;
}

/** The failed probe an event reports; undefined for any other event. */
export function failedProbeOf(e: CoreV1Event): FailedProbe | undefined {
  if (e.reason !== PROBE_UNHEALTHY_REASON) return undefined;
  const o = e.involvedObject;
  if ((o.kind ?? '') !== 'Pod' || !o.name) return undefined;
  const namespace = o.namespace ?? e.metadata?.namespace;
  if (!namespace) return undefined;
  const container = FIELD_PATH.exec(o.fieldPath ?? '')?.[1];
  if (!container) return undefined;
  const type = PROBE_TYPES.find((t) =>
    (e.message ?? '').startsWith(`${t[0]!.toUpperCase()}${t.slice(1)} probe failed:`),
  );
  if (!type) return undefined;
  const at = time(e.lastTimestamp) ?? time(e.eventTime) ?? time(e.firstTimestamp);
  return {
    namespace,
    pod: o.name,
    ...(o.uid ? { podUid: o.uid } : {}),
    container,
    type,
    ...(at !== undefined ? { at } : {}),
  };
}
