/**
 * A pod's record of its original probes (ORIGINAL_PROBES_ANNOTATION), read with the probe contract's
 * strict decoder (pkg/probes): the proxy config is built from it.
 */
import { ORIGINAL_PROBES_ANNOTATION } from '../constants/index.js';
import { parseOriginalProbes } from '../probes/index.js';
import type { ParsedOriginalProbes } from '../probes/index.js';
import type { PodLike } from './pod.js';
import { podRef } from './pod.js';

/** The annotation of a pod, parsed; an invalid one names the pod, the annotation, the field and value. */
export function podOriginalProbes(pod: PodLike): ParsedOriginalProbes {
  return parseOriginalProbes(pod.metadata?.annotations?.[ORIGINAL_PROBES_ANNOTATION], podRef(pod));
}
