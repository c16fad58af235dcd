/**
 * Issue 17 item 2: fsm-healthcheck is not a port scanner by default. Without an allow-list
 * (--allowed-ports / FSM_HEALTHCHECK_ALLOWED_PORTS) it refuses to start — exit 2 naming the flag —
 * unless --allow-any-port says so explicitly.
 */
import net from 'node:net';
import { httpRequest, startTcpListener } from '../../support/net.js';
import { startBinary, type RunningBinary } from '../../support/process.js';

const BIN = 'fsm-healthcheck';

/** Runs the binary until it exits, or kills it after `ms` (a server that started instead of refusing). */
async function runBounded(
  args: string[],
  env: NodeJS.ProcessEnv,
  ms = 10_000,
): Promise<{ code: number | string; stdout: string; stderr: string }> {
  const b = startBinary(BIN, args, env);
  const timer = setTimeout(() => b.kill('SIGKILL'), ms);
  const code = await b.exited;
  clearTimeout(timer);
  return { code, stdout: b.stdout(), stderr: b.stderr() };
}

describe('fsm-healthcheck binary: the port allow-list is required (issue 17 item 2)', () => {
  const running: RunningBinary[] = [];
  afterEach(async () => {
    for (const b of running.splice(0)) {
      b.kill('SIGKILL');
      await b.exited;
    }
  });

  it.each<[string, string[], NodeJS.ProcessEnv]>([
    ['no flag, no env', [], {}],
    ['an empty FSM_HEALTHCHECK_ALLOWED_PORTS', [], { FSM_HEALTHCHECK_ALLOWED_PORTS: '' }],
    ['an empty --allowed-ports', ['--allowed-ports', ''], {}],
  ])('refuses to start with %s: exit 2 naming the flag, never listens', async (_name, args, env) => {
    const t0 = Date.now();
    const r = await runBounded(['--port', '0', '--bind-address', '127.0.0.1', ...args], {
      FSM_HEALTHCHECK_ALLOWED_PORTS: undefined,
      ...env,
    });
    console.log(
      `fsm-healthcheck without an allow-list (${_name}): exit ${r.code} after ${Date.now() - t0} ms`,
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--allowed-ports/);
    expect(r.stderr).toMatch(/FSM_HEALTHCHECK_ALLOWED_PORTS/);
    expect(r.stderr).toMatch(/--allow-any-port/);
    expect(r.stdout).not.toMatch(/fsm-healthcheck listening/);
  });

  it('--allow-any-port dials any port, and says so in its log', async () => {
    const target = await startTcpListener();
    try {
      const bin = startBinary(BIN, ['--port', '0', '--bind-address', '127.0.0.1', '--allow-any-port'], {
        FSM_HEALTHCHECK_ALLOWED_PORTS: undefined,
      });
      running.push(bin);
      const line = await bin.waitForLog(/fsm-healthcheck listening/);
      expect(line).toMatchObject({ allowedPorts: 'any' });
      const port = String(line.address).split(':').pop();
      const r = await httpRequest(`http://127.0.0.1:${port}/fsm-healthcheck`, {
        headers: { 'Original-Tcp-Port': String(target.port) },
      });
      expect(r.status).toBe(200);
    } finally {
      await target.close();
    }
  });

  it('--allow-any-port together with a list is a usage error (exit 2)', async () => {
    const r = await runBounded(['--port', '0', '--allowed-ports', '8080', '--allow-any-port'], {});
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--allow-any-port.*--allowed-ports|--allowed-ports.*--allow-any-port/);
  });

  it('with a list: only those ports are dialled (a scan of 300 other ports gets 403 and no connect)', async () => {
    const target = await startTcpListener();
    let connects = 0;
    const others = net.createServer((s) => {
      connects++;
      s.destroy();
    });
    await new Promise<void>((r) => others.listen(0, '127.0.0.1', r));
    const otherPort = (others.address() as net.AddressInfo).port;
    try {
      const bin = startBinary(BIN, ['--port', '0', '--bind-address', '127.0.0.1'], {
        FSM_HEALTHCHECK_ALLOWED_PORTS: String(target.port),
      });
      running.push(bin);
      const line = await bin.waitForLog(/fsm-healthcheck listening/);
      const base = `http://127.0.0.1:${String(line.address).split(':').pop()}/fsm-healthcheck`;
      const agent = new (await import('node:http')).Agent({ keepAlive: true, maxSockets: 1 });
      const statuses = new Map<number, number>();
      for (let i = 0; i < 300; i++) {
        const port = i === 0 ? otherPort : 1 + ((otherPort + i * 211) % 65535);
        if (port === target.port) continue;
        const r = await httpRequest(base, { headers: { 'Original-Tcp-Port': String(port) }, agent });
        statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
      }
      agent.destroy();
      expect([...statuses.keys()]).toEqual([403]);
      expect(connects).toBe(0);
      expect(
        (await httpRequest(base, { headers: { 'Original-Tcp-Port': String(target.port) } })).status,
      ).toBe(200);
    } finally {
      others.close();
      await target.close();
    }
  });
});
