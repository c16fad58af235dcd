/**
 * A deduplicating work queue, as client-go's: informer handlers only add keys; workers reconcile a
 * key from the cache. A key is never processed by two workers at once; adding a key that is waiting
 * is a no-op, adding one that is being processed runs it once more afterwards. Failed keys are
 * retried with per-key backoff; every key is re-added periodically (resync).
 */
import { WORKQUEUE_RESYNC_MS } from '../constants/index.js';
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
  /** Coalescing delay before an added key is processed (default 0). */
  debounceMs?: number;
  /** Attempts per key before it is dropped (default 15). */
  maxRetries?: number;
  retryBackoff?: BackoffOptions;
  logger?: Logger;
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
  private readonly delayed = new Map<string, NodeJS.Timeout>();
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
    for (const t of this.delayed.values()) clearTimeout(t);
    this.delayed.clear();
    this.wake?.();
    await Promise.all(this.workers);
    this.workers = [];
    this.notifyIdle(true);
  }

  /** Adds a key (after the debounce delay, if any). */
  add(key: string): void {
    const d = this.opts.debounceMs ?? 0;
    if (d > 0) this.addAfter(key, d);
    else this.addNow(key);
  }

  /** Adds a key after `ms`; a key already scheduled keeps its earlier time. */
  addAfter(key: string, ms: number): void {
    if (ms <= 0) return this.addNow(key);
    if (this.delayed.has(key) || this.dirty.has(key)) return;
    const t = setTimeout(() => {
      this.delayed.delete(key);
      this.addNow(key);
    }, ms);
    this.delayed.set(key, t);
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
