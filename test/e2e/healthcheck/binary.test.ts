import { httpRequest, startBlackhole, startTcpListener } from '../../support/net.js';
import { runBinaryToExit, startBinary, type RunningBinary } from '../../support/process.js';

const BIN = 'fsm-healthcheck';

async function serve(
  args: string[] = [],
  env: NodeJS.ProcessEnv = {},
): Promise<{ bin: RunningBinary; base: string }> {
  // Without a list fsm-healthcheck refuses to start: tests that check any port say so.
  const any =
    env['FSM_HEALTHCHECK_ALLOWED_PORTS'] || args.includes('--allowed-ports') ? [] : ['--allow-any-port'];
  const bin = startBinary(BIN, ['--port', '0', ...any, ...args], env);
  const line = await bin.waitForLog(/fsm-healthcheck listening/);
  const port = String(line.address).split(':').pop();
  return { bin, base: `http://127.0.0.1:${port}/fsm-healthcheck` };
}

describe('fsm-healthcheck binary', () => {
  const running: RunningBinary[] = [];
  afterEach(async () => {
    for (const b of running.splice(0)) {
      b.kill('SIGKILL');
      await b.exited;
    }
  });

  it('--help and --version exit 0', async () => {
    const help = await runBinaryToExit(BIN, ['--help']);
    expect(help.code).toBe(0);
    for (const flag of ['--port', '--target-host', '--dial-timeout', '--allowed-ports', '--verbosity']) {
      expect(help.stdout).toContain(flag);
    }
    const version = await runBinaryToExit(BIN, ['--version']);
    expect(version.code).toBe(0);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it.each([
    [['--port', 'abc'], /option '--port <port>' argument 'abc' is invalid/],
    [['--port', '70000'], /argument '70000' is invalid/],
    [['--dial-timeout', '5'], /option '--dial-timeout <duration>' argument '5' is invalid/],
    [['--target-host', '10.0.0.1:80'], /option '--target-host <host>' argument '10.0.0.1:80' is invalid/],
    [
      ['--verbosity', 'loud'],
      /argument 'loud' is invalid. Allowed choices are trace, debug, info, warn, error/,
    ],
    [['--no-such-flag'], /unknown option '--no-such-flag'/],
  ])('exits 2 naming the flag and value for %j', async (args, message) => {
    const r = await runBinaryToExit(BIN, args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });

  it('exits 2 naming the env var for a bad FSM_HEALTHCHECK_ALLOWED_PORTS', async () => {
    const r = await runBinaryToExit(BIN, ['--port', '0'], { FSM_HEALTHCHECK_ALLOWED_PORTS: '80,http' });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/from env 'FSM_HEALTHCHECK_ALLOWED_PORTS' is invalid. 'http' is not a port/);
  });

  it('exits 1 naming the port when it is already in use', async () => {
    const { bin, base } = await serve();
    running.push(bin);
    const port = new URL(base).port;
    const r = await runBinaryToExit(BIN, ['--port', port, '--allow-any-port']);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`port ${port} is already in use`);
  });

  it('serves checks, honours FSM_HEALTHCHECK_ALLOWED_PORTS, and logs JSON lines', async () => {
    const target = await startTcpListener();
    try {
      const { bin, base } = await serve([], { FSM_HEALTHCHECK_ALLOWED_PORTS: String(target.port) });
      running.push(bin);
      expect(
        (await httpRequest(base, { headers: { 'Original-Tcp-Port': String(target.port) } })).status,
      ).toBe(200);
      expect((await httpRequest(base, { headers: { 'Original-Tcp-Port': '22' } })).status).toBe(403);
      const rejected = await bin.waitForLog(/rejected probe request/);
      expect(rejected).toMatchObject({ level: 'info', component: 'healthcheck', status: 403, binary: BIN });
    } finally {
      await target.close();
    }
  });

  it('SIGTERM: finishes the in-flight check, stops accepting, exits 0 within 5 s', async () => {
    const hole = await startBlackhole();
    try {
      const { bin, base } = await serve(['--dial-timeout', '1500ms']);
      running.push(bin);
      const pending = httpRequest(base, { headers: { 'Original-Tcp-Port': String(hole.port) } });
      await new Promise((r) => setTimeout(r, 200));
      const t0 = Date.now();
      bin.kill('SIGTERM');
      const r = await pending;
      expect(r.status).toBe(503);
      expect(r.body).toMatch(/timed out after 1500ms/);
      expect(await bin.exited).toBe(0);
      expect(Date.now() - t0).toBeLessThan(5000);
      await expect(httpRequest(base)).rejects.toThrow(/ECONNREFUSED/);
    } finally {
      await hole.close();
    }
  });

  it('SIGINT with nothing in flight exits 0', async () => {
    const { bin } = await serve();
    running.push(bin);
    bin.kill('SIGINT');
    expect(await bin.exited).toBe(0);
    expect(bin.stdout()).toMatch(/received SIGINT: stopping gracefully/);
  });
});
