import { Backoff, backoffDelayMs, type BackoffOptions } from '../../../pkg/backoff/index.js';
import { backoffCeilingMs } from '../../../pkg/backoff/backoff.js';
import { ADS_RECONNECT_BACKOFF } from '../../../pkg/constants/index.js';

describe('Backoff', () => {
  it.each([
    [0, [100, 200, 400, 800, 1000, 1000]],
    [0.5, [100, 200, 400, 800, 1000, 1000]],
  ])('without jitter randomness %p: doubles up to the cap', (r, expected) => {
    const b = new Backoff({ initialMs: 100, maxMs: 1000, jitter: 0, random: () => r });
    expect(expected.map(() => b.next())).toEqual(expected);
    expect(b.failures).toBe(6);
    b.reset();
    expect(b.next()).toBe(100);
  });

  it.each([
    [0, 70],
    [0.5, 100],
    [0.999999, 130],
  ])('jitter 0.3 with random %p scales the first delay to %p', (r, expected) => {
    expect(new Backoff({ initialMs: 100, maxMs: 1000, jitter: 0.3, random: () => r }).next()).toBe(expected);
  });

  it('never exceeds the cap, even with jitter', () => {
    const b = new Backoff({ initialMs: 100, maxMs: 1000, jitter: 0.3, random: () => 0.999 });
    for (let i = 0; i < 20; i++) expect(b.next()).toBeLessThanOrEqual(1000);
  });

  it.each([
    [{ initialMs: 0 }, /initialMs/],
    [{ initialMs: 10, maxMs: 5 }, /maxMs/],
    [{ jitter: 1 }, /jitter/],
  ])('rejects bad options %p', (opts, msg) => {
    expect(() => new Backoff(opts)).toThrow(msg);
  });
});

/** The sandbox ADS client's reconnect policy: ADS_RECONNECT_BACKOFF under the caller's options. */
const reconnect = (opts: BackoffOptions = {}): BackoffOptions => ({ ...ADS_RECONNECT_BACKOFF, ...opts });

describe('reconnect backoff', () => {
  test.each([
    [0, {}, 250],
    [1, {}, 500],
    [5, {}, 8000],
    [6, {}, 10_000],
    [1000, {}, 10_000],
    [3, { initialMs: 10, maxMs: 50 }, 50],
    [2, { initialMs: 10, multiplier: 3 }, 90],
    [-1, {}, 250],
  ])('ceiling of attempt %d with %o is %d ms', (attempt, opts, expected) => {
    expect(backoffCeilingMs(attempt, reconnect(opts))).toBe(expected);
  });

  test.each([
    [0, 0, 125],
    [0, 0.5, 188],
    [0, 0.999999, 250],
    [10, 0, 5000],
    [10, 0.999999, 10_000],
  ])(
    'attempt %d with random %d waits %d ms (between half the ceiling and the ceiling)',
    (attempt, r, expected) => {
      expect(backoffDelayMs(attempt, reconnect(), () => r)).toBe(expected);
    },
  );

  test('jittered delays of many agents spread over [ceiling/2, ceiling]', () => {
    let seed = 1;
    const random = () => ((seed = (seed * 16807) % 2147483647) - 1) / 2147483646;
    const delays = Array.from({ length: 200 }, () => backoffDelayMs(3, reconnect(), random));
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(1000);
    expect(Math.max(...delays)).toBeLessThanOrEqual(2000);
    expect(new Set(delays).size).toBeGreaterThan(50);
  });
});
