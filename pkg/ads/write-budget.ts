/**
 * One engine-wide budget of response bytes handed to transports and not yet flushed. Each stream
 * already keeps at most `maxInFlight` responses unflushed; this bounds the sum over every stream.
 * Without it, 10,000 proxies connecting at once (a controller restart) each get their first full
 * config in the same few event-loop turns: with 1,000 Services that is ~1.5 MB per stream, built
 * and queued in grpc-js at once (bench:controller --mesh peaked at 7 GB before it was stopped).
 *
 * A stream asks before it builds a response (`available`); when the budget is spent it waits in a
 * FIFO line and is resumed as flushed bytes come back. A response is admitted while the bytes in
 * flight are under the limit, so one response larger than the whole budget still goes (alone), and
 * the bytes in flight never exceed the limit plus one response.
 */
export class WriteBudget {
  private used = 0;
  /** Streams waiting for budget, in arrival order (a Set keeps insertion order). */
  private readonly waiting = new Set<() => void>();
  private waking = false;

  constructor(readonly limitBytes: number) {
    if (!Number.isFinite(limitBytes) || limitBytes <= 0) {
      throw new Error(`write budget: must be a positive number of bytes, got ${String(limitBytes)}`);
    }
  }

  /** Bytes handed to transports and not yet flushed. */
  get inFlightBytes(): number {
    return this.used;
  }

  /** Streams waiting for budget. */
  get waitingStreams(): number {
    return this.waiting.size;
  }

  /** Whether a response may be built and written now: under the limit, and nobody waits before us. */
  available(): boolean {
    return this.used < this.limitBytes && (this.waiting.size === 0 || this.waking);
  }

  /** Counts bytes handed to a transport. */
  take(bytes: number): void {
    this.used += bytes;
  }

  /** Gives back bytes a transport flushed (or will never flush), resuming waiters in turn. */
  give(bytes: number): void {
    this.used -= bytes;
    this.wake();
  }

  /** Queues `resume` until budget is back (called at most once; cancel() takes it out). */
  wait(resume: () => void): void {
    this.waiting.add(resume);
  }

  cancel(resume: () => void): void {
    this.waiting.delete(resume);
  }

  /**
   * Resumes waiters first come, first served while budget remains. Each runs synchronously and
   * takes what it writes, so the loop stops as soon as the budget is spent again.
   */
  private wake(): void {
    if (this.waking) return;
    this.waking = true;
    try {
      while (this.used < this.limitBytes && this.waiting.size > 0) {
        const next = this.waiting.values().next().value!;
        this.waiting.delete(next);
        next();
      }
    } finally {
      this.waking = false;
    }
  }
}
