/**
 * How a meshed pod was injected (its injection stamp, pkg/probes), judged against this control
 * plane's formats: the controller serves every format it reads, and counts and reports the pods whose
 * rewrite or sidecar bootstrap predates its own (metric, debug view, `fsm check probes`).
 */
import { INJECTION_STAMP_ANNOTATION, ORIGINAL_PROBES_ANNOTATION } from '../constants/index.js';
import { injectionInfo, type InjectionInfo } from '../probes/index.js';
import { podRef, type PodLike } from './pod.js';

/**
 * A pod with neither a stamp nor a record was not rewritten by any fsm injector we know of (made by
 * hand, or a copy that lost its annotations): nothing says which format it has, so it is not flagged.
 */
export function podInjection(pod: PodLike): InjectionInfo {
  const annotations = pod.metadata?.annotations ?? {};
  const info = injectionInfo(annotations[INJECTION_STAMP_ANNOTATION], podRef(pod));
  if (
    annotations[INJECTION_STAMP_ANNOTATION] === undefined &&
    annotations[ORIGINAL_PROBES_ANNOTATION] === undefined
  ) {
    return { ...info, outdated: [] };
  }
  return info;
}
