/**
 * The engine-wide write budget: the pure rules (table), then the in-memory engine with readers
 * that do not read (writes stay unflushed, as with a proxy that has not drained its HTTP/2 window):
 * streams beyond the budget wait without building a response, take their turn first come first
 * served as bytes are flushed, and a stream that goes away gives its unflushed bytes back.
 */
import { WriteBudget } from '../../../pkg/ads/index.js';
import { CLUSTER_TYPE_URL } from '../../../pkg/envoy/index.js';
import { MemoryAds, type MemorySotw } from '../../support/ads-memory.js';
import { cla, cluster } from '../../support/ads-resources.js';
import { EDS } from '../../support/ads-resources.js';

describe('WriteBudget rules', () => {
  it.each([
    // [limit, taken before, waiting before, available]
    [100, 0, 0, true],
    [100, 99, 0, true],
    [100, 100, 0, false],
    [100, 250, 0, false],
    [100, 0, 1, false], // someone waits: a newcomer queues behind them (first come, first served)
  ])('limit %d, %d bytes in flight, %d waiting → available %s', (limit, used, waiters, expected) => {
    const b = new WriteBudget(limit);
    b.take(used);
    for (let i = 0; i < waiters; i++) b.wait(() => undefined);
    expect(b.available()).toBe(expected);
  });

  it('give() resumes waiters in arrival order while budget remains; each takes what it writes', () => {
    const b = new WriteBudget(100);
    b.take(100);
    const order: string[] = [];
    const writer = (name: string, bytes: number) => () => {
      expect(b.available()).toBe(true); // a woken waiter may write
      order.push(name);
      b.take(bytes);
    };
    b.wait(writer('a', 60));
    b.wait(writer('b', 60));
    b.wait(writer('c', 60));
    b.give(100); // 0 in flight: a (60), b (120): the budget is spent again, c waits
    expect(order).toEqual(['a', 'b']);
    expect(b.waitingStreams).toBe(1);
    expect(b.inFlightBytes).toBe(120);
    b.give(60);
    expect(order).toEqual(['a', 'b', 'c']);
    expect(b.waitingStreams).toBe(0);
  });

  it('a response larger than the whole budget goes alone; a cancelled waiter is never resumed', () => {
    const b = new WriteBudget(10);
    expect(b.available()).toBe(true);
    b.take(1000);
    let resumed = 0;
    const r = (): void => void resumed++;
    b.wait(r);
    b.cancel(r);
    b.give(1000);
    expect(resumed).toBe(0);
    expect(b.inFlightBytes).toBe(0);
  });

  it.each([0, -1, Number.NaN, Number.POSITIVE_INFINITY])('refuses a limit of %s bytes', (limit) => {
    expect(() => new WriteBudget(limit)).toThrow(/write budget: must be a positive number of bytes/);
  });
});

describe('write budget in the engine', () => {
  const STREAMS = 20;
  /** One node's snapshot: a cluster and a load assignment of 400 endpoints (~8 KB on the wire). */
  function bigSnapshot(i: number) {
    const assignment = cla(`svc-${i}`, 8080) as { name: string; resource: any };
    const endpoint = assignment.resource.endpoints[0].lb_endpoints[0];
    assignment.resource.endpoints[0].lb_endpoints = Array.from({ length: 400 }, (_, k) => ({
      ...endpoint,
      endpoint: {
        address: { socket_address: { address: `10.1.${k >> 8}.${k & 255}`, port_value: 8080 } },
      },
    }));
    return { [CLUSTER_TYPE_URL]: [cluster(`svc-${i}`)], [EDS]: [assignment] };
  }

  function open(ads: MemoryAds): MemorySotw[] {
    const streams: MemorySotw[] = [];
    for (let i = 0; i < STREAMS; i++) {
      ads.cache.setSnapshot(`node-${i}`, bigSnapshot(i));
      const s = ads.sotw();
      s.transport.pause();
      s.send({ node: { id: `node-${i}`, cluster: 'c' }, type_url: EDS, resource_names: [`svc-${i}`] });
      streams.push(s);
    }
    ads.run();
    return streams;
  }

  it('streams beyond the budget wait without building a response and take their turn as bytes flush', async () => {
    const ads = new MemoryAds({ writeBudgetBytes: 20_000 });
    const streams = open(ads);
    const written = (): number => streams.filter((s) => s.transport.written.length > 0).length;
    const size = streams[0]!.transport.written[0]!.length;
    expect(size).toBeGreaterThan(7_000);
    // 20,000 bytes admit 3 responses of ~8 KB (admitted while under the limit), the rest wait.
    expect(written()).toBe(Math.ceil(20_000 / size));
    expect(ads.engine.writeBudget.inFlightBytes).toBeLessThan(20_000 + size);
    expect(ads.engine.writeBudget.waitingStreams).toBe(STREAMS - written());
    expect(await ads.metric('fsm_ads_write_budget_waiting_streams')).toBe(STREAMS - written());
    // Readers drain one after another: every stream gets its config, in the order it came.
    const served: number[] = [];
    for (let round = 0; round < STREAMS; round++) {
      const next = streams.findIndex((s, i) => s.transport.written.length > 0 && !served.includes(i));
      expect(next).toBeGreaterThanOrEqual(0);
      served.push(next);
      streams[next]!.transport.resume();
      ads.run();
      expect(ads.engine.writeBudget.inFlightBytes).toBeLessThan(20_000 + size);
    }
    expect(served).toEqual(Array.from({ length: STREAMS }, (_, i) => i));
    for (const [i, s] of streams.entries()) {
      const [r] = s.takeAll();
      expect(r!.type_url).toBe(EDS);
      expect(r!.resources).toHaveLength(1);
      expect(s.server!.nodeId).toBe(`node-${i}`);
    }
    expect(ads.engine.writeBudget.inFlightBytes).toBe(0);
    expect(ads.engine.writeBudget.waitingStreams).toBe(0);
  });

  it('a stream that goes away with unflushed writes gives its bytes back: the next in line is served', () => {
    const ads = new MemoryAds({ writeBudgetBytes: 20_000 });
    const streams = open(ads);
    const first = streams.filter((s) => s.transport.written.length > 0);
    const waitingBefore = ads.engine.writeBudget.waitingStreams;
    expect(waitingBefore).toBeGreaterThan(0);
    // Never resumed: the proxies vanish with their config unread.
    for (const s of first) s.transport.cancel();
    ads.run();
    expect(ads.engine.writeBudget.waitingStreams).toBe(waitingBefore - first.length);
    const servedNow = streams.filter((s) => !first.includes(s) && s.transport.written.length > 0);
    expect(servedNow).toHaveLength(first.length);
    // A waiting stream that goes away leaves the line without being served.
    const stillWaiting = streams.filter((s) => s.transport.written.length === 0);
    stillWaiting[0]!.transport.cancel();
    ads.run();
    expect(ads.engine.writeBudget.waitingStreams).toBe(stillWaiting.length - 1);
    expect(stillWaiting[0]!.transport.written).toHaveLength(0);
  });
});
