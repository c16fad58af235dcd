import { AddressPool } from '../../../../pkg/sandbox/kubelet/addresses.js';

describe('AddressPool', () => {
  it('hands out 127.0.<block>.1-254 in order, skipping the control plane block 0', () => {
    const pool = new AddressPool();
    expect([pool.allocate(), pool.allocate()]).toEqual(['127.0.1.1', '127.0.1.2']);
  });

  it('stays within its blocks, reuses released addresses, and says when it is full', () => {
    const pool = new AddressPool(150, 150);
    const all = Array.from({ length: 254 }, () => pool.allocate());
    expect(new Set(all).size).toBe(254);
    expect(all.every((ip) => /^127\.0\.150\.([1-9]|[1-9]\d|1\d\d|2[0-4]\d|25[0-4])$/.test(ip))).toBe(true);
    expect(() => pool.allocate()).toThrow('no free pod address left in 127.0.150.1');
    pool.release('127.0.150.77');
    expect(pool.allocate()).toBe('127.0.150.77');
  });

  it('crosses into the next block', () => {
    const pool = new AddressPool(7, 8);
    for (let i = 0; i < 254; i++) pool.allocate();
    expect(pool.allocate()).toBe('127.0.8.1');
  });

  it.each([
    [0, 1],
    [5, 4],
    [1, 256],
  ])('rejects blocks %d-%d', (first, last) => {
    expect(() => new AddressPool(first, last)).toThrow(/within 1-255/);
  });
});
