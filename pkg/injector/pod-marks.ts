/** What the injector writes on a pod besides its containers: the injection stamp, the sidecar's ports. Pure. */
import { INJECTION_STAMP_ANNOTATION, PROBE_TYPES, type ProbeType } from '../constants/index.js';
import { formatInjectionStamp, injectionStamp, type OriginalHooksByContainer } from '../probes/index.js';

/** The stamp annotation: which injector wrote the pod, in this build's formats. */
export function injectionAnnotations(injectorVersion: string): Record<string, string> {
  return { [INJECTION_STAMP_ANNOTATION]: formatInjectionStamp(injectionStamp(injectorVersion)) };
}

/**
 * The probe listeners the sidecar declares a port for: the probe types the proxy serves, plus the
 * startup listener when it serves a rewritten lifecycle hook. In PROBE_TYPES order.
 */
export function sidecarProbeTypes(
  proxyTypes: readonly ProbeType[],
  hooks: OriginalHooksByContainer,
): ProbeType[] {
  const types = new Set(proxyTypes);
  if (Object.values(hooks).some((h) => Object.keys(h).length > 0)) types.add('startup');
  return PROBE_TYPES.filter((t) => types.has(t));
}
