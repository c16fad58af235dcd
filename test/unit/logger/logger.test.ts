import { PassThrough } from 'node:stream';
import { createLogger } from '../../../pkg/logger/index.js';
import { isLogLevel } from '../../../pkg/logger/logger.js';

function capture(): { stream: PassThrough; lines: () => string[] } {
  const stream = new PassThrough();
  const chunks: string[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c.toString()));
  return { stream, lines: () => chunks.join('').split('\n').filter(Boolean) };
}

describe('logger', () => {
  it('writes JSON lines with the component field of a child logger', () => {
    const out = capture();
    const log = createLogger({ stream: out.stream, json: true, level: 'info' });
    log.child({ component: 'ads' }).info('stream opened', { node: 'n1' });
    const [line] = out.lines();
    const parsed = JSON.parse(line!);
    expect(parsed).toMatchObject({ level: 'info', message: 'stream opened', component: 'ads', node: 'n1' });
    expect(typeof parsed.timestamp).toBe('string');
  });

  it('filters by level, trace being the most verbose', () => {
    const out = capture();
    const log = createLogger({ stream: out.stream, json: true, level: 'warn' });
    log.info('hidden');
    log.debug('hidden');
    log.warn('shown');
    expect(out.lines().map((l) => JSON.parse(l).message)).toEqual(['shown']);
    expect(log.isLevelEnabled('trace')).toBe(false);
    log.setLevel('trace');
    log.trace('now shown');
    expect(out.lines()).toHaveLength(2);
  });

  it('writes a readable line when not JSON', () => {
    const out = capture();
    const log = createLogger({ stream: out.stream, json: false });
    log.child({ component: 'healthcheck' }).warn('dial failed', { port: 8080 });
    expect(out.lines()[0]).toMatch(/WARN +\[healthcheck\] dial failed port=8080$/);
  });

  it('knows the levels', () => {
    expect(['trace', 'debug', 'info', 'warn', 'error'].every(isLogLevel)).toBe(true);
    expect(isLogLevel('verbose')).toBe(false);
  });
});

describe('logger.close', () => {
  it('resolves after every line reached the stream, including lines of child loggers', async () => {
    const out = capture();
    const log = createLogger({ stream: out.stream, json: true });
    const child = log.child({ component: 'x' });
    for (let i = 0; i < 200; i++) child.info(`line ${i}`);
    log.error('why the process exits');
    await log.close();
    const lines = out.lines();
    expect(lines).toHaveLength(201);
    expect(JSON.parse(lines[200]!).message).toBe('why the process exits');
  });
});
