/**
 * When the engine does deferred work: the coalesced flush of a stream ("soon", after every
 * request and snapshot change of the current turn) and its timers (the unknown-node wait, the
 * drain grace period). Production uses the event loop; in-memory tests pass a manual scheduler so
 * that "run until nothing is left to do" and "advance the clock" are explicit and deterministic.
 */
export interface Scheduler {
  /** Runs `fn` after the current turn (setImmediate). */
  soon(fn: () => void): void;
  /** Runs `fn` after `ms` without keeping the process alive; returns the cancel function. */
  after(ms: number, fn: () => void): () => void;
}

export const eventLoopScheduler: Scheduler = {
  soon(fn) {
    setImmediate(fn);
  },
  after(ms, fn) {
    const timer = setTimeout(fn, ms);
    timer.unref?.();
    return () => clearTimeout(timer);
  },
};
