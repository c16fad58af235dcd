/**
 * A deduplicating work queue, as client-go's: informer handlers only add keys; workers reconcile a
 * key from the cache. A key is never processed by two workers at once; adding a key that is waiting
 * is a no-op, adding one that is being processed runs it once more afterwards. Failed keys are
 * retried with per-key backoff; every key is re-added periodically (resync).
 *
 * Coalescing (debounceMs > 0) is leading-edge: a quiet key — not added within the last debounceMs —
 * is queued at once, so an isolated change costs no delay. A key added again while it is hot is
 * held until it has been quiet for debounceMs (each further add extends the hold), but never longer
 * than maxDelayMs after the first held add, so a key that never goes quiet still progresses. A
 * burst of changes to one key thus costs two reconciles: the first change and the settled state.
 * Holding is always safe: a held key is reconciled from the cache, which has the latest object.
 */
import { WORKQUEUE_COALESCE_MAX_DELAY_MS, WORKQUEUE_RESYNC_MS } from '../constants/index.js';
import { errorMessage, silentLogger, type Logger } from '../logger/index.js';
import { Backoff, type BackoffOptions } from '../backoff/index.js';

export interface WorkQueueOptions {
  /** Reconciles one key; throwing schedules a retry with backoff. */
  reconcile: (key: string) => Promise<void> | void;
  /** Parallel workers (default 1). */
  concurrency?: number;
  /** Resync period; 0 disables (default 60 s). */
  resyncMs?: number;
  /** The keys re-added at each resync (e.g. the informer cache's keys). */
  resyncKeys?: () => Iterable<string>;
  /**
   * Coalescing window (default 0: none). A key added again within this window of its last add is
   * held until it has been quiet this long; a quiet key is queued at once.
   */
  debounceMs?: number;
  /** Longest a held key waits after its first held add (default WORKQUEUE_COALESCE_MAX_DELAY_MS). */
  maxDelayMs?: number;
  /** Time source and timers of the coalescing and retry delays (tests pass a manual clock). */
  clock?: QueueClock;
  /** Attempts per key before it is dropped (default 15). */
  maxRetries?: number;
  retryBackoff?: BackoffOptions;
  logger?: Logger;
}

/** What the queue needs of time; the default is performance.now() and the global timers. */
export interface QueueClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const realClock: QueueClock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** A key waiting for a timer: a retry's backoff, or a coalescing hold. */
interface Delayed {
  handle: unknown;
}

export interface WorkQueueStats {
  depth: number;
  processing: number;
  processed: number;
  retries: number;
  dropped: number;
}

export class WorkQueue {
  private readonly queue: string[] = [];
  private readonly dirty = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly delayed = new Map<string, Delayed>();
  /**
   * Keys added within the last debounceMs → time of their last add. Re-inserted on every add, so
   * the Map's order is the order of last adds and expired keys are pruned from its head.
   */
  private readonly recent = new Map<string, number>();
  private readonly clock: QueueClock;
  private readonly failures = new Map<string, Backoff>();
  private wake?: () => void;
  private idleWaiters: (() => void)[] = [];
  private workers: Promise<void>[] = [];
  private resyncTimer?: NodeJS.Timeout;
  private stopped = true;
  private counts = { processed: 0, retries: 0, dropped: 0 };
  private readonly log: Logger;

  constructor(private readonly opts: WorkQueueOptions) {
    this.log = (opts.logger ?? silentLogger()).child({ component: 'workqueue' });
    this.clock = opts.clock ?? realClock;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    const n = Math.max(1, this.opts.concurrency ?? 1);
    for (let i = 0; i < n; i++) this.workers.push(this.worker());
    const resyncMs = this.opts.resyncMs ?? WORKQUEUE_RESYNC_MS;
    if (resyncMs > 0 && this.opts.resyncKeys) {
      this.resyncTimer = setInterval(() => this.resync(), resyncMs);
      this.resyncTimer.unref();
    }
  }

  /** Stops the workers after the keys being processed finish; waiting keys are dropped. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.resyncTimer);
    for (const d of this.delayed.values()) this.clock.clearTimeout(d.handle);
    this.delayed.clear();
    this.recent.clear();
    this.wake?.();
    await Promise.all(this.workers);
    this.workers = [];
    this.notifyIdle(true);
  }

  /** Adds a key: at once when it is quiet, held when it was added within the coalescing window. */
  add(key: string): void {
    const window = this.opts.debounceMs ?? 0;
    if (window <= 0) return this.addNow(key);
    const now = this.clock.now();
    this.pruneRecent(now);
    const hot = this.recent.has(key);
    this.recent.delete(key);
    this.recent.set(key, now);
    // Waiting in the queue or for a timer: that run reads the cache later, so it sees this change.
    if (this.dirty.has(key) || this.delayed.has(key)) return;
    if (!hot) return this.addNow(key);
    this.hold(key, now, window);
  }

