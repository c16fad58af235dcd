/**
 * The defensive defaults of fsm's HTTP servers (pkg/binary/http-server.ts), on real sockets on
 * 127.0.0.1 with small limits: one request at a time per connection, the pipelining cap, the
 * connection cap that evicts the oldest idle connection, the idle, head and TLS handshake
 * timeouts, and bodies passing the parser valve intact.
 */
import type http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import {
  clientErrorResponse,
  createHttpServer,
  createHttpsServer,
  type HttpServerLimits,
} from '../../../pkg/binary/index.js';
import { createCA } from '../../../pkg/tls/index.js';
import { eventually } from '../../support/eventually.js';

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

const servers: net.Server[] = [];
const sockets: net.Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  for (const s of servers.splice(0)) {
    (s as http.Server).closeAllConnections?.();
    await new Promise((r) => s.close(r));
  }
});

async function serve(handler: Handler, limits: Partial<HttpServerLimits> = {}): Promise<number> {
  const server = createHttpServer(handler, { limits });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as AddressInfo).port;
}

/** A raw client connection that records what it receives and when it is closed. */
async function connect(
  port: number,
): Promise<{ socket: net.Socket; received: () => string; closed: Promise<void> }> {
  const socket = net.connect(port, '127.0.0.1');
  sockets.push(socket);
  let data = '';
  socket.setEncoding('utf8');
  socket.on('data', (d: string) => (data += d));
  socket.on('error', () => undefined);
  const closed = new Promise<void>((r) => socket.once('close', () => r()));
  await new Promise<void>((r) => socket.once('connect', () => r()));
  return { socket, received: () => data, closed };
}

const get = (path: string): string => `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`;

describe('createHttpServer: one request at a time per connection', () => {
  it('answers pipelined requests in order, never running two handlers of one connection at once', async () => {
    let running = 0;
    let most = 0;
    const port = await serve((req, res) => {
      running++;
      most = Math.max(most, running);
      setTimeout(() => {
        running--;
        res.end(`answer ${req.url}\n`);
      }, 20);
    });
    const c = await connect(port);
    c.socket.write(get('/1') + get('/2') + get('/3'));
    const text = await eventually('three answers', () =>
      (c.received().match(/answer/g) ?? []).length === 3 ? c.received() : undefined,
    );
    expect([...text.matchAll(/answer (\/\d)/g)].map((m) => m[1])).toEqual(['/1', '/2', '/3']);
    expect(most).toBe(1);
  });

  it('closes a connection that pipelines more than the cap, having run at most cap + 1 handlers', async () => {
    let handled = 0;
    const port = await serve(
      (_req, res) => {
        handled++;
        setTimeout(() => res.end('ok'), 5);
      },
      { maxPipelinedRequests: 2 },
    );
    const c = await connect(port);
    c.socket.write(get('/x').repeat(200));
    await c.closed;
    expect(handled).toBeLessThanOrEqual(3);
  });

  it('bodies larger than the parser slice arrive intact (content-length and chunked)', async () => {
    const port = await serve(
      (req, res) => {
        const parts: Buffer[] = [];
        req.on('data', (d: Buffer) => parts.push(d));
        req.on('end', () => {
          const body = Buffer.concat(parts);
          res.end(`${body.length} ${body.subarray(-8).toString()}\n`);
        });
      },
      { parseSliceBytes: 64 },
    );
    const body = 'x'.repeat(100_000) + 'the-end!';
    const c = await connect(port);
    c.socket.write(
      `POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: ${body.length}\r\n\r\n${body}` +
        `POST /b HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n` +
        `${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`,
    );
    const text = await eventually('two answers', () =>
      (c.received().match(/100008 the-end!/g) ?? []).length === 2 ? c.received() : undefined,
    );
    expect(text).toMatch(/^HTTP\/1.1 200/);
  });
});

