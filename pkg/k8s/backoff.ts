/** Capped, jittered exponential backoff (pure apart from the injected random source). */
import {
  INFORMER_BACKOFF_INITIAL_MS,
  INFORMER_BACKOFF_JITTER,
  INFORMER_BACKOFF_MAX_MS,
} from '../constants/index.js';

export interface BackoffOptions {
  initialMs?: number;
  maxMs?: number;
  /** Growth per failure (default 2). */
  factor?: number;
  /** Each delay is scaled by a random factor in [1 - jitter, 1 + jitter], then capped (default 0.3). */
  jitter?: number;
  /** Random source in [0, 1) (tests pass a fixed one). */
  random?: () => number;
}

export class Backoff {
  private attempt = 0;
  private readonly initialMs: number;
  private readonly maxMs: number;
  private readonly factor: number;
  private readonly jitter: number;
  private readonly random: () => number;

  constructor(opts: BackoffOptions = {}) {
    this.initialMs = opts.initialMs ?? INFORMER_BACKOFF_INITIAL_MS;
    this.maxMs = opts.maxMs ?? INFORMER_BACKOFF_MAX_MS;
    this.factor = opts.factor ?? 2;
    this.jitter = opts.jitter ?? INFORMER_BACKOFF_JITTER;
    this.random = opts.random ?? Math.random;
    if (!(this.initialMs > 0)) throw new RangeError(`backoff initialMs must be > 0, got ${this.initialMs}`);
    if (!(this.maxMs >= this.initialMs)) {
      throw new RangeError(`backoff maxMs (${this.maxMs}) must be >= initialMs (${this.initialMs})`);
    }
    if (!(this.jitter >= 0 && this.jitter < 1))
      throw new RangeError(`backoff jitter must be in [0, 1), got ${this.jitter}`);
  }

  /** Delay before the next attempt; grows with each call until reset(). */
  next(): number {
    const base = Math.min(this.maxMs, this.initialMs * Math.pow(this.factor, this.attempt));
    this.attempt++;
    const scaled = base * (1 - this.jitter + 2 * this.jitter * this.random());
    return Math.round(Math.min(this.maxMs, scaled));
  }

  /** Consecutive failures since the last reset. */
  get failures(): number {
    return this.attempt;
  }

  reset(): void {
    this.attempt = 0;
  }
}
