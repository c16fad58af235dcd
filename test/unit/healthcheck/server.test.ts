import http from 'node:http';
import * as grpc from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import { createHealthcheckServer } from '../../../pkg/healthcheck/index.js';
import type { HealthcheckServer } from '../../../pkg/healthcheck/server.js';
import { silentLogger } from '../../../pkg/logger/index.js';
import { closedPort, httpRequest, startBlackhole, startTcpListener } from '../../support/net.js';

const PATH = '/fsm-healthcheck';

async function start(opts: { allowedPorts?: number[]; dialTimeoutMs?: number } = {}) {
  const server = createHealthcheckServer({
    targetHost: '127.0.0.1',
    dialTimeoutMs: opts.dialTimeoutMs ?? 1000,
    allowedPorts: opts.allowedPorts ?? 'any',
    logger: silentLogger(),
  });
  const addr = await server.listen(0, '127.0.0.1');
  return { server, base: `http://127.0.0.1:${addr.port}` };
}

describe('fsm-healthcheck server: TCP checks', () => {
  let server: HealthcheckServer;
  let base: string;
  let target: Awaited<ReturnType<typeof startTcpListener>>;

  beforeAll(async () => {
    ({ server, base } = await start());
    target = await startTcpListener();
  });
  afterAll(async () => {
    await server.stop();
    await target.close();
  });

  it('200 with the documented body when the connect succeeds', async () => {
    const r = await httpRequest(base + PATH, { headers: { 'Original-Tcp-Port': String(target.port) } });
    expect(r.status).toBe(200);
    expect(r.body).toBe(`Successfully established connection to 127.0.0.1:${target.port}\n`);
    expect(r.headers['content-type']).toMatch(/^text\/plain/);
  });

  it('503 naming address and "connection refused" when nothing listens', async () => {
    const port = await closedPort();
    const r = await httpRequest(base + PATH, { headers: { 'Original-Tcp-Port': String(port) } });
    expect(r.status).toBe(503);
    expect(r.body).toBe(`Failed to establish connection to 127.0.0.1:${port}: connection refused\n`);
  });

  it.each<[string, [string, string][], number, RegExp]>([
    ['missing header', [], 400, /missing header Original-Tcp-Port/],
    ['empty header', [['Original-Tcp-Port', '']], 400, /is empty/],
    [
      'repeated header',
      [
        ['Original-Tcp-Port', '80'],
        ['Original-Tcp-Port', '81'],
      ],
      400,
      /must appear once/,
    ],
    ['not decimal', [['Original-Tcp-Port', 'abc']], 400, /"abc" is not a port/],
    ['zero', [['Original-Tcp-Port', '0']], 400, /"0" is not a port/],
    ['too large', [['Original-Tcp-Port', '65536']], 400, /"65536" is not a port/],
    ['negative', [['Original-Tcp-Port', '-1']], 400, /"-1" is not a port/],
    ['hex', [['Original-Tcp-Port', '0x50']], 400, /"0x50" is not a port/],
    ['userinfo host', [['Original-Tcp-Port', '80@10.0.0.1']], 400, /"80@10.0.0.1" is not a port/],
    ['host:port', [['Original-Tcp-Port', '10.0.0.1:80']], 400, /"10.0.0.1:80" is not a port/],
    ['inner space', [['Original-Tcp-Port', '8 0']], 400, /"8 0" is not a port/],
  ])('%s → %d', async (_name, headers, status, body) => {
    const r = await httpRequest(base + PATH, { headers });
    expect(r.status).toBe(status);
    expect(r.body).toMatch(body);
  });

  it('404 for other paths, 405 with Allow for other methods', async () => {
    const other = await httpRequest(base + '/healthz', {
      headers: { 'Original-Tcp-Port': String(target.port) },
    });
    expect(other.status).toBe(404);
    expect(other.body).toMatch(/not found: \/healthz/);
    for (const method of ['POST', 'PUT', 'DELETE', 'OPTIONS']) {
      const r = await httpRequest(base + PATH, {
        method,
        headers: { 'Original-Tcp-Port': String(target.port) },
      });
      expect(r.status).toBe(405);
      expect(r.headers.allow).toBe('GET, HEAD');
    }
  });

  it('HEAD answers the status without a body', async () => {
    const ok = await httpRequest(base + PATH, {
      method: 'HEAD',
      headers: { 'Original-Tcp-Port': String(target.port) },
    });
    expect(ok.status).toBe(200);
    expect(ok.body).toBe('');
    const bad = await httpRequest(base + PATH, { method: 'HEAD' });
    expect(bad.status).toBe(400);
    expect(bad.body).toBe('');
  });

  it('ignores a query string and keeps a keep-alive connection usable across checks', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const ports: number[] = [];
      for (let i = 0; i < 5; i++) {
        const r = await httpRequest(`${base}${PATH}?i=${i}`, {
          agent,
          headers: { 'Original-Tcp-Port': String(target.port) },
        });
        expect(r.status).toBe(200);
        ports.push(i);
      }
      expect(ports).toHaveLength(5);
      expect(Object.values(agent.freeSockets).flat()).toHaveLength(1);
    } finally {
      agent.destroy();
    }
  });
});