  /** Adds a key after `ms`; a key already scheduled keeps its earlier time. */
  addAfter(key: string, ms: number): void {
    if (ms <= 0) return this.addNow(key);
    if (this.delayed.has(key) || this.dirty.has(key)) return;
    const handle = this.clock.setTimeout(() => {
      this.delayed.delete(key);
      this.addNow(key);
    }, ms);
    this.delayed.set(key, { handle });
  }

  /** Holds a hot key until it has been quiet for `window` (at most maxDelayMs after `since`). */
  private hold(key: string, since: number, window: number): void {
    const maxDelay = this.opts.maxDelayMs ?? WORKQUEUE_COALESCE_MAX_DELAY_MS;
    const check = (): void => {
      const now = this.clock.now();
      const due = Math.min((this.recent.get(key) ?? since) + window, since + maxDelay);
      // Timers fire at whole milliseconds: under 1 ms to go counts as due.
      if (due - now < 1) {
        this.delayed.delete(key);
        this.addNow(key);
        return;
      }
      entry.handle = this.clock.setTimeout(check, due - now);
    };
    const entry: Delayed = { handle: this.clock.setTimeout(check, window) };
    this.delayed.set(key, entry);
  }

  /** Forgets the keys whose last add is older than the coalescing window. */
  private pruneRecent(now: number): void {
    const window = this.opts.debounceMs ?? 0;
    for (const [key, at] of this.recent) {
      if (now - at < window) break;
      // A held key pruned here has been quiet for the window: its hold is due (`since` stands in).
      this.recent.delete(key);
    }
  }

  private addNow(key: string): void {
    if (this.dirty.has(key)) return;
    this.dirty.add(key);
    if (this.processing.has(key)) return;
    this.queue.push(key);
    this.wake?.();
  }

  /** Re-adds every key from resyncKeys (also called by the timer). */
  resync(): void {
    if (!this.opts.resyncKeys) return;
    for (const k of this.opts.resyncKeys()) this.addNow(k);
  }

  get length(): number {
    return this.queue.length;
  }

  stats(): WorkQueueStats {
    return { depth: this.queue.length + this.delayed.size, processing: this.processing.size, ...this.counts };
  }

  /** Resolves when nothing is queued, delayed or being processed. */
  drained(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private isIdle(): boolean {
    return this.queue.length === 0 && this.processing.size === 0 && this.delayed.size === 0;
  }

  private notifyIdle(force = false): void {
    if (!force && !this.isIdle()) return;
    const ws = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of ws) w();
  }

  private async next(): Promise<string | undefined> {
    while (!this.stopped) {
      const k = this.queue.shift();
      if (k !== undefined) return k;
      this.notifyIdle();
      await new Promise<void>((resolve) => {
        const prev = this.wake;
        this.wake = () => {
          this.wake = undefined;
          prev?.();
          resolve();
        };
      });
    }
    return undefined;
  }

  private async worker(): Promise<void> {
    for (;;) {
      const key = await this.next();
      if (key === undefined) return;
      this.dirty.delete(key);
      this.processing.add(key);
      try {
        await this.opts.reconcile(key);
        this.failures.delete(key);
        this.counts.processed++;
      } catch (e) {
        this.retry(key, e);
      } finally {
        this.processing.delete(key);
        if (this.dirty.has(key) && !this.stopped) {
          this.queue.push(key);
          this.wake?.();
        }
        this.notifyIdle();
      }
    }
  }

  private retry(key: string, e: unknown): void {
    let b = this.failures.get(key);
    if (!b) {
      b = new Backoff({ initialMs: 50, maxMs: 10_000, ...this.opts.retryBackoff });
      this.failures.set(key, b);
    }
    const max = this.opts.maxRetries ?? 15;
    if (b.failures >= max) {
      this.failures.delete(key);
      this.counts.dropped++;
      this.log.error('reconcile failed too often; dropping the key until it changes', {
        key,
        attempts: b.failures + 1,
        error: errorMessage(e),
      });
      return;
    }
    this.counts.retries++;
    const delay = b.next();
    this.log.warn('reconcile failed; retrying', { key, delayMs: delay, error: errorMessage(e) });
    if (!this.stopped) this.addAfter(key, delay);
  }
}
