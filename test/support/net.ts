/** Network helpers for tests and benchmarks: real sockets on 127.0.0.1 only. */
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';

/** A TCP listener on 127.0.0.1:<free port> that accepts (and counts) connections and closes them. */
export async function startTcpListener(): Promise<{
  port: number;
  accepted(): number;
  close(): Promise<void>;
}> {
  const sockets = new Set<net.Socket>();
  let accepted = 0;
  const server = net.createServer((s) => {
    accepted++;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
    s.end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    accepted: () => accepted,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

/** A port on 127.0.0.1 that nothing listens on (bound, released): connecting is refused. */
export async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

/**
 * A listener whose connects never complete: a child process listens with backlog 1 and blocks its
 * event loop so it never accepts; once the kernel's accept queue is full, further SYNs are dropped
 * and a connect hangs until the caller's timeout — a blackhole on loopback.
 */
export async function startBlackhole(): Promise<{ port: number; close(): Promise<void> }> {
  const child: ChildProcess = spawn(
    process.execPath,
    [
      '-e',
      `const s=require('net').createServer();s.listen({port:0,host:'127.0.0.1',backlog:1},()=>{` +
        `process.stdout.write(s.address().port+'\\n');` +
        `setTimeout(()=>Atomics.wait(new Int32Array(new SharedArrayBuffer(4)),0,0),50)})`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
    child.once('exit', (code) => reject(new Error(`blackhole exited ${code}`)));
  });
  await new Promise((r) => setTimeout(r, 150)); // let the child block before filling its queue
  const fillers: net.Socket[] = [];
  for (let i = 0; i < 4; i++) {
    const s = net.connect(port, '127.0.0.1');
    s.on('error', () => undefined);
    fillers.push(s);
  }
  await new Promise((r) => setTimeout(r, 100));
  return {
    port,
    close: async () => {
      for (const s of fillers) s.destroy();
      child.kill('SIGKILL');
      await new Promise((r) => (child.exitCode !== null ? r(null) : child.once('exit', r)));
    },
  };
}

export interface HttpResult {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** One HTTP request (a new connection unless an agent is given); `headers` may be [name, value] pairs to repeat one. */
export function httpRequest(
  url: string,
  opts: {
    method?: string;
    headers?: http.OutgoingHttpHeaders | [string, string][];
    agent?: http.Agent | false;
  } = {},
): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: opts.method ?? 'GET', agent: opts.agent ?? false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    if (Array.isArray(opts.headers)) {
      const byName = new Map<string, string[]>();
      for (const [n, v] of opts.headers) byName.set(n, [...(byName.get(n) ?? []), v]);
      for (const [n, v] of byName) req.setHeader(n, v);
    } else if (opts.headers) {
      for (const [n, v] of Object.entries(opts.headers)) if (v !== undefined) req.setHeader(n, v);
    }
    req.on('error', reject);
    req.end();
  });
}
