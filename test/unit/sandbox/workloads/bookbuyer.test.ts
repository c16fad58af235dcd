/**
 * The demo's bookbuyer: its target from the env (a bad value names the variable), and on real
 * sockets it calls through the sidecar's capture listener announcing the destination in a PROXY
 * header (loopback mode), or directly when nothing says otherwise.
 */
import http from 'node:http';
import net from 'node:net';
import { SANDBOX_BOOKBUYER_TARGET_ENV, SANDBOX_OUTBOUND_PROXY_ENV } from '../../../../pkg/constants/index.js';
import { bookbuyerTarget, startBookbuyer } from '../../../../pkg/sandbox/workloads/bookbuyer.js';

describe('bookbuyerTarget', () => {
  it.each<[string | undefined, unknown]>([
    ['http://10.96.0.5:14001/books/', { dest: { host: '10.96.0.5', port: 14001 }, path: '/books/' }],
    ['http://10.96.0.5/', { dest: { host: '10.96.0.5', port: 80 }, path: '/' }],
    [undefined, `${SANDBOX_BOOKBUYER_TARGET_ENV} is not set`],
    ['nope', `${SANDBOX_BOOKBUYER_TARGET_ENV}: not a URL: "nope"`],
    ['https://10.0.0.1/', `${SANDBOX_BOOKBUYER_TARGET_ENV}: only http:// URLs`],
    ['http://bookstore:80/', `${SANDBOX_BOOKBUYER_TARGET_ENV}: expected <ip>:<port>, got "bookstore:80"`],
  ])('%s', (value, want) => {
    const env: Record<string, string> = value === undefined ? {} : { [SANDBOX_BOOKBUYER_TARGET_ENV]: value };
    if (typeof want === 'string') expect(() => bookbuyerTarget(env)).toThrow(want);
    else expect(bookbuyerTarget(env)).toEqual(want);
  });
});

it('loopback mode: dials the sidecar capture listener with a PROXY header naming the Service', async () => {
  const seen: string[] = [];
  const sidecar = net.createServer((s) => {
    let data = '';
    s.on('data', (d: Buffer) => {
      data += d.toString();
      if (data.includes('\r\n\r\n')) {
        seen.push(data);
        s.end('HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok');
      }
    });
  });
  await new Promise<void>((r) => sidecar.listen(0, '127.0.0.1', r));
  const port = (sidecar.address() as net.AddressInfo).port;
  const lines: string[] = [];
  const answered = new Promise<void>((resolve) => {
    void startBookbuyer({
      kind: 'bookbuyer',
      host: '127.0.0.1',
      ports: [],
      name: 'bookbuyer',
      env: {
        [SANDBOX_BOOKBUYER_TARGET_ENV]: 'http://10.96.0.5:14001/books/',
        [SANDBOX_OUTBOUND_PROXY_ENV]: `127.0.0.1:${port}`,
      },
      log: (l) => {
        lines.push(l);
        if (l.includes('→ 200')) resolve();
      },
    }).then((w) => answered.then(() => w.stop()));
  });
  await answered;
  expect(seen[0]).toMatch(/^PROXY TCP4 127\.0\.0\.1 10\.96\.0\.5 0 14001\r\nGET \/books\/ HTTP\/1\.1\r\n/);
  expect(lines).toContain(
    `bookbuyer: GET http://10.96.0.5:14001/books/ via the sidecar 127.0.0.1:${port} → 200 ok (books bought: 1)`,
  );
  sidecar.close();
});

it('namespace mode (no outbound proxy env): dials the target itself', async () => {
  const app = http.createServer((req, res) => res.end(`bookstore ok ${req.url}`));
  await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
  const port = (app.address() as net.AddressInfo).port;
  const line = await new Promise<string>((resolve) => {
    void startBookbuyer({
      kind: 'bookbuyer',
      host: '127.0.0.1',
      ports: [],
      name: 'bookbuyer',
      env: { [SANDBOX_BOOKBUYER_TARGET_ENV]: `http://127.0.0.1:${port}/books/` },
      log: (l) => {
        if (l.includes('→')) resolve(l);
      },
    }).then((w) => setTimeout(() => void w.stop(), 10));
  });
  expect(line).toBe(
    `bookbuyer: GET http://127.0.0.1:${port}/books/ → 200 bookstore ok /books/ (books bought: 1)`,
  );
  app.close();
});
