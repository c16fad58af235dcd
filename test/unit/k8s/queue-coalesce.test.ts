/**
 * Leading-edge coalescing of the WorkQueue, on a manual clock: no test waits for real time, so the
 * counts below are exact, not "usually".
 */
import { WorkQueue, type QueueClock } from '../../../pkg/k8s/index.js';

/** A clock whose time moves only when the test says so; due timers run in time order. */
class ManualClock implements QueueClock {
  private t = 0;
  private seq = 0;
  private readonly timers = new Map<number, { at: number; fn: () => void }>();
  now(): number {
    return this.t;
  }
  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.seq;
    this.timers.set(id, { at: this.t + Math.max(1, ms), fn });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number);
  }
  get pending(): number {
    return this.timers.size;
  }
  /** Moves time forward by `ms`, running each timer that falls due at its own time. */
  async advance(ms: number): Promise<void> {
    await settle(); // what was started at the current time runs at the current time
    const end = this.t + ms;
    for (;;) {
      let next: [number, { at: number; fn: () => void }] | undefined;
      for (const e of this.timers) if (e[1].at <= end && (!next || e[1].at < next[1].at)) next = e;
      if (!next) break;
      this.timers.delete(next[0]);
      this.t = next[1].at;
      next[1].fn();
      await settle();
    }
    this.t = end;
    await settle();
  }
}

/** Lets the queue's workers run everything they can without time passing. */
async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
}

const WINDOW = 50;
const MAX_DELAY = 1000;

