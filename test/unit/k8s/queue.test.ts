import { WorkQueue } from '../../../pkg/k8s/index.js';

function gate(): { wait: Promise<void>; open: () => void } {
  let open!: () => void;
  const wait = new Promise<void>((r) => (open = r));
  return { wait, open };
}

describe('WorkQueue', () => {
  let q: WorkQueue | undefined;
  afterEach(async () => {
    await q?.stop();
    q = undefined;
  });

  it('deduplicates keys that are waiting', async () => {
    const seen: string[] = [];
    q = new WorkQueue({ reconcile: (k) => void seen.push(k), resyncMs: 0 });
    q.add('a');
    q.add('b');
    q.add('a');
    q.add('a');
    expect(q.length).toBe(2);
    q.start();
    await q.drained();
    expect(seen).toEqual(['a', 'b']);
    expect(q.stats().processed).toBe(2);
  });

  it('a key re-added while processing runs once more, never concurrently with itself', async () => {
    const g = gate();
    let active = 0;
    let maxActive = 0;
    const seen: string[] = [];
    q = new WorkQueue({
      concurrency: 4,
      resyncMs: 0,
      reconcile: async (k) => {
        active++;
        maxActive = Math.max(maxActive, active);
        seen.push(k);
        if (seen.length === 1) await g.wait;
        active--;
      },
    });
    q.start();
    q.add('x');
    while (seen.length === 0) await new Promise((r) => setTimeout(r, 1));
    q.add('x');
    q.add('x');
    await new Promise((r) => setTimeout(r, 10));
    expect(seen).toEqual(['x']);
    g.open();
    await q.drained();
    expect(seen).toEqual(['x', 'x']);
    expect(maxActive).toBe(1);
  });

  it('retries a failing key with backoff, then succeeds', async () => {
    let attempts = 0;
    q = new WorkQueue({
      resyncMs: 0,
      retryBackoff: { initialMs: 1, maxMs: 5 },
      reconcile: () => {
        attempts++;
        if (attempts < 4) throw new Error('not yet');
      },
    });
    q.start();
    q.add('k');
    while (q.stats().processed < 1) await new Promise((r) => setTimeout(r, 2));
    expect(attempts).toBe(4);
    expect(q.stats().retries).toBe(3);
  });

  it('drops a key after maxRetries', async () => {
    let attempts = 0;
    q = new WorkQueue({
      resyncMs: 0,
      maxRetries: 2,
      retryBackoff: { initialMs: 1, maxMs: 2 },
      reconcile: () => {
        attempts++;
        throw new Error('always');
      },
    });
    q.start();
    q.add('k');
    while (q.stats().dropped < 1) await new Promise((r) => setTimeout(r, 2));
    expect(attempts).toBe(3);
    await q.drained();
  });

  it('resync re-adds every key; the timer does it periodically', async () => {
    const seen: string[] = [];
    q = new WorkQueue({ reconcile: (k) => void seen.push(k), resyncMs: 5, resyncKeys: () => ['r1', 'r2'] });
    q.start();
    while (seen.filter((k) => k === 'r1').length < 2) await new Promise((r) => setTimeout(r, 2));
    expect(seen.slice(0, 2)).toEqual(['r1', 'r2']);
  });

  it('debounce coalesces rapid adds of one key', async () => {
    const seen: string[] = [];
    q = new WorkQueue({ reconcile: (k) => void seen.push(k), resyncMs: 0, debounceMs: 20 });
    q.start();
    for (let i = 0; i < 10; i++) q.add('d');
    await q.drained();
    expect(seen).toEqual(['d']);
  });

  it('stop() waits for the running key and drops waiting ones', async () => {
    const g = gate();
    const seen: string[] = [];
    const wq = new WorkQueue({
      resyncMs: 0,
      reconcile: async (k) => {
        seen.push(k);
        if (k === 'slow') await g.wait;
      },
    });
    wq.start();
    wq.add('slow');
    wq.add('later');
    while (seen.length === 0) await new Promise((r) => setTimeout(r, 1));
    const stopped = wq.stop();
    g.open();
    await stopped;
    expect(seen).toEqual(['slow']);
  });
});
