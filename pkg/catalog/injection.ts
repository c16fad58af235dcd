/**
 * How a meshed pod was injected (its injection stamp, pkg/probes), judged against this control
 * plane's formats: the controller serves every format it reads, and counts and reports the pods whose
 * rewrite or sidecar bootstrap predates its own (metric, debug view, `fsm check probes`).
 */
import { INJECTION_STAMP_ANNOTATION } from '../constants/index.js';
import { injectionInfo, type InjectionInfo } from '../probes/index.js';
import { podRef, type PodLike } from './pod.js';

export function podInjection(pod: PodLike): InjectionInfo {
  return injectionInfo(pod.metadata?.annotations?.[INJECTION_STAMP_ANNOTATION], podRef(pod));
}
