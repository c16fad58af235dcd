/**
 * What /health/alive and /health/ready answer, computed from the ADS server's lifecycle and the
 * readiness checks (informers synced, ...). Pure: the HTTP layer only renders it.
 */
import type { LifecycleState } from '../ads/index.js';

export type ReadinessVerdict = { ok: true } | { ok: false; reason: string };

/** A named readiness condition, e.g. "informer pods" → synced or "out of sync for 42s". */
export interface ReadinessCheck {
  readonly name: string;
  check(): ReadinessVerdict;
}

export interface HealthAnswer {
  status: 200 | 503;
  body: string;
}

/** Liveness: the gRPC server is running (serving or draining); 503 after a fatal error. */
export function aliveAnswer(state: LifecycleState, fatal: string | undefined, okBody: string): HealthAnswer {
  if (fatal) return { status: 503, body: `Service is not alive: fatal error: ${fatal}` };
  if (state === 'serving' || state === 'draining') return { status: 200, body: okBody };
  return { status: 503, body: `Service is not alive: ADS server is ${state}` };
}

/**
 * Readiness: serving, no fatal error, and every check passes. The 503 body names everything that is
 * not ready, so an operator reading `kubectl describe pod` knows what to look at.
 */
export function readyAnswer(
  state: LifecycleState,
  fatal: string | undefined,
  checks: readonly ReadinessCheck[],
  okBody: string,
): HealthAnswer {
  const problems: string[] = [];
  if (fatal) problems.push(`fatal error: ${fatal}`);
  if (state !== 'serving') problems.push(`ADS server is ${state}`);
  for (const c of checks) {
    const r = c.check();
    if (!r.ok) problems.push(`${c.name}: ${r.reason}`);
  }
  return problems.length === 0
    ? { status: 200, body: okBody }
    : { status: 503, body: `Service is not ready: ${problems.join('; ')}` };
}
