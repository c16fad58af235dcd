import { findDeepNesting } from '../../../pkg/injector/json-depth.js';
import { showValue } from '../../../pkg/injector/validate.js';

const nested = (open: string, close: string, n: number, leaf = ''): string =>
  open.repeat(n) + leaf + close.repeat(n);

describe('findDeepNesting', () => {
  it.each<[string, string, number, ReturnType<typeof findDeepNesting>]>([
    ['flat object', '{"a":1,"b":[1,2,3]}', 2, undefined],
    ['exactly at the limit', nested('[', ']', 3), 3, undefined],
    ['one past the limit at the top level', nested('[', ']', 4), 3, { path: '[0][0][0]', offset: 3 }],
    ['array index counted by commas', '[1,2,[[["x"]]]]', 3, { path: '[2][0][0]', offset: 7 }],
    [
      'object keys name the path',
      '{"spec":{"volumes":[[[1]]]}}',
      4,
      { path: 'spec.volumes[0][0]', offset: 21 },
    ],
    ['brackets inside strings do not count', '{"a":"[[[[[[{{{{","b":[]}', 2, undefined],
    ['escaped quotes inside strings', '{"a\\"[[[":"\\"[[[[","b":1}', 1, undefined],
    ['a key that is not an identifier is quoted', '{"x y":[[1]]}', 2, { path: '["x y"][0]', offset: 8 }],
    ['a long run of one segment is counted', nested('[', ']', 10_000), 100, { path: '[0]×100', offset: 100 }],
    ['objects nested 10,000 deep', nested('{"a":', '}', 10_000, '{}'), 100, { path: 'a×100', offset: 500 }],
  ])('%s', (_name, text, max, want) => {
    expect(findDeepNesting(text, max)).toEqual(want);
  });

  it('names where the nesting goes too deep inside an AdmissionReview, with a bounded path', () => {
    const text = `{"request":{"object":{"spec":{"containers":[{"name":"a"},{"ports":${nested('[', ']', 50_000)}}]}}}}`;
    const r = findDeepNesting(text, 100)!;
    expect(r.path).toBe('request.object.spec.containers[1].ports[0]×94');
    expect(text[r.offset]).toBe('[');
    const long = `{"${'k'.repeat(500)}":${nested('[', ']', 200)}}`;
    expect(findDeepNesting(long, 100)!.path.length).toBeLessThanOrEqual(161);
  });
});

describe('findDeepNesting against the parsed value', () => {
  /** Nesting depth of a parsed value (the top-level value is level 1). */
  const depthOf = (v: unknown): number =>
    typeof v === 'object' && v !== null ? 1 + Math.max(0, ...Object.values(v).map(depthOf)) : 0;
  /** Strings full of what the scanner must skip: quotes, backslashes, brackets. */
  const tricky = ['', '\\', '"', '\\"', '[{', '\\\\[', 'a"]}b', '\\u005b'];

  it('finds a nesting exactly when the parsed value is deeper than the limit (seeded)', () => {
    let seed = 18;
    const next = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    const value = (depth: number): unknown => {
      if (depth === 0 || next(4) === 0) return next(2) ? tricky[next(tricky.length)] : next(100);
      const n = next(4);
      return next(2)
        ? Array.from({ length: n }, () => value(depth - 1))
        : Object.fromEntries(
            Array.from({ length: n }, (_, i) => [`${tricky[next(tricky.length)]}${i}`, value(depth - 1)]),
          );
    };
    for (let i = 0; i < 2000; i++) {
      const v = value(next(9));
      const text = JSON.stringify(v);
      const limit = 1 + next(6);
      expect([text, findDeepNesting(text, limit) !== undefined]).toEqual([text, depthOf(v) > limit]);
    }
  });
});

describe('showValue', () => {
  it.each<[string, unknown, string]>([
    ['a short object, as JSON', { a: 1, b: [1, 2, { c: 'd' }] }, '{"a":1,"b":[1,2,{"c":"d"}]}'],
    ['undefined', undefined, 'undefined'],
    ['null', null, 'null'],
    ['a number', 1.5, '1.5'],
    ['NaN as JSON writes it', NaN, 'null'],
    ['undefined in an array', [undefined], '[null]'],
    ['undefined in an object is left out', { u: undefined, n: 1 }, '{"n":1}'],
    ['a bigint', 10n, '10'],
    ['a long string, cut at 60', 'x'.repeat(100), `"${'x'.repeat(56)}...`],
  ])('%s', (_name, v, want) => {
    expect(showValue(v)).toBe(want);
  });

  it('renders values nested 100,000 deep and cyclic values without throwing, in 60 characters', () => {
    let arr: unknown = [];
    let obj: unknown = {};
    for (let i = 0; i < 100_000; i++) {
      arr = [arr];
      obj = { a: obj };
    }
    const cyclic: Record<string, unknown> = { x: 1 };
    cyclic['self'] = cyclic;
    expect(showValue(arr)).toBe(`${'['.repeat(57)}...`);
    expect(showValue(obj)).toBe(`${'{"a":'.repeat(11)}{"...`);
    expect(showValue(cyclic)).toMatch(/^\{"x":1,"self":\{"x":1,.*\.\.\.$/);
    expect(showValue(cyclic)).toHaveLength(60);
  });
});