describe('WorkQueue leading-edge coalescing', () => {
  let q: WorkQueue | undefined;
  let clock: ManualClock;
  let seen: { key: string; at: number }[];
  const start = (extra: { concurrency?: number; reconcile?: (k: string) => Promise<void> | void } = {}) => {
    q = new WorkQueue({
      resyncMs: 0,
      debounceMs: WINDOW,
      maxDelayMs: MAX_DELAY,
      clock,
      concurrency: extra.concurrency,
      reconcile: extra.reconcile ?? ((key) => void seen.push({ key, at: clock.now() })),
    });
    q.start();
    return q;
  };
  beforeEach(() => {
    clock = new ManualClock();
    seen = [];
  });
  afterEach(async () => {
    await q?.stop();
    q = undefined;
  });

  it('reconciles a quiet key at once: no time passes', async () => {
    const wq = start();
    wq.add('ns/a');
    await settle();
    expect(seen).toEqual([{ key: 'ns/a', at: 0 }]);
    expect(clock.pending).toBe(0);
  });

  it('a burst of 100 changes to one pod, 1 ms apart, costs 2 reconciles: the first and the settled state', async () => {
    const wq = start();
    for (let i = 0; i < 100; i++) {
      wq.add('ns/burst');
      await clock.advance(1);
    }
    expect(seen.map((s) => s.at)).toEqual([0]);
    await clock.advance(WINDOW);
    expect(seen).toEqual([
      { key: 'ns/burst', at: 0 },
      // The last add was at 99 ms: the key ran once it had been quiet for the window.
      { key: 'ns/burst', at: 99 + WINDOW },
    ]);
    expect(seen.length).toBeLessThanOrEqual(3);
    await wq.drained();
  });

  it('a burst as fast as PATCH round trips (8 ms apart) also costs 2 reconciles', async () => {
    const wq = start();
    for (let i = 0; i < 100; i++) {
      wq.add('ns/burst');
      await clock.advance(8);
    }
    await clock.advance(WINDOW);
    // 100 adds over 800 ms: under the 1 s bound, so one hold covers all 99 later changes.
    expect(seen.map((s) => s.at)).toEqual([0, 792 + WINDOW]);
  });

  it('100 changes added back to back (no time between) cost 2 reconciles', async () => {
    const wq = start();
    wq.add('ns/burst');
    await settle();
    for (let i = 0; i < 99; i++) wq.add('ns/burst');
    await clock.advance(WINDOW);
    expect(seen.map((s) => s.at)).toEqual([0, WINDOW]);
  });

  it('adds before the first reconcile starts are one reconcile (the waiting run reads the latest)', async () => {
    const wq = start();
    for (let i = 0; i < 10; i++) wq.add('ns/d');
    await clock.advance(10 * WINDOW);
    expect(seen.map((s) => s.at)).toEqual([0]);
  });

  it('a key quiet for the window is reconciled at once again', async () => {
    const wq = start();
    wq.add('ns/a');
    await clock.advance(WINDOW);
    wq.add('ns/a');
    await settle();
    expect(seen.map((s) => s.at)).toEqual([0, WINDOW]);
    await clock.advance(WINDOW - 1);
    // Added 49 ms after the last add: hot, held until quiet for the window.
    wq.add('ns/a');
    await settle();
    expect(seen).toHaveLength(2);
    await clock.advance(WINDOW);
    expect(seen.map((s) => s.at)).toEqual([0, WINDOW, 2 * WINDOW - 1 + WINDOW]);
  });

  it('a key that never goes quiet is still reconciled every maxDelayMs', async () => {
    const wq = start();
    for (let t = 0; t < 3500; t += 5) {
      wq.add('ns/busy');
      await clock.advance(5);
    }
    // 0: leading; a hold begins at 5 and ends at its bound, the next add begins the next hold.
    expect(seen.map((s) => s.at)).toEqual([0, 5 + MAX_DELAY, 5 + 2 * MAX_DELAY, 5 + 3 * MAX_DELAY]);
    await clock.advance(WINDOW);
    expect(seen.at(-1)!.at).toBe(3495 + WINDOW);
  });

  it('a hot key does not delay other keys', async () => {
    const wq = start();
    wq.add('ns/hot');
    await clock.advance(1);
    wq.add('ns/hot');
    wq.add('ns/other');
    await settle();
    expect(seen).toEqual([
      { key: 'ns/hot', at: 0 },
      { key: 'ns/other', at: 1 },
    ]);
    await clock.advance(WINDOW);
    expect(seen.map((s) => s.key)).toEqual(['ns/hot', 'ns/other', 'ns/hot']);
  });

  it('a change while the key is being reconciled is held, then reconciled (never lost)', async () => {
    let release!: () => void;
    const blocked = new Promise<void>((r) => (release = r));
    const wq = start({
      reconcile: async (key) => {
        seen.push({ key, at: clock.now() });
        if (seen.length === 1) await blocked;
      },
    });
    wq.add('ns/a');
    await settle();
    wq.add('ns/a'); // arrives mid-reconcile
    await clock.advance(WINDOW + 10);
    expect(seen).toHaveLength(1); // the first reconcile still runs: never two at once
    release();
    await settle();
    expect(seen.map((s) => s.at)).toEqual([0, WINDOW + 10]);
    await wq.drained();
  });

  it('drained() waits for held keys; stop() drops them', async () => {
    const wq = start();
    wq.add('ns/a');
    await settle();
    wq.add('ns/a');
    let drained = false;
    void wq.drained().then(() => (drained = true));
    await settle();
    expect(drained).toBe(false);
    expect(wq.stats().depth).toBe(1);
    await clock.advance(WINDOW);
    expect(drained).toBe(true);

    wq.add('ns/a'); // quiet since 0: at once
    await settle();
    wq.add('ns/a'); // hot: held
    await settle();
    expect(clock.pending).toBe(1);
    await wq.stop();
    expect(clock.pending).toBe(0);
    await clock.advance(10 * WINDOW);
    expect(seen).toHaveLength(3);
  });

  it('without a window every add is queued at once (no clock involved)', async () => {
    q = new WorkQueue({ resyncMs: 0, clock, reconcile: (key) => void seen.push({ key, at: clock.now() }) });
    q.start();
    q.add('a');
    await settle();
    q.add('a');
    await settle();
    expect(seen.map((s) => s.key)).toEqual(['a', 'a']);
    expect(clock.pending).toBe(0);
  });
});
