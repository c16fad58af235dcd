import net from 'node:net';
import { bindHost, listen } from '../../../pkg/binary/listen.js';

describe('listen', () => {
  const servers: net.Server[] = [];
  afterEach(async () => {
    for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
  });

  it('resolves with the bound address (port 0 picks one)', async () => {
    const s = net.createServer();
    servers.push(s);
    const addr = await listen(s, 0, '127.0.0.1');
    expect(addr.address).toBe('127.0.0.1');
    expect(addr.port).toBeGreaterThan(0);
  });

  it('a port in use names the port, what it is for and the host', async () => {
    const first = net.createServer();
    servers.push(first);
    const { port } = await listen(first, 0, '127.0.0.1');
    await expect(listen(net.createServer(), port, '127.0.0.1', 'webhook')).rejects.toThrow(
      `webhook port ${port} is already in use on 127.0.0.1`,
    );
    await expect(listen(net.createServer(), port, '127.0.0.1')).rejects.toThrow(
      `port ${port} is already in use on 127.0.0.1`,
    );
  });

  it('other bind errors name host:port', async () => {
    // 192.0.2.1 (TEST-NET-1) is not an address of this machine: binding it fails, nothing is sent.
    await expect(listen(net.createServer(), 0, '192.0.2.1')).rejects.toThrow(
      /^cannot listen on 192\.0\.2\.1:0: /,
    );
  });
});

describe('bindHost: the sandbox pod address switch', () => {
  it.each([
    ['0.0.0.0', { FSM_SANDBOX_POD_IP: '127.0.1.7' }, '127.0.1.7'],
    ['::', { FSM_SANDBOX_POD_IP: '127.0.1.7' }, '127.0.1.7'],
    ['', { FSM_SANDBOX_POD_IP: '127.0.1.7' }, '127.0.1.7'],
    ['127.0.0.1', { FSM_SANDBOX_POD_IP: '127.0.1.7' }, '127.0.0.1'],
    ['0.0.0.0', {}, '0.0.0.0'],
  ])('%s with %j binds %s', (host, env, want) => {
    expect(bindHost(host, env)).toBe(want);
  });
});