describe('fsm-healthcheck server: timeout', () => {
  it('503 "timed out" when the connect does not complete within --dial-timeout', async () => {
    const hole = await startBlackhole();
    const { server, base } = await start({ dialTimeoutMs: 300 });
    try {
      const r = await httpRequest(base + PATH, { headers: { 'Original-Tcp-Port': String(hole.port) } });
      expect(r.status).toBe(503);
      expect(r.body).toBe(
        `Failed to establish connection to 127.0.0.1:${hole.port}: timed out after 300ms\n`,
      );
    } finally {
      await server.stop();
      await hole.close();
    }
  });
});

describe('fsm-healthcheck server: allow-list', () => {
  it('403 for a port outside the list, which is never dialled', async () => {
    const target = await startTcpListener();
    const spy = await startTcpListener();
    const { server, base } = await start({ allowedPorts: [target.port] });
    try {
      expect(
        (await httpRequest(base + PATH, { headers: { 'Original-Tcp-Port': String(target.port) } })).status,
      ).toBe(200);
      const denied = await httpRequest(base + PATH, { headers: { 'Original-Tcp-Port': String(spy.port) } });
      expect(denied.status).toBe(403);
      expect(denied.body).toBe(`port ${spy.port} is not in the allowed probe ports\n`);
      // The allowed check reached its listener; the denied one never reached the spy.
      await new Promise((r) => setTimeout(r, 50));
      expect(target.accepted()).toBe(1);
      expect(spy.accepted()).toBe(0);
    } finally {
      await server.stop();
      await target.close();
      await spy.close();
    }
  });
});

