import { PassThrough } from 'node:stream';
import { createLogger, type Logger } from '../../../pkg/logger/index.js';

function capture(): { stream: PassThrough; lines: () => string[] } {
  const stream = new PassThrough();
  const chunks: string[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c.toString()));
  return { stream, lines: () => chunks.join('').split('\n').filter(Boolean) };
}

const TS = /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/g;

/** The same calls on a logger: what fsm's code does (child loggers, fields of every kind). */
function script(log: Logger): void {
  log.info('plain');
  log.info('with fields', { port: 8080, ok: true, list: [1, 'two', { three: 3 }], nested: { b: 2, a: 1 } });
  const hc = log.child({ component: 'healthcheck' });
  hc.warn('tcp check failed', { port: 15904, reason: 'connection refused' });
  hc.error('unexpected error handling probe', { error: 'boom', err: new Error('not enumerable') });
  const inner = hc.child({ stream: 's1', component: 'inner' });
  inner.info('child of a child', { node: 'n1', stream: 'call wins' });
  inner.debug('hidden at info');
  log.info('a field named like the default meta', { binary: 'from the call' });
  log.info('numbers', { big: 10n, neg: -0, float: 1.5, nan: Number.NaN, inf: Infinity, undef: undefined });
  log.info('unicode and escapes', { s: 'ä "q" \\ \n\t\u0001 ☃' });
  const circular: Record<string, unknown> = { name: 'loop' };
  circular['self'] = circular;
  log.info('circular', { circular });
  log.warn('message field', { message: 'appended' });
  log.info('a timestamp given', { timestamp: 'given' });
}

/** Runs `script` on a winston logger and a lean one made with the same options. */
function both(opts: { json: boolean; level?: 'info' | 'trace' }): { winston: string[]; lean: string[] } {
  const out: Record<string, string[]> = {};
  for (const lean of [false, true]) {
    const c = capture();
    script(
      createLogger({
        ...opts,
        stream: c.stream,
        defaultMeta: { binary: 'fsm-healthcheck' },
        lean,
      }),
    );
    out[lean ? 'lean' : 'winston'] = c.lines().map((l) => l.replace(TS, '<ts>'));
  }
  return { winston: out['winston']!, lean: out['lean']! };
}

describe('lean logger', () => {
  it.each([
    ['JSON, info', { json: true }],
    ['JSON, trace', { json: true, level: 'trace' as const }],
    ['readable, info', { json: false }],
  ])('writes the lines winston writes (%s)', (_name, opts) => {
    const { winston, lean } = both(opts);
    expect(winston.length).toBeGreaterThan(8);
    expect(lean).toEqual(winston);
  });

  it('JSON lines carry sorted keys, the child fields and a timestamp', () => {
    const c = capture();
    const log = createLogger({ stream: c.stream, json: true, lean: true, defaultMeta: { binary: 'b' } });
    log.child({ component: 'x' }).info('hello', { z: 1, a: 2 });
    const [line] = c.lines();
    expect(Object.keys(JSON.parse(line!) as object)).toEqual([
      'a',
      'binary',
      'component',
      'level',
      'message',
      'timestamp',
      'z',
    ]);
    expect(line).toMatch(TS);
  });

  it('levels: filtering, setLevel on a child leaves its parent alone, setLevel on the root reaches children', () => {
    const c = capture();
    const root = createLogger({ stream: c.stream, json: true, lean: true, level: 'warn' });
    const child = root.child({ component: 'c' });
    expect(root.isLevelEnabled('info')).toBe(false);
    child.info('hidden');
    child.setLevel('debug');
    child.debug('child debug');
    root.info('root info hidden');
    expect(root.isLevelEnabled('debug')).toBe(false);
    root.setLevel('trace');
    root.child({ component: 'd' }).trace('new child of root at trace');
    expect(c.lines().map((l) => (JSON.parse(l) as { message: string }).message)).toEqual([
      'child debug',
      'new child of root at trace',
    ]);
  });

  it('close() resolves once every line reached the stream', async () => {
    const c = capture();
    const log = createLogger({ stream: c.stream, json: true, lean: true });
    const child = log.child({ component: 'x' });
    for (let i = 0; i < 200; i++) child.info(`line ${i}`);
    log.error('why the process exits');
    await log.close();
    const lines = c.lines();
    expect(lines).toHaveLength(201);
    expect((JSON.parse(lines[200]!) as { message: string }).message).toBe('why the process exits');
    await log.close(); // nothing pending: resolves at once
  });
});
