/**
 * A deduplicating work queue, as client-go's: informer handlers only add keys; workers reconcile a
 * key from the cache. A key is never processed by two workers at once; adding a key that is waiting
 * is a no-op, adding one that is being processed runs it once more afterwards. Failed keys are
 * retried with per-key backoff; every key is re-added periodically (resync).
 *
 * Coalescing (debounceMs > 0) is leading-edge: a key whose last reconcile began more than
 * coalesceIntervalMs ago is queued at once, so an isolated change costs no delay. A key added while
 * it is being reconciled, or within coalesceIntervalMs of its last reconcile, is held: until that
 * interval has passed since the last reconcile began and the key has been quiet for debounceMs,
 * but never longer than coalesceIntervalMs after the first held add. A key thus runs at most once
 * per interval while it keeps changing (the first change at once), and a burst shorter than the
 * interval costs two reconciles — the first change and the settled state — however its changes are
 * spaced: a hold that ended at the first pause (an API server's GC, a loaded machine) would cost a
 * reconcile and a push for every pause. Holding is always safe: a held key is reconciled from the
 * cache, which has the latest object.
 */
import { WORKQUEUE_COALESCE_INTERVAL_MS, WORKQUEUE_RESYNC_MS } from '../constants/index.js';
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
   * Coalescing (default 0: none): a held key is reconciled once it has been quiet this long (and
   * coalesceIntervalMs after its last reconcile began); a key not reconciled lately is queued at once.
   */
  debounceMs?: number;
  /**
   * With debounceMs: a key is reconciled at most once per this interval while it keeps changing,
   * and a held key waits at most this long (default WORKQUEUE_COALESCE_INTERVAL_MS).
   */
  coalesceIntervalMs?: number;
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
   * With coalescing: key → when its last reconcile began, for keys that began within the interval;
   * key → its last add, for keys added within debounceMs. Re-inserted on every update, so each Map's
   * order is the order of its times and expired keys are pruned from its head.
   */
  private readonly started = new Map<string, number>();
  private readonly lastAdd = new Map<string, number>();
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
    this.started.clear();
    this.lastAdd.clear();
    this.wake?.();
    await Promise.all(this.workers);
    this.workers = [];
    this.notifyIdle(true);
  }

  /** Adds a key: at once unless it was reconciled lately (then held, see the top of this file). */
  add(key: string): void {
    const window = this.opts.debounceMs ?? 0;
    if (window <= 0) return this.addNow(key);
    const now = this.clock.now();
    this.prune(now);
    this.lastAdd.delete(key);
    this.lastAdd.set(key, now);
    // Waiting in the queue or for a timer: that run reads the cache later, so it sees this change.
    if (this.dirty.has(key) || this.delayed.has(key)) return;
    if (!this.processing.has(key) && !this.started.has(key)) return this.addNow(key);
    this.hold(key, now);
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

  private get interval(): number {
    return this.opts.coalesceIntervalMs ?? WORKQUEUE_COALESCE_INTERVAL_MS;
  }

  /**
   * Holds a key added at `since`: until the interval has passed since its last reconcile began and
   * it has been quiet for debounceMs, at most the interval after `since`.
   */
  private hold(key: string, since: number): void {
    const window = this.opts.debounceMs ?? 0;
    const check = (): void => {
      const now = this.clock.now();
      const began = this.started.get(key) ?? -Infinity;
      const due = Math.min(
        Math.max(began + this.interval, (this.lastAdd.get(key) ?? since) + window),
        since + this.interval,
      );
      // Timers fire at whole milliseconds: under 1 ms to go counts as due.
      if (due - now < 1) {
        this.delayed.delete(key);
        this.addNow(key);
        return;
      }
      entry.handle = this.clock.setTimeout(check, due - now);
    };
    const entry: Delayed = { handle: undefined };
    this.delayed.set(key, entry);
    check();
  }

  /** Forgets the reconcile starts older than the interval and the adds older than debounceMs. */
  private prune(now: number): void {
    const window = this.opts.debounceMs ?? 0;
    // A pruned time is one that no longer decides anything (see hold: `since` stands in).
    for (const [key, at] of this.started) {
      if (now - at < this.interval) break;
      this.started.delete(key);
    }
    for (const [key, at] of this.lastAdd) {
      if (now - at < window) break;
      this.lastAdd.delete(key);
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
      if ((this.opts.debounceMs ?? 0) > 0) {
        const now = this.clock.now();
        this.prune(now);
        this.started.delete(key);
        this.started.set(key, now);
      }
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
