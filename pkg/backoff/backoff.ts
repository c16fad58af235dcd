/**
 * Capped exponential backoff with jitter: the one retry policy of fsm (informer restarts, the work
 * queue's retries, the sandbox ADS client's reconnects). Pure apart from the random source, which
 * callers (and tests) may pass.
 *
 * The ceiling of attempt n (0 = first retry) is initialMs × multiplier^n, capped at maxMs. Each delay
 * is then spread so that clients that failed together do not come back in the same millisecond:
 * - jitter mode `around` (default): uniform in [ceiling × (1 − jitter), ceiling × (1 + jitter)], capped;
 * - jitter mode `below`: uniform in [ceiling × (1 − jitter), ceiling] (never above the ceiling).
 */
import { BACKOFF_INITIAL_MS, BACKOFF_JITTER, BACKOFF_MAX_MS } from '../constants/index.js';

export type JitterMode = 'around' | 'below';

export interface BackoffOptions {
  /** Ceiling of the first retry (default BACKOFF_INITIAL_MS). */
  initialMs?: number;
  /** Largest ceiling (default BACKOFF_MAX_MS). */
  maxMs?: number;
  /** Growth of the ceiling per failed attempt (default 2). */
  multiplier?: number;
  /** Fraction of the ceiling the delay is spread over, in [0, 1) (default BACKOFF_JITTER). */
  jitter?: number;
  /** How the spread sits around the ceiling (default 'around'). */
  jitterMode?: JitterMode;
}

type Policy = Required<BackoffOptions>;

function policy(options: BackoffOptions): Policy {
  return {
    initialMs: options.initialMs ?? BACKOFF_INITIAL_MS,
    maxMs: options.maxMs ?? BACKOFF_MAX_MS,
    multiplier: options.multiplier ?? 2,
    jitter: options.jitter ?? BACKOFF_JITTER,
    jitterMode: options.jitterMode ?? 'around',
  };
}

/** Throws a RangeError naming the option and value when the policy cannot work. */
export function validateBackoff(options: BackoffOptions): void {
  const p = policy(options);
  if (!(p.initialMs > 0)) throw new RangeError(`backoff initialMs must be > 0, got ${p.initialMs}`);
  if (!(p.maxMs >= p.initialMs)) {
    throw new RangeError(`backoff maxMs (${p.maxMs}) must be >= initialMs (${p.initialMs})`);
  }
  if (!(p.multiplier >= 1)) throw new RangeError(`backoff multiplier must be >= 1, got ${p.multiplier}`);
  if (!(p.jitter >= 0 && p.jitter < 1))
    throw new RangeError(`backoff jitter must be in [0, 1), got ${p.jitter}`);
}

/** The ceiling of attempt `attempt` (0 = first retry): initial × multiplier^attempt, capped. */
export function backoffCeilingMs(attempt: number, options: BackoffOptions = {}): number {
  const { initialMs, maxMs, multiplier } = policy(options);
  const cap = Math.max(0, maxMs);
  const n = Math.max(0, Math.floor(attempt));
  // Past ~60 doublings the product is Infinity anyway; min() caps it.
  return Math.min(cap, Math.max(0, initialMs) * Math.pow(Math.max(1, multiplier), Math.min(n, 64)));
}

/** The delay before retry `attempt`, spread by the jitter. `random` returns [0, 1). */
export function backoffDelayMs(
  attempt: number,
  options: BackoffOptions = {},
  random: () => number = Math.random,
): number {
  const { maxMs, jitter, jitterMode } = policy(options);
  const ceiling = backoffCeilingMs(attempt, options);
  const r = Math.min(Math.max(random(), 0), 1);
  const scale = jitterMode === 'below' ? 1 - jitter + jitter * r : 1 - jitter + 2 * jitter * r;
  return Math.round(Math.min(Math.max(0, maxMs), ceiling * scale));
}

/** The stateful form: each next() is the delay of one more consecutive failure, until reset(). */
export class Backoff {
  private attempt = 0;
  private readonly options: BackoffOptions;
  private readonly random: () => number;

  constructor(opts: BackoffOptions & { random?: () => number } = {}) {
    const { random, ...options } = opts;
    validateBackoff(options);
    this.options = options;
    this.random = random ?? Math.random;
  }

  /** Delay before the next attempt; grows with each call until reset(). */
  next(): number {
    return backoffDelayMs(this.attempt++, this.options, this.random);
  }

  /** Consecutive failures since the last reset. */
  get failures(): number {
    return this.attempt;
  }

  reset(): void {
    this.attempt = 0;
  }
}