describe('createHttpServer: a declared body passes in large slices', () => {
  it('a content-length body reaches the handler in a few reads, not one per parser slice', async () => {
    const reads: number[] = [];
    const port = await serve(
      (req, res) => {
        let chunks = 0;
        let bytes = 0;
        req.on('data', (d: Buffer) => {
          chunks++;
          bytes += d.length;
        });
        req.on('end', () => {
          reads.push(chunks);
          res.end(`${bytes}\n`);
        });
      },
      { parseSliceBytes: 64 },
    );
    const body = 'y'.repeat(20_000);
    const c = await connect(port);
    c.socket.write(`POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
    await eventually('answer', () => (/\r\n20000\n$/.test(c.received()) ? true : undefined));
    // 64-byte slices would take more than 300 reads.
    expect(reads[0]).toBeLessThan(20);
  });

  it('pipelined heads behind a granted body are still held back (cap + 1 handlers at most)', async () => {
    let handled = 0;
    const port = await serve(
      (req, res) => {
        handled++;
        req.resume();
        req.on('end', () => setTimeout(() => res.end('ok'), 5));
      },
      { maxPipelinedRequests: 2, parseSliceBytes: 64 },
    );
    const body = 'z'.repeat(5_000);
    const c = await connect(port);
    c.socket.write(
      `POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: ${body.length}\r\n\r\n${body}` + get('/x').repeat(200),
    );
    await c.closed;
    expect(handled).toBeLessThanOrEqual(3);
  });
});

describe('createHttpServer: connection cap', () => {
  it('over the cap, closes the oldest connection without a request in flight; a prober still gets its answer', async () => {
    const port = await serve((_req, res) => res.end('ok'), { maxConnections: 3 });
    const idle = [await connect(port), await connect(port), await connect(port)];
    const probe = await connect(port);
    probe.socket.write(get('/health'));
    await idle[0]!.closed;
    await eventually('answer', () => (/200 OK/.test(probe.received()) ? true : undefined));
    expect(idle[1]!.socket.destroyed || idle[2]!.socket.destroyed).toBe(false);
  });

  it('refuses a new connection when every connection has a request in flight', async () => {
    const release: (() => void)[] = [];
    const port = await serve((_req, res) => release.push(() => res.end('ok')), { maxConnections: 2 });
    const busy = [await connect(port), await connect(port)];
    for (const b of busy) b.socket.write(get('/slow'));
    await eventually('both in flight', () => (release.length === 2 ? true : undefined));
    const extra = await connect(port);
    await extra.closed;
    for (const r of release) r();
    for (const b of busy)
      await eventually('answered', () => (/200 OK/.test(b.received()) ? true : undefined));
  });
});

describe('createHttpServer: timeouts', () => {
  it('closes a connection that never sends a byte, but not one whose request is being answered', async () => {
    const port = await serve((_req, res) => setTimeout(() => res.end('late but fine'), 600), {
      idleTimeoutMs: 200,
    });
    const silent = await connect(port);
    const working = await connect(port);
    working.socket.write(get('/slow'));
    await silent.closed;
    await eventually('the slow answer', () => (/late but fine/.test(working.received()) ? true : undefined));
  });

  it('answers a request head that never ends with 408 and closes the connection', async () => {
    const port = await serve((_req, res) => res.end('ok'), {
      headersTimeoutMs: 300,
      requestTimeoutMs: 1000,
      timeoutCheckIntervalMs: 100,
    });
    const c = await connect(port);
    c.socket.write('GET / HTTP/1.1\r\nHost: h\r\n');
    const drip = setInterval(() => c.socket.writable && c.socket.write('X-A: b\r\n'), 50);
    await c.closed;
    clearInterval(drip);
    expect(c.received()).toMatch(/^HTTP\/1.1 408/);
  });

  it('TLS: closes a connection that never sends a ClientHello, even with a clientError handler', async () => {
    const ca = await createCA('http-server-test');
    const pair = await ca.issue({ commonName: 'localhost', dnsNames: ['localhost'] });
    const server = createHttpsServer({ cert: pair.certPem, key: pair.keyPem }, (_req, res) => res.end('ok'), {
      limits: { handshakeTimeoutMs: 300 },
    });
    // The webhook's handler: writes a 400 into the connection it is given.
    server.on(
      'clientError',
      (_err, socket) => socket.writable && socket.end('HTTP/1.1 400 Bad Request\r\n\r\n'),
    );
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    const silent = await connect(port);
    await silent.closed;
    const ok = await new Promise<string>((resolve, reject) => {
      const s = tls.connect({ port, host: '127.0.0.1', ca: ca.certPem, servername: 'localhost' }, () =>
        s.write(get('/')),
      );
      sockets.push(s);
      let d = '';
      s.on('data', (x: Buffer) => {
        d += x.toString();
        if (d.endsWith('ok')) resolve(d);
      });
      s.on('error', reject);
    });
    expect(ok).toMatch(/^HTTP\/1.1 200/);
  });
});

describe('clientErrorResponse', () => {
  const coded = (code: string): NodeJS.ErrnoException => Object.assign(new Error(code), { code });
  it.each([
    ['ERR_HTTP_REQUEST_TIMEOUT', 'HTTP/1.1 408 Request Timeout'],
    ['HPE_HEADER_OVERFLOW', 'HTTP/1.1 431 Request Header Fields Too Large'],
    ['HPE_INVALID_METHOD', 'HTTP/1.1 400 Bad Request'],
  ])('%s → %s, and the connection closes', (code, status) => {
    const r = clientErrorResponse(coded(code));
    expect(r.startsWith(`${status}\r\n`)).toBe(true);
    expect(r).toContain('Connection: close\r\n');
    expect(r.endsWith('\r\n\r\n')).toBe(true);
  });
});
