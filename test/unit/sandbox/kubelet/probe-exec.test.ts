import http from 'node:http';
import net from 'node:net';
import { createCA } from '../../../../pkg/tls/index.js';
import { resolveProbePort, runProbe, PROBE_USER_AGENT } from '../../../../pkg/sandbox/kubelet/probe-exec.js';
import { startWorkload, type Workload } from '../../../../pkg/sandbox/workloads/index.js';
import { closedPort, startBlackhole } from '../../../support/net.js';

const IP = '127.0.9.31';

describe('resolveProbePort', () => {
  const ports = [{ name: 'http', containerPort: 8080 }, { containerPort: 9090 }];
  it.each<[number | string | undefined, number | undefined]>([
    [8080, 8080],
    ['8080', 8080],
    ['http', 8080],
    ['metrics', undefined],
    [0, undefined],
    [70000, undefined],
    [undefined, undefined],
  ])('%j → %j', (port, want) => expect(resolveProbePort(port, ports)).toBe(want));
});

describe('runProbe (kubelet wording, real sockets)', () => {
  const started: Workload[] = [];
  afterAll(async () => {
    for (const w of started) await w.stop();
  });

  it('httpGet: success, status failure, headers and User-Agent sent', async () => {
    let seen: http.IncomingHttpHeaders = {};
    const server = http.createServer((req, res) => {
      seen = req.headers;
      res.statusCode = req.url === '/bad' ? 503 : 204;
      res.end();
    });
    await new Promise<void>((r) => server.listen(0, IP, r));
    const port = (server.address() as { port: number }).port;
    try {
      expect(
        await runProbe(
          { httpGet: { port, path: '/ok', httpHeaders: [{ name: 'X-Probe', value: 'yes' }] } },
          IP,
          [],
        ),
      ).toEqual({ ok: true });
      expect(seen['user-agent']).toBe(PROBE_USER_AGENT);
      expect(seen['x-probe']).toBe('yes');
      expect(await runProbe({ httpGet: { port, path: '/bad' } }, IP, [])).toEqual({
        ok: false,
        message: 'HTTP probe failed with statuscode: 503',
      });
    } finally {
      server.close();
    }
  });

  it('httpGet: refused and timeout read like kubelet', async () => {
    const port = await closedPort();
    expect(await runProbe({ httpGet: { port, path: '/fsm-liveness-probe' } }, IP, [])).toEqual({
      ok: false,
      message: `Get "http://${IP}:${port}/fsm-liveness-probe": dial tcp ${IP}:${port}: connect: connection refused`,
    });
    const hole = await startBlackhole();
    try {
      const r = await runProbe(
        { httpGet: { port: hole.port, host: '127.0.0.1', path: '/x' }, timeoutSeconds: 1 },
        IP,
        [],
      );
      expect(r).toEqual({
        ok: false,
        message: `Get "http://127.0.0.1:${hole.port}/x": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`,
      });
    } finally {
      await hole.close();
    }
  });

  it('httpGet HTTPS: does not verify the certificate, as kubelet', async () => {
    const ca = await createCA('untrusted');
    const tls = await ca.issue({ commonName: 'app', dnsNames: ['elsewhere.example'] });
    const port = await closedPort();
    started.push(await startWorkload({ kind: 'https', host: IP, ports: [port], name: 'secure', tls }));
    expect(await runProbe({ httpGet: { port, scheme: 'HTTPS', path: '/' } }, IP, [])).toEqual({ ok: true });
  });

  it('tcpSocket: named port, success and refused', async () => {
    const port = await closedPort();
    const w = await startWorkload({ kind: 'tcp', host: IP, ports: [port], name: 'db' });
    started.push(w);
    expect(await runProbe({ tcpSocket: { port: 'db' } }, IP, [{ name: 'db', containerPort: port }])).toEqual({
      ok: true,
    });
    await w.setHealthy(false);
    expect(await runProbe({ tcpSocket: { port } }, IP, [])).toEqual({
      ok: false,
      message: `dial tcp ${IP}:${port}: connect: connection refused`,
    });
    expect(await runProbe({ tcpSocket: { port: 'nope' } }, IP, [])).toEqual({
      ok: false,
      message: 'unable to resolve port "nope"',
    });
  });

  it('grpc: SERVING, NOT_SERVING, unreachable', async () => {
    const port = await closedPort();
    const w = await startWorkload({ kind: 'grpc', host: IP, ports: [port], name: 'svc' });
    started.push(w);
    expect(await runProbe({ grpc: { port } }, IP, [])).toEqual({ ok: true });
    await w.setHealthy(false);
    expect(await runProbe({ grpc: { port, service: 'svc' } }, IP, [])).toEqual({
      ok: false,
      message: 'service unhealthy (responded with "NOT_SERVING")',
    });
    const down = await closedPort();
    expect(await runProbe({ grpc: { port: down }, timeoutSeconds: 1 }, IP, [])).toEqual({
      ok: false,
      message: `timeout: failed to connect service "${IP}:${down}" within 1s`,
    });
  });

  it('exec: not run in the sandbox, counts as success', async () => {
    expect(await runProbe({ exec: { command: ['cat', '/tmp/healthy'] } }, IP, [])).toEqual({ ok: true });
  });
});

describe('runProbe: a peer that closes or resets a plaintext request (a proxy port requiring mTLS)', () => {
  it('closed without an answer: EOF; reset: read … connection reset by peer', async () => {
    const server = net.createServer((s) => {
      s.once('data', () => {
        if (closeQuietly) s.end();
        else s.resetAndDestroy();
      });
    });
    let closeQuietly = true;
    await new Promise<void>((r) => server.listen(0, IP, r));
    const port = (server.address() as net.AddressInfo).port;
    try {
      expect(await runProbe({ httpGet: { port, path: '/liveness' } }, IP, [])).toEqual({
        ok: false,
        message: `Get "http://${IP}:${port}/liveness": EOF`,
      });
      closeQuietly = false;
      const r = await runProbe({ httpGet: { port, path: '/liveness' } }, IP, []);
      expect(r.ok).toBe(false);
      expect(!r.ok && r.message).toMatch(
        new RegExp(
          `^Get "http://${IP.replace(/\./g, '\\.')}:${port}/liveness": read tcp \\d+\\.\\d+\\.\\d+\\.\\d+:\\d+->${IP.replace(/\./g, '\\.')}:${port}: read: connection reset by peer$`,
        ),
      );
    } finally {
      server.close();
    }
  });
});