describe('fsm-healthcheck server: gRPC checks', () => {
  let grpcServer: grpc.Server;
  let grpcPort: number;
  const health = new HealthImplementation({
    '': 'SERVING',
    'pkg.v1.Ready': 'SERVING',
    'pkg.v1.Down': 'NOT_SERVING',
  });
  let server: HealthcheckServer;
  let base: string;

  beforeAll(async () => {
    grpcServer = new grpc.Server();
    health.addToServer(grpcServer);
    grpcPort = await new Promise<number>((resolve, reject) =>
      grpcServer.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, port) =>
        err ? reject(err) : resolve(port),
      ),
    );
    ({ server, base } = await start());
  });
  afterAll(async () => {
    await server.stop();
    grpcServer.forceShutdown();
  });

  it('200 when the server reports SERVING (overall and for a named service)', async () => {
    const r = await httpRequest(base + PATH, { headers: { 'Original-Grpc-Port': String(grpcPort) } });
    expect(r.status).toBe(200);
    expect(r.body).toBe(`gRPC health check of 127.0.0.1:${grpcPort}: SERVING\n`);
    const named = await httpRequest(base + PATH, {
      headers: { 'Original-Grpc-Port': String(grpcPort), 'Original-Grpc-Service': 'pkg.v1.Ready' },
    });
    expect(named.status).toBe(200);
    expect(named.body).toContain('(service "pkg.v1.Ready"): SERVING');
  });

  it('503 NOT_SERVING, and 503 naming NOT_FOUND for an unknown service', async () => {
    const down = await httpRequest(base + PATH, {
      headers: { 'Original-Grpc-Port': String(grpcPort), 'Original-Grpc-Service': 'pkg.v1.Down' },
    });
    expect(down.status).toBe(503);
    expect(down.body).toMatch(/: NOT_SERVING\n$/);
    const unknown = await httpRequest(base + PATH, {
      headers: { 'Original-Grpc-Port': String(grpcPort), 'Original-Grpc-Service': 'pkg.v1.Nope' },
    });
    expect(unknown.status).toBe(503);
    expect(unknown.body).toMatch(/NOT_FOUND/);
  });

  it('follows a status change (a fresh channel per check)', async () => {
    health.setStatus('pkg.v1.Flip', 'NOT_SERVING');
    const h = { 'Original-Grpc-Port': String(grpcPort), 'Original-Grpc-Service': 'pkg.v1.Flip' };
    expect((await httpRequest(base + PATH, { headers: h })).status).toBe(503);
    health.setStatus('pkg.v1.Flip', 'SERVING');
    expect((await httpRequest(base + PATH, { headers: h })).status).toBe(200);
  });

  it('503 "unreachable" when nothing listens on the gRPC port', async () => {
    const port = await closedPort();
    const r = await httpRequest(base + PATH, { headers: { 'Original-Grpc-Port': String(port) } });
    expect(r.status).toBe(503);
    expect(r.body).toMatch(new RegExp(`^gRPC health check of 127.0.0.1:${port}: unreachable: `));
  });

  it('503 "timed out" when the gRPC port never answers', async () => {
    const hole = await startBlackhole();
    const { server: s2, base: b2 } = await start({ dialTimeoutMs: 300 });
    try {
      const r = await httpRequest(b2 + PATH, { headers: { 'Original-Grpc-Port': String(hole.port) } });
      expect(r.status).toBe(503);
      expect(r.body).toMatch(/timed out after 300ms|unreachable/);
    } finally {
      await s2.stop();
      await hole.close();
    }
  });
});

describe('fsm-healthcheck server: the allow-list', () => {
  it('refuses an empty list (a checker that dials any port is a port scanner); any port must be said', () => {
    expect(() =>
      createHealthcheckServer({
        targetHost: '127.0.0.1',
        dialTimeoutMs: 1000,
        allowedPorts: [],
        logger: silentLogger(),
      }),
    ).toThrow(/allowedPorts is empty/);
  });
});

describe('fsm-healthcheck server: lifecycle', () => {
  it('refuses to listen on a port in use, naming it', async () => {
    const { server, base } = await start();
    const port = Number(new URL(base).port);
    const second = createHealthcheckServer({
      targetHost: '127.0.0.1',
      dialTimeoutMs: 1000,
      allowedPorts: 'any',
      logger: silentLogger(),
    });
    try {
      await expect(second.listen(port, '127.0.0.1')).rejects.toThrow(`port ${port} is already in use`);
    } finally {
      await server.stop();
    }
  });

  it('stop() lets an in-flight check finish, then refuses new connections', async () => {
    const hole = await startBlackhole();
    const { server, base } = await start({ dialTimeoutMs: 400 });
    try {
      const pending = httpRequest(base + PATH, { headers: { 'Original-Tcp-Port': String(hole.port) } });
      await new Promise((r) => setTimeout(r, 100));
      expect(server.inFlight).toBe(1);
      const stopped = server.stop();
      const r = await pending;
      expect(r.status).toBe(503);
      expect(r.body).toMatch(/timed out after 400ms/);
      await stopped;
      await expect(httpRequest(base + PATH)).rejects.toThrow(/ECONNREFUSED/);
    } finally {
      await hole.close();
    }
  });
});
