/**
 * The sandbox kubelet's lifecycle hooks (issue 19 item 3), as kubelet runs them: an httpGet hook
 * fails only when no answer comes (kubelet does not read the status code), with kubelet's message.
 */
import http from 'node:http';
import type net from 'node:net';
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { formatPod, runLifecycleHook } from '../../../../pkg/sandbox/kubelet/lifecycle.js';
import { closedPort } from '../../../support/net.js';

let server: http.Server;
let port: number;
const seen: string[] = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    seen.push(req.url ?? '');
    res.writeHead(req.url === '/broken' ? 503 : 200);
    res.end(`app ${req.url}`);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as net.AddressInfo).port;
});
afterAll(() => new Promise((r) => server.close(r)));

const pod: V1Pod = { metadata: { name: 'web', namespace: 'shop', uid: 'u-1' } };
const c = (ports: V1Container['ports'] = []): V1Container => ({ name: 'app', ports });

describe('runLifecycleHook', () => {
  it('an httpGet hook reaches the path, named port resolved; any status is done', async () => {
    const ok = await runLifecycleHook(
      pod,
      c([{ name: 'http', containerPort: port }]),
      'preStop',
      { httpGet: { port: 'http', path: 'drain' } },
      '127.0.0.1',
      3000,
    );
    expect(ok).toEqual({
      container: 'app',
      hook: 'preStop',
      ok: true,
      url: `http://127.0.0.1:${port}/drain`,
      status: 200,
      body: 'app /drain',
    });
    const broken = await runLifecycleHook(
      pod,
      c(),
      'postStart',
      { httpGet: { port, path: '/broken' } },
      '127.0.0.1',
      3000,
    );
    expect(broken).toMatchObject({ ok: true, status: 503 });
  });

  it("no answer fails the hook with kubelet's message", async () => {
    const closed = await closedPort();
    const r = await runLifecycleHook(
      pod,
      c(),
      'postStart',
      { httpGet: { port: closed, path: '/warm' } },
      '127.0.0.1',
      3000,
    );
    expect(r).toEqual({
      container: 'app',
      hook: 'postStart',
      ok: false,
      message: `HTTP lifecycle hook (/warm) for Container "app" in Pod "web_shop(u-1)" failed - error: Get "http://127.0.0.1:${closed}/warm": dial tcp 127.0.0.1:${closed}: connect: connection refused`,
    });
    expect(formatPod(pod)).toBe('web_shop(u-1)');
  });

  it('an unresolvable port fails; exec and sleep run without the network', async () => {
    expect(
      await runLifecycleHook(
        pod,
        c(),
        'preStop',
        { httpGet: { port: 'nope', path: '/x' } },
        '127.0.0.1',
        1000,
      ),
    ).toMatchObject({
      ok: false,
      message: expect.stringContaining('unable to resolve port "nope"'),
    });
    expect(
      await runLifecycleHook(pod, c(), 'preStop', { exec: { command: ['true'] } }, '127.0.0.1', 1000),
    ).toEqual({ container: 'app', hook: 'preStop', ok: true });
    expect(await runLifecycleHook(pod, c(), 'preStop', { sleep: { seconds: 0 } }, '127.0.0.1', 1000)).toEqual(
      { container: 'app', hook: 'preStop', ok: true },
    );
  });
});
