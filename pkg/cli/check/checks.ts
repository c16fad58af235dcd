/** The checks of `fsm check probes`, in the order they are reported, and the pure judgement. */
import { controlPlaneCheck } from './control-plane.js';
import { eventsCheck } from './events.js';
import { healthcheckCheck } from './healthcheck.js';
import { probesRewrittenCheck } from './probes-rewritten.js';
import { proxyListenersCheck } from './proxy-listeners.js';
import { isInjected, sidecarCheck } from './sidecar.js';
import type { Check, CheckContext, CheckResult, ProbeCheckInput, ProbeCheckReport } from './types.js';

/** Pod first, then its probes through the proxy and fsm-healthcheck, then what kubelet saw, then the mesh. */
export const PROBE_CHECKS: readonly Check[] = [
  sidecarCheck,
  probesRewrittenCheck,
  proxyListenersCheck,
  healthcheckCheck,
  eventsCheck,
  controlPlaneCheck,
];

export function checkContext(input: ProbeCheckInput): CheckContext {
  return {
    input,
    namespace: input.pod.metadata?.namespace ?? '',
    pod: input.pod.metadata?.name ?? '',
    injected: isInjected(input.pod),
  };
}

/** Judges the gathered facts. Pure: same input, same report. */
export function evaluateProbeChecks(
  input: ProbeCheckInput,
  checks: readonly Check[] = PROBE_CHECKS,
): ProbeCheckReport {
  const ctx = checkContext(input);
  const results = checks.map((check): CheckResult => {
    const { status, details, fix, warnings } = check.run(ctx);
    return {
      id: check.id,
      title: check.title(ctx),
      status,
      details,
      ...(fix !== undefined ? { fix } : {}),
      ...(warnings !== undefined && warnings.length > 0 ? { warnings } : {}),
    };
  });
  return {
    namespace: ctx.namespace,
    pod: ctx.pod,
    mesh: input.mesh,
    checks: results,
    failed: results.filter((c) => c.status === 'fail').length,
  };
}
