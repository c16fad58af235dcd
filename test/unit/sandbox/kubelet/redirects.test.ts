/**
 * The sandbox kubelet's redirect semantics (issue 19 item 7), against real servers on loopback:
 * same-host redirects are followed (another port counts as the same host), until 10 requests; a
 * redirect to another host ends the following and the probe succeeds with kubelet's warning.
 */
import http from 'node:http';
import type net from 'node:net';
import { kubeletGet } from '../../../../pkg/sandbox/kubelet/kubelet-http.js';
import { runProbe } from '../../../../pkg/sandbox/kubelet/probe-exec.js';
import { ContainerProber } from '../../../../pkg/sandbox/kubelet/prober.js';

interface Seen {
  url: string;
  host: string | undefined;
  custom: string | undefined;
}

let server: http.Server;
let other: http.Server;
let port: number;
let otherPort: number;
const seen: Seen[] = [];

function listen(s: http.Server, host: string): Promise<number> {
  return new Promise((r) => s.listen(0, host, () => r((s.address() as net.AddressInfo).port)));
}

beforeAll(async () => {
  other = http.createServer((_req, res) => res.end('other port ok'));
  otherPort = await listen(other, '127.0.0.1');
  server = http.createServer((req, res) => {
    const url = req.url ?? '/';
    seen.push({ url, host: req.headers.host, custom: req.headers['x-probe'] as string | undefined });
    const redirect = (status: number, location: string): void => {
      res.writeHead(status, { Location: location });
      res.end(`to ${location}`);
    };
    if (url === '/healthz') return redirect(301, '/healthz/');
    if (url === '/abs') return redirect(302, `http://127.0.0.1:${port}/healthz/`);
    if (url === '/port') return redirect(307, `http://127.0.0.1:${otherPort}/`);
    if (url === '/away') return redirect(302, 'http://elsewhere.invalid/x');
    if (url.startsWith('/loop')) return redirect(302, `/loop${Number(url.slice(5) || 0) + 1}`);
    if (url === '/nine') return redirect(302, '/n1');
    if (/^\/n[1-8]$/.test(url)) return redirect(302, `/n${Number(url.slice(2)) + 1}`);
    if (url === '/n9') return res.end('after 9 redirects');
    if (url === '/304') {
      res.writeHead(304);
      return res.end();
    }
    res.end(`ok ${url}`);
  });
  port = await listen(server, '127.0.0.1');
});

afterAll(async () => {
  await new Promise((r) => server.close(r));
  await new Promise((r) => other.close(r));
});

beforeEach(() => (seen.length = 0));

const get = (path: string, headers: { name: string; value: string }[] = []) =>
  kubeletGet({ url: `http://127.0.0.1:${port}${path}`, headers, timeoutMs: 3000 });

describe('kubeletGet follows redirects as kubelet does', () => {
  it('a relative redirect on the same host: followed, with the probe headers (Host too)', async () => {
    const r = await get('/healthz', [
      { name: 'X-Probe', value: '1' },
      { name: 'Host', value: 'app.local' },
    ]);
    expect(r).toEqual({
      kind: 'response',
      status: 200,
      body: 'ok /healthz/',
      url: `http://127.0.0.1:${port}/healthz/`,
      redirects: 1,
    });
    expect(seen).toEqual([
      { url: '/healthz', host: 'app.local', custom: '1' },
      { url: '/healthz/', host: 'app.local', custom: '1' },
    ]);
  });

  it("an absolute redirect to the same host: followed; a custom Host is not kept (Go's rule)", async () => {
    const r = await get('/abs', [{ name: 'Host', value: 'app.local' }]);
    expect(r).toMatchObject({ kind: 'response', status: 200, redirects: 1 });
    expect(seen.map((s) => s.host)).toEqual(['app.local', `127.0.0.1:${port}`]);
  });

  it('another port of the same host is the same host', async () => {
    expect(await get('/port')).toMatchObject({
      kind: 'response',
      status: 200,
      body: 'other port ok',
      redirects: 1,
    });
  });

  it('another host: not followed, the 3xx is the answer', async () => {
    expect(await get('/away')).toMatchObject({
      kind: 'response',
      status: 302,
      body: 'to http://elsewhere.invalid/x',
      redirects: 0,
    });
  });

  it('9 redirects are followed; the 10th request redirecting again is an error', async () => {
    expect(await get('/nine')).toMatchObject({
      kind: 'response',
      status: 200,
      body: 'after 9 redirects',
      redirects: 9,
    });
    expect(await get('/loop')).toEqual({
      kind: 'error',
      message: `Get "http://127.0.0.1:${port}/loop10": stopped after 10 redirects`,
    });
    expect(seen.filter((s) => s.url.startsWith('/loop'))).toHaveLength(10);
  });
});

describe('probe results and the ProbeWarning', () => {
  const probe = (path: string) => ({ httpGet: { port, path }, timeoutSeconds: 3 });

  it.each<[string, (p: number) => unknown]>([
    ['/healthz', () => ({ ok: true })],
    [
      '/away',
      () => ({
        ok: true,
        warning: 'Probe terminated redirects, Response body: to http://elsewhere.invalid/x',
      }),
    ],
    ['/304', () => ({ ok: true, warning: 'Probe terminated redirects, Response body: ' })],
    [
      '/loop',
      (p) => ({ ok: false, message: `Get "http://127.0.0.1:${p}/loop10": stopped after 10 redirects` }),
    ],
  ])('%s', async (path, want) => {
    expect(await runProbe(probe(path), '127.0.0.1', [])).toEqual(want(port));
  });

  it('the prober reports a warning for a success with one, and counts it as a success', async () => {
    const events: string[] = [];
    let status = { ready: false, started: false };
    const prober = new ContainerProber(
      { readinessProbe: { ...probe('/away'), periodSeconds: 60 } },
      (_t, p) => runProbe(p, '127.0.0.1', []),
      {
        onProbeFailed: (t, m) => events.push(`failed ${t}: ${m}`),
        onProbeWarning: (t, m) => events.push(`warning ${t}: ${m}`),
        onKill: () => undefined,
        onStatus: (s) => (status = s),
      },
    );
    prober.start();
    try {
      await new Promise<void>((resolve) => {
        const check = setInterval(() => {
          if (status.ready) {
            clearInterval(check);
            resolve();
          }
        }, 5);
      });
      expect(events).toEqual([
        'warning readiness: Probe terminated redirects, Response body: to http://elsewhere.invalid/x',
      ]);
    } finally {
      prober.stop();
    }
  });
});
