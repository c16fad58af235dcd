/**
 * The injection stamp: which fsm injector rewrote a pod and in which format (INJECTION_STAMP_ANNOTATION,
 * JSON {@link InjectionStamp}), so the controller and `fsm check probes` can flag pods whose rewrite or
 * sidecar bootstrap predates the running control plane (the version-skew problem of istio/istio#26814),
 * while the controller keeps serving them.
 *
 * It is a sibling of the original-probe record rather than a field of it: the record stays readable
 * by every controller that knows its features, and a stamp a controller cannot read never stops a
 * pod's probes from being served (an invalid stamp is reported, not fatal).
 *
 * A pod without a stamp was injected by the seed's format 1 with bootstrap format 1.
 */
import {
  INJECTION_FORMAT,
  INJECTION_STAMP_ANNOTATION,
  SIDECAR_BOOTSTRAP_FORMAT,
} from '../constants/index.js';

export interface InjectionStamp {
  /** fsm version of the injector that wrote the pod (its package version, e.g. `0.1.0`). */
  injector: string;
  /** INJECTION_FORMAT of that injector: what it writes (the record's additions, the sidecar layout). */
  format: number;
  /** SIDECAR_BOOTSTRAP_FORMAT of that injector: what the sidecar's Envoy bootstrap needs. */
  bootstrap: number;
}

/** The formats a control plane writes (default: this build's). */
export interface CurrentFormat {
  format: number;
  bootstrap: number;
}

export const CURRENT_FORMAT: CurrentFormat = {
  format: INJECTION_FORMAT,
  bootstrap: SIDECAR_BOOTSTRAP_FORMAT,
};

/** The format a pod without a stamp was injected in: the seed's. */
export const SEED_STAMP: Readonly<Omit<InjectionStamp, 'injector'>> = { format: 1, bootstrap: 1 };

export type ParsedInjectionStamp =
  { status: 'absent' } | { status: 'valid'; stamp: InjectionStamp } | { status: 'invalid'; error: string };

/** The stamp this build's injector writes. */
export function injectionStamp(
  injectorVersion: string,
  current: CurrentFormat = CURRENT_FORMAT,
): InjectionStamp {
  return { injector: injectorVersion, format: current.format, bootstrap: current.bootstrap };
}

export function formatInjectionStamp(stamp: InjectionStamp): string {
  return JSON.stringify({ injector: stamp.injector, format: stamp.format, bootstrap: stamp.bootstrap });
}

function isFormatNumber(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 1_000_000;
}

/**
 * Parses the stamp annotation. Unknown fields are allowed (a newer injector may say more); what this
 * code reads must be well formed. Never throws.
 */
export function parseInjectionStamp(raw: string | undefined, pod: string): ParsedInjectionStamp {
  if (raw === undefined) return { status: 'absent' };
  const where = `pod ${pod}: annotation ${INJECTION_STAMP_ANNOTATION}`;
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch (e) {
    return { status: 'invalid', error: `${where}: not valid JSON (${(e as Error).message})` };
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    return { status: 'invalid', error: `${where}: must be a JSON object {injector, format, bootstrap}` };
  }
  const o = v as Record<string, unknown>;
  if (typeof o.injector !== 'string' || o.injector === '' || o.injector.length > 100) {
    return {
      status: 'invalid',
      error: `${where}: injector must be a version string, got ${JSON.stringify(o.injector) ?? 'nothing'}`,
    };
  }
  for (const k of ['format', 'bootstrap'] as const) {
    if (!isFormatNumber(o[k])) {
      return {
        status: 'invalid',
        error: `${where}: ${k} must be a positive integer, got ${JSON.stringify(o[k]) ?? 'nothing'}`,
      };
    }
  }
  return {
    status: 'valid',
    stamp: { injector: o.injector, format: o.format as number, bootstrap: o.bootstrap as number },
  };
}

/** How a pod was injected, as far as its stamp says (the seed's format when it has none). */
export interface InjectionInfo {
  /** The injector's version, when the stamp names it. */
  injector?: string;
  format: number;
  bootstrap: number;
  /** The running control plane's formats. */
  current: CurrentFormat;
  /**
   * Why the pod's injection predates the running control plane (empty when it does not): one line
   * per part that is older. The controller still serves such a pod.
   */
  outdated: string[];
  /** A stamp that could not be read (the pod is then treated as of the seed's format). */
  problem?: string;
}

/** The injection info of a pod from its stamp annotation's raw value. Pure. */
export function injectionInfo(
  raw: string | undefined,
  pod: string,
  current: CurrentFormat = CURRENT_FORMAT,
): InjectionInfo {
  const parsed = parseInjectionStamp(raw, pod);
  const stamp = parsed.status === 'valid' ? parsed.stamp : undefined;
  const format = stamp?.format ?? SEED_STAMP.format;
  const bootstrap = stamp?.bootstrap ?? SEED_STAMP.bootstrap;
  const by = stamp ? `fsm-injector ${stamp.injector}` : 'an injector that wrote no stamp (the seed)';
  const outdated: string[] = [];
  if (format < current.format) {
    outdated.push(
      `probes rewritten in format ${format} by ${by}; the control plane now writes format ${current.format}`,
    );
  }
  if (bootstrap < current.bootstrap) {
    outdated.push(
      `sidecar bootstrap format ${bootstrap} (by ${by}); the control plane now injects bootstrap format ${current.bootstrap}`,
    );
  }
  return {
    ...(stamp ? { injector: stamp.injector } : {}),
    format,
    bootstrap,
    current,
    outdated,
    ...(parsed.status === 'invalid' ? { problem: parsed.error } : {}),
  };
}
