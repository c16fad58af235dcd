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
const INTERVAL = 1000;

describe('WorkQueue leading-edge coalescing', () => {
  let q: WorkQueue | undefined;
  let clock: ManualClock;
  let seen: { key: string; at: number }[];
  const start = (extra: { concurrency?: number; reconcile?: (k: string) => Promise<void> | void } = {}) => {
    q = new WorkQueue({
      resyncMs: 0,
      debounceMs: WINDOW,
      coalesceIntervalMs: INTERVAL,
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

  it('reconciles a key not reconciled lately at once: no time passes', async () => {
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
    await clock.advance(INTERVAL);
    // The last add was at 99 ms: the key ran one interval after its first reconcile began.
    expect(seen).toEqual([
      { key: 'ns/burst', at: 0 },
      { key: 'ns/burst', at: INTERVAL },
    ]);
    expect(seen.length).toBeLessThanOrEqual(3);
    await wq.drained();
  });

  it('a burst as fast as PATCH round trips (8 ms apart, 792 ms long) also costs 2 reconciles', async () => {
    const wq = start();
    for (let i = 0; i < 100; i++) {
      wq.add('ns/burst');
      await clock.advance(8);
    }
    await clock.advance(INTERVAL);
    expect(seen.map((s) => s.at)).toEqual([0, INTERVAL]);
  });

  it('pauses within a burst (200 ms, as a loaded API server makes them) do not split it', async () => {
    const wq = start();
    for (const gap of [0, 2, 3, 200, 1, 1, 250, 2, 2, 2, 300, 5]) {
      await clock.advance(gap);
      wq.add('ns/burst');
    }
    await clock.advance(INTERVAL);
    expect(seen.map((s) => s.at)).toEqual([0, INTERVAL]);
  });

  it('a burst longer than the interval costs one more reconcile per interval', async () => {
    const wq = start();
    for (let i = 0; i < 100; i++) {
      wq.add('ns/burst');
      await clock.advance(11); // 1,100 ms
    }
    await clock.advance(2 * INTERVAL);
    expect(seen.map((s) => s.at)).toEqual([0, 11 + INTERVAL, 11 + 2 * INTERVAL]);
    expect(seen.length).toBeLessThanOrEqual(3);
  });

  it('100 changes added back to back (no time between) cost 2 reconciles', async () => {
    const wq = start();
    wq.add('ns/burst');
    await settle();
    for (let i = 0; i < 99; i++) wq.add('ns/burst');
    await clock.advance(INTERVAL);
    expect(seen.map((s) => s.at)).toEqual([0, INTERVAL]);
  });

  it('adds before the first reconcile starts are one reconcile (the waiting run reads the latest)', async () => {
    const wq = start();
    for (let i = 0; i < 10; i++) wq.add('ns/d');
    await clock.advance(10 * INTERVAL);
    expect(seen.map((s) => s.at)).toEqual([0]);
  });

  it('the settled state waits for the debounce window when changes go on to the end of the interval', async () => {
    const wq = start();
    wq.add('ns/a');
    await clock.advance(980);
    wq.add('ns/a'); // held from 980: due at max(0 + 1000, 980 + 50) = 1030
    await clock.advance(30);
    expect(seen.map((s) => s.at)).toEqual([0]);
    await clock.advance(40);
    expect(seen.map((s) => s.at)).toEqual([0, 1030]);
  });

  it('a key not reconciled within the interval is reconciled at once again', async () => {
    const wq = start();
    wq.add('ns/a');
    await clock.advance(INTERVAL);
    wq.add('ns/a');
    await settle();
    expect(seen.map((s) => s.at)).toEqual([0, INTERVAL]);
    await clock.advance(INTERVAL - 1);
    // 999 ms after the last reconcile began: held until the interval has passed and 50 ms of quiet.
    wq.add('ns/a');
    await settle();
    expect(seen).toHaveLength(2);
    await clock.advance(INTERVAL);
    expect(seen.map((s) => s.at)).toEqual([0, INTERVAL, 2 * INTERVAL - 1 + WINDOW]);
  });

  it('a key that never goes quiet is reconciled once per interval', async () => {
    const wq = start();
    for (let t = 0; t < 3500; t += 5) {
      wq.add('ns/busy');
      await clock.advance(5);
    }
    // 0: at once; each hold then ends at its bound, one interval after its first add.
    expect(seen.map((s) => s.at)).toEqual([0, 5 + INTERVAL, 5 + 2 * INTERVAL, 5 + 3 * INTERVAL]);
    await clock.advance(INTERVAL);
    expect(seen.at(-1)!.at).toBe(5 + 4 * INTERVAL);
    expect(seen).toHaveLength(5);
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
    await clock.advance(INTERVAL);
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
    await clock.advance(INTERVAL + 10);
    release();
    await settle();
    // The hold ended at 1000 while the first reconcile still ran: the second follows it, never beside it.
    expect(seen.map((s) => s.at)).toEqual([0, INTERVAL + 10]);
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
    await clock.advance(INTERVAL);
    expect(drained).toBe(true);

    wq.add('ns/a'); // reconciled at 1000: held
    await settle();
    expect(clock.pending).toBe(1);
    await wq.stop();
    expect(clock.pending).toBe(0);
    await clock.advance(10 * INTERVAL);
    expect(seen).toHaveLength(2);
  });

  it('without a debounce window every add is queued at once (no clock involved)', async () => {
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
