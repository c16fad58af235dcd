/**
 * A Scheduler (pkg/ads/scheduler.ts) the test drives: "soon" work waits in a queue until run(),
 * timers fire only when advance() moves the manual clock past them. In-memory ADS tests are
 * therefore deterministic: no polling, no sleeps, no timing.
 */
import type { Scheduler } from '../../pkg/ads/index.js';

interface Timer {
  readonly at: number;
  readonly fn: () => void;
  cancelled: boolean;
}

export class ManualScheduler implements Scheduler {
  private queue: (() => void)[] = [];
  private timers: Timer[] = [];
  /** The manual clock, in ms. */
  now = 0;

  soon(fn: () => void): void {
    this.queue.push(fn);
  }

  after(ms: number, fn: () => void): () => void {
    const t: Timer = { at: this.now + ms, fn, cancelled: false };
    this.timers.push(t);
    return () => {
      t.cancelled = true;
    };
  }

  /** Runs queued work, and the work it queues, until nothing is left; returns how many ran. */
  run(): number {
    let n = 0;
    while (this.queue.length > 0) {
      if (++n > 100_000) throw new Error('ManualScheduler.run: work keeps queueing more work (a loop?)');
      this.queue.shift()!();
    }
    return n;
  }

  /** Timers not yet fired nor cancelled. */
  get pendingTimers(): number {
    return this.timers.filter((t) => !t.cancelled).length;
  }

  /** Moves the clock by `ms`, firing due timers in order (running queued work after each). */
  advance(ms: number): void {
    const until = this.now + ms;
    this.run();
    for (;;) {
      const due = this.timers.filter((t) => !t.cancelled && t.at <= until).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      due.cancelled = true;
      this.now = due.at;
      due.fn();
      this.run();
    }
    this.timers = this.timers.filter((t) => !t.cancelled);
    this.now = until;
  }
}
