/**
 * The subscription rules shared by SotW and Delta (pkg/ads/subscription.ts), as tables of request
 * sequences and the subscription after each, following the examples of xds_protocol.rst, "How
 * the client specifies what resources to return".
 */
import { Subscription } from '../../../pkg/ads/subscription.js';

interface Seen {
  wildcard: boolean;
  legacy: boolean;
  names: string[];
}
const seen = (s: Subscription): Seen => ({
  wildcard: s.wildcard,
  legacy: s.legacyWildcard,
  names: [...s.names],
});
const W = (names: string[] = [], legacy = false): Seen => ({ wildcard: true, legacy, names });
const N = (...names: string[]): Seen => ({ wildcard: false, legacy: false, names });

describe('SotW: resource_names replaces the subscription', () => {
  it.each<[string, [string[], boolean, Seen][]]>([
    [
      'the spec example: [] → "*" ; ["*","A"] → "*" + A ; ["A"] → A ; [] → nothing',
      [
        [[], true, W([], true)],
        [['*', 'A'], true, W(['A'])],
        [['A'], true, N('A')],
        [[], true, N()],
      ],
    ],
    [
      'legacy wildcard stays while the lists stay empty (no change, no push)',
      [
        [[], true, W([], true)],
        [[], false, W([], true)],
        [[], false, W([], true)],
      ],
    ],
    [
      'explicit "*" first; the same list again changes nothing',
      [
        [['*'], true, W()],
        [['*'], false, W()],
        [[], true, N()],
        [[], false, N()],
      ],
    ],
    [
      'named: a new list is a change, the same set in another order is not',
      [
        [['a', 'b'], true, N('a', 'b')],
        [['b', 'a'], false, N('b', 'a')],
        [['b'], true, N('b')],
        [['b', '*'], true, W(['b'])],
      ],
    ],
  ])('%s', (_case, sequence) => {
    const s = new Subscription();
    sequence.forEach(([names, changed, want], i) => {
      expect({ i, changed: s.replace(names, i === 0), state: seen(s) }).toEqual({ i, changed, state: want });
    });
  });
});

describe('Delta: subscribe / unsubscribe change the subscription', () => {
  it.each<[string, [string[], string[], Seen, string[]][]]>([
    [
      'the spec example: {} → "*" ; +A → "*" + A ; -"*" → A ; -A → nothing',
      [
        [[], [], W([], true), []],
        [['A'], [], W(['A']), []],
        [[], ['*'], N('A'), ['*']],
        [[], ['A'], N(), ['A']],
      ],
    ],
    [
      'named first; "*" subscribed and unsubscribed later; unknown names are released too',
      [
        [['a'], [], N('a'), []],
        [['*'], [], W(['a']), []],
        [[], ['*', 'zz'], N('a'), ['*', 'zz']],
        [[], [], N('a'), []],
      ],
    ],
    [
      'an empty request after the first is not a wildcard',
      [
        [['a'], [], N('a'), []],
        [[], ['a'], N(), ['a']],
        [[], [], N(), []],
      ],
    ],
  ])('%s', (_case, sequence) => {
    const s = new Subscription();
    sequence.forEach(([sub, unsub, want, wantReleased], i) => {
      const released: string[] = [];
      s.change(sub, unsub, i === 0, (n) => released.push(n));
      expect({ i, state: seen(s), released }).toEqual({ i, state: want, released: wantReleased });
    });
  });
});

describe('has / retainSubscribed', () => {
  it.each<[string, Seen, string[], string[]]>([
    ['wildcard keeps everything', W(['a']), ['a', 'b', 'c'], ['a', 'b', 'c']],
    ['named keeps only its names', N('a', 'c'), ['a', 'b', 'c'], ['a', 'c']],
    ['nothing subscribed keeps nothing', N(), ['a', 'b'], []],
  ])('%s', (_case, state, held, kept) => {
    const s = new Subscription();
    s.wildcard = state.wildcard;
    s.names = new Set(state.names);
    const m = new Map(held.map((n) => [n, 1]));
    s.retainSubscribed(m);
    expect([...m.keys()]).toEqual(kept);
    for (const n of held) expect(s.has(n)).toBe(kept.includes(n));
  });
});
