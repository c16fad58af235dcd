/** pods/log as tables: CRI lines, the options kubectl sends, the container choice and its errors. */
import {
  formatCriLine,
  logOptions,
  parseCriLine,
  pickContainer,
} from '../../../../pkg/sandbox/apiserver/pod-logs.js';
import type { KubeObject } from '../../../../pkg/sandbox/apiserver/store.js';

describe('CRI log lines', () => {
  it.each([
    [
      '2026-11-29T13:52:40.814Z stdout F GET / 200',
      { time: '2026-11-29T13:52:40.814Z', partial: false, text: 'GET / 200' },
    ],
    [
      '2026-11-29T13:52:40.814Z stderr P half a li',
      { time: '2026-11-29T13:52:40.814Z', partial: true, text: 'half a li' },
    ],
    ['2026-11-29T13:52:40.814Z stdout F ', { time: '2026-11-29T13:52:40.814Z', partial: false, text: '' }],
  ])('%s', (line, want) => {
    expect(parseCriLine(line)).toMatchObject(want);
  });
  it.each(['garbage', 'not-a-time stdout F x', '2026-11-29T13:52:40.814Z stdin F x'])(
    '%s is skipped',
    (line) => {
      expect(parseCriLine(line)).toBeUndefined();
    },
  );
  it('prints with --timestamps, and partial lines without their newline', () => {
    const l = parseCriLine('2026-11-29T13:52:40.814Z stdout F hello')!;
    expect(formatCriLine(l, false)).toBe('hello\n');
    expect(formatCriLine(l, true)).toBe('2026-11-29T13:52:40.814Z hello\n');
    expect(formatCriLine(parseCriLine('2026-11-29T13:52:40.814Z stdout P hel')!, false)).toBe('hel');
  });
});

describe('log options', () => {
  const q = (s: string) => new URLSearchParams(s);
  it('reads what kubectl sends', () => {
    expect(
      logOptions(q('container=c&previous=true&follow=true&timestamps=true&tailLines=5&limitBytes=10'), 0),
    ).toEqual({
      container: 'c',
      previous: true,
      follow: true,
      timestamps: true,
      tailLines: 5,
      sinceMs: undefined,
      limitBytes: 10,
    });
    expect(logOptions(q('sinceSeconds=60'), 100_000).sinceMs).toBe(40_000);
    expect(logOptions(q('sinceTime=2026-11-29T13:00:00Z')).sinceMs).toBe(Date.parse('2026-11-29T13:00:00Z'));
  });
  it.each([
    ['tailLines=-1', 'tailLines: Invalid value: -1: must be greater than or equal to 0'],
    ['limitBytes=0', 'limitBytes: Invalid value: 0: must be greater than or equal to 1'],
    [
      'sinceSeconds=5&sinceTime=2026-11-29T13:00:00Z',
      'at most one of sinceTime or sinceSeconds may be specified',
    ],
    ['sinceTime=yesterday', 'parsing time "yesterday" as RFC3339'],
  ])('%s is refused naming the field', (query, message) => {
    expect(() => logOptions(q(query))).toThrow(message);
  });
});

describe('which container', () => {
  const pod = (containers: string[], inits: string[] = []): KubeObject => ({
    metadata: { name: 'p' },
    spec: {
      containers: containers.map((name) => ({ name })),
      initContainers: inits.map((name) => ({ name })),
    },
  });
  it('the only one by default; a named one, init containers included', () => {
    expect(pickContainer(pod(['app']), undefined)).toBe('app');
    expect(pickContainer(pod(['a', 'b'], ['fsm-init']), 'fsm-init')).toBe('fsm-init');
  });
  it("kube-apiserver's errors: a name is needed (with the choices), an unknown name is not valid", () => {
    expect(() => pickContainer(pod(['a', 'b'], ['fsm-init']), undefined)).toThrow(
      'a container name must be specified for pod p, choose one of: [a b] or one of the init containers: [fsm-init]',
    );
    expect(() => pickContainer(pod(['a', 'b']), undefined)).toThrow('choose one of: [a b]');
    expect(() => pickContainer(pod(['a']), 'x')).toThrow('container x is not valid for pod p');
  });
});
