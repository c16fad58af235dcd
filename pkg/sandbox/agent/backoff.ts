/**
 * Reconnect delays of the ADS client: capped exponential backoff with full jitter (a random delay
 * between half the ceiling and the ceiling), so agents that lost the same controller do not all
 * come back in the same millisecond. Pure: the random source is a parameter.
 */

export interface BackoffOptions {
  /** Ceiling of the first retry (default 250 ms). */
  initialMs?: number;
  /** Largest ceiling (default 10 s). */
  maxMs?: number;
  /** Growth of the ceiling per failed attempt (default 2). */
  multiplier?: number;
}

export const DEFAULT_BACKOFF: Required<BackoffOptions> = { initialMs: 250, maxMs: 10_000, multiplier: 2 };

/** The ceiling of attempt `attempt` (0 = first retry): initial × multiplier^attempt, capped. */
export function backoffCeilingMs(attempt: number, options: BackoffOptions = {}): number {
  const { initialMs, maxMs, multiplier } = { ...DEFAULT_BACKOFF, ...options };
  const cap = Math.max(0, maxMs);
  const n = Math.max(0, Math.floor(attempt));
  // Past ~60 doublings the product is Infinity anyway; min() caps it.
  return Math.min(cap, Math.max(0, initialMs) * Math.pow(Math.max(1, multiplier), Math.min(n, 64)));
}

/** The delay before retry `attempt`: uniform in [ceiling / 2, ceiling]. `random` returns [0, 1). */
export function backoffDelayMs(
  attempt: number,
  options: BackoffOptions = {},
  random: () => number = Math.random,
): number {
  const ceiling = backoffCeilingMs(attempt, options);
  const r = Math.min(Math.max(random(), 0), 1);
  return Math.round(ceiling / 2 + (ceiling / 2) * r);
}
