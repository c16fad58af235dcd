/**
 * The problems collector and the NACK text: one problem reads exactly `<path>: <message>`, several
 * are listed one per line in the order found, and the text stays bounded (count, line length,
 * total length) while saying how many problems were left out.
 */
import {
  ConfigError,
  NACK_DETAIL_LIMITS,
  Problems,
  formatProblems,
  problemText,
  type Problem,
} from '../../../../../pkg/sandbox/agent/config/problems.js';

const many = (n: number, message = 'bad'): Problem[] =>
  Array.from({ length: n }, (_, i) => ({ path: `Listener "l${i}".address`, message }));

describe('Problems', () => {
  test('keeps every problem in the order added; add() returns undefined for `return p.add(...)`', () => {
    const p = new Problems();
    expect(p.count).toBe(0);
    expect(p.add('A.x', 'one')).toBeUndefined();
    p.add('B.y', 'two');
    expect(p.count).toBe(2);
    expect(p.list()).toEqual([
      { path: 'A.x', message: 'one' },
      { path: 'B.y', message: 'two' },
    ]);
  });

  test('list() is a copy', () => {
    const p = new Problems();
    p.add('A', 'one');
    p.list()[0]!.message = 'changed';
    p.list().push({ path: 'B', message: 'added' });
    expect(p.list()).toEqual([{ path: 'A', message: 'one' }]);
  });
});

describe('formatProblems', () => {
  test.each<[string, Problem[], string]>([
    [
      'one problem: exactly path: message',
      [{ path: 'Cluster "c".type', message: 'no' }],
      'Cluster "c".type: no',
    ],
    ['no path: the message alone', [{ path: '', message: 'type X is not handled' }], 'type X is not handled'],
    [
      'several: one per line, in order',
      [
        { path: 'Listener "a".address', message: 'one' },
        { path: 'Listener "b".filter_chains', message: 'two' },
        { path: 'Listener "c"', message: 'three' },
      ],
      'Listener "a".address: one\nListener "b".filter_chains: two\nListener "c": three',
    ],
  ])('%s', (_what, problems, text) => {
    expect(formatProblems(problems)).toBe(text);
    expect(problemText(problems[0]!)).toBe(text.split('\n')[0]);
  });

  test('at most maxProblems are listed; the last line says how many were left out', () => {
    const text = formatProblems(many(25));
    const lines = text.split('\n');
    expect(lines).toHaveLength(NACK_DETAIL_LIMITS.maxProblems + 1);
    expect(lines[0]).toBe('Listener "l0".address: bad');
    expect(lines[19]).toBe('Listener "l19".address: bad');
    expect(lines[20]).toBe('… and 5 more problems not listed (25 in all)');
  });

  test('exactly maxProblems: all listed, nothing said about omissions', () => {
    const lines = formatProblems(many(NACK_DETAIL_LIMITS.maxProblems)).split('\n');
    expect(lines).toHaveLength(NACK_DETAIL_LIMITS.maxProblems);
    expect(lines.at(-1)).toBe('Listener "l19".address: bad');
  });

  test('one omitted problem is singular', () => {
    const text = formatProblems(many(3), { maxProblems: 2, maxChars: 4096, maxProblemChars: 512 });
    expect(text.split('\n').at(-1)).toBe('… and 1 more problem not listed (3 in all)');
  });

  test('the total length is bounded; what is listed plus what is counted as omitted is everything', () => {
    const long = 'x'.repeat(400);
    const problems = many(1000, long);
    const text = formatProblems(problems);
    expect(text.length).toBeLessThanOrEqual(NACK_DETAIL_LIMITS.maxChars);
    const lines = text.split('\n');
    const listed = lines.slice(0, -1);
    expect(listed.length).toBeGreaterThan(1);
    listed.forEach((line, i) => expect(line).toBe(`Listener "l${i}".address: ${long}`));
    expect(lines.at(-1)).toBe(`… and ${1000 - listed.length} more problems not listed (1000 in all)`);
  });

  test('a very long problem (a large value quoted) is cut, and still leads the text', () => {
    const huge = {
      path: 'Cluster "c".transport_socket',
      message: `not supported (got ${'"a",'.repeat(5000)})`,
    };
    const text = formatProblems([huge, { path: 'Cluster "d".type', message: 'no' }]);
    const [first, second] = text.split('\n');
    expect(first).toHaveLength(NACK_DETAIL_LIMITS.maxProblemChars);
    expect(first!.startsWith('Cluster "c".transport_socket: not supported (got "a","a"')).toBe(true);
    expect(first!.endsWith('…')).toBe(true);
    expect(second).toBe('Cluster "d".type: no');
  });

  test('limits smaller than one line: the first problem is still there, cut to fit', () => {
    const limits = { maxProblems: 10, maxChars: 100, maxProblemChars: 512 };
    const text = formatProblems(many(50, 'y'.repeat(200)), limits);
    expect(text.length).toBeLessThanOrEqual(100);
    expect(text.startsWith('Listener "l0".address: yyy')).toBe(true);
  });
});

describe('ConfigError', () => {
  test('of(problems): the formatted text as message, every problem kept', () => {
    const problems = many(30);
    const err = ConfigError.of(problems);
    expect(err).toBeInstanceOf(Error);
    expect(err.message).toBe(formatProblems(problems));
    expect(err.problems).toEqual(problems);
  });

  test('a plain message is one problem without a path', () => {
    const err = new ConfigError('Listener "l": cannot bind 127.0.0.1:1: EACCES');
    expect(err.message).toBe('Listener "l": cannot bind 127.0.0.1:1: EACCES');
    expect(err.problems).toEqual([{ path: '', message: 'Listener "l": cannot bind 127.0.0.1:1: EACCES' }]);
  });
});
