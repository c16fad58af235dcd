/**
 * /debug answers loopback peers only unless --debug-allow-remote: a real client on 127.0.0.1 is
 * answered; a peer without a loopback address (here a Unix-socket client, which has no address at
 * all — the only non-loopback peer a test on this machine may make) gets 403 naming the way in.
 */
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import { debugRoutes, isLoopbackAddress } from '../../../pkg/health/index.js';

const source = { proxies: () => [{ pod: 'a' }], proxy: () => ({ pod: 'a' }) };

function get(opts: http.RequestOptions): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(opts, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

it.each([
  ['127.0.0.1', true],
  ['127.3.4.5', true],
  ['::1', true],
  ['::ffff:127.0.0.1', true],
  ['10.0.0.7', false],
  ['::ffff:10.0.0.7', false],
  ['fe80::1', false],
  ['0.0.0.0', false],
  [undefined, false],
  ['', false],
])('isLoopbackAddress(%j) = %s', (a, want) => expect(isLoopbackAddress(a)).toBe(want));

describe.each([
  ['default (loopback only)', false, 403],
  ['--debug-allow-remote', true, 200],
])('%s', (_n, allowRemote, remoteStatus) => {
  const dir = mkdtempSync(join(tmpdir(), 'fsm-debug-'));
  const sock = join(dir, 'health.sock');
  const app = express();
  debugRoutes(source, { allowRemote })(app);
  const tcp = http.createServer(app);
  const unix = http.createServer(app);
  let port = 0;
  beforeAll(async () => {
    await new Promise<void>((r) => tcp.listen(0, '127.0.0.1', r));
    port = (tcp.address() as { port: number }).port;
    await new Promise<void>((r) => unix.listen(sock, r));
  });
  afterAll(async () => {
    await Promise.all([new Promise((r) => tcp.close(r)), new Promise((r) => unix.close(r))]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('a loopback client is answered', async () => {
    expect(await get({ host: '127.0.0.1', port, path: '/debug/proxies' })).toEqual({
      status: 200,
      body: '[{"pod":"a"}]',
    });
    expect((await get({ host: '127.0.0.1', port, path: '/debug/proxies/ns/a' })).status).toBe(200);
  });

  it(`a non-loopback peer gets ${remoteStatus}`, async () => {
    for (const path of ['/debug/proxies', '/debug/proxies/ns/a']) {
      const r = await get({ socketPath: sock, path });
      expect(r.status).toBe(remoteStatus);
      if (remoteStatus === 403)
        expect(r.body).toMatch(
          /answers loopback clients only .* kubectl port-forward .* --debug-allow-remote/,
        );
    }
  });
});
