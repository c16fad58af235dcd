import { Backoff } from '../../../pkg/k8s/index.js';

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
