/**
 * The node-network helper: a process in the sandbox's node namespace, started by the sandbox
 * (`ip netns exec fsm-<id>-node node node-helper.js …`). Two doors, both unix sockets in the state
 * directory (visible from every namespace):
 * - `--dial-socket`: HTTP CONNECT host:port → a TCP connection from the node namespace (to a pod
 *   IP or a Service ClusterIP, through kube-proxy's rules), for the root namespace's kubelet,
 *   API server and shell. With the x-fsm-dial-report header a failed dial answers 502 with the
 *   socket error's code (x-fsm-dial-error) and kubelet's words; without it (grpc-js, curl) the
 *   connection is accepted and closed, which is what a refused connection looks like to them.
 * - `--api-listen <ip:port>` → `--api-socket`: the API server as pods reach it, at the node's
 *   address on the bridge, relayed to the sandbox's socket in front of the API server.
 * It exits when its stdin closes (the sandbox is gone) and on SIGTERM.
 */
import http from 'node:http';
import net from 'node:net';
import { rmSync } from 'node:fs';
import { DIAL_ERROR_HEADER, DIAL_REPORT_HEADER, DIAL_TIMEOUT_HEADER } from './node-network.js';

interface Args {
  dialSocket: string;
  apiListen?: { host: string; port: number };
  apiSocket?: string;
}

function parseArgs(argv: string[]): Args {
  const out: Partial<Args> = {};
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1] ?? ''];
    if (flag === '--dial-socket') out.dialSocket = value;
    else if (flag === '--api-socket') out.apiSocket = value;
    else if (flag === '--api-listen') {
      const m = /^(.+):(\d+)$/.exec(value);
      if (!m) throw new Error(`--api-listen: expected ip:port, got ${JSON.stringify(value)}`);
      out.apiListen = { host: m[1]!, port: Number(m[2]) };
    } else throw new Error(`unknown flag ${JSON.stringify(flag)}`);
  }
  if (!out.dialSocket) throw new Error('--dial-socket is required');
  return out as Args;
}

const log = (message: string, fields: Record<string, unknown> = {}): void => {
  process.stdout.write(JSON.stringify({ time: new Date().toISOString(), message, ...fields }) + '\n');
};

function relay(a: net.Socket, b: net.Socket): void {
  a.on('error', () => b.destroy());
  b.on('error', () => a.destroy());
  a.once('close', () => b.destroy());
  b.once('close', () => a.destroy());
  a.pipe(b);
  b.pipe(a);
}

function words(e: NodeJS.ErrnoException, target: string): string {
  const reason =
    e.code === 'ECONNREFUSED'
      ? 'connect: connection refused'
      : e.code === 'EHOSTUNREACH'
        ? 'connect: no route to host'
        : e.code === 'ENETUNREACH'
          ? 'connect: network is unreachable'
          : e.message;
  return `dial tcp ${target}: ${reason}`;
}

function serveDial(path: string): Promise<http.Server> {
  rmSync(path, { force: true });
  const server = http.createServer((_req, res) => res.writeHead(405).end('CONNECT host:port only\n'));
  server.on('connect', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    client.on('error', () => undefined);
    const m = /^\[?([^\]]+)\]?:(\d+)$/.exec(req.url ?? '');
    if (!m) {
      client.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const [host, port] = [m[1]!, Number(m[2])];
    const report = req.headers[DIAL_REPORT_HEADER] === '1';
    const timeoutMs = Math.min(Number(req.headers[DIAL_TIMEOUT_HEADER]) || 10_000, 120_000);
    const upstream = net.connect({ host, port });
    const timer = setTimeout(
      () => upstream.destroy(Object.assign(new Error('i/o timeout'), { code: 'ETIMEDOUT' })),
      timeoutMs,
    );
    let connected = false;
    upstream.once('connect', () => {
      connected = true;
      clearTimeout(timer);
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      relay(client, upstream);
    });
    upstream.once('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (!connected) {
        const text = words(e, req.url ?? '');
        if (report) {
          const body = Buffer.from(text + '\n');
          client.end(
            `HTTP/1.1 502 Bad Gateway\r\n${DIAL_ERROR_HEADER}: ${e.code ?? 'EIO'}\r\nContent-Type: text/plain\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body.toString()}`,
          );
        } else {
          client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
          client.destroy();
        }
      }
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => resolve(server));
  });
}

function serveApi(listen: { host: string; port: number }, socketPath: string): Promise<net.Server> {
  const server = net.createServer((client) => {
    client.on('error', () => undefined);
    const upstream = net.connect({ path: socketPath });
    relay(client, upstream);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: listen.host, port: listen.port }, () => resolve(server));
  });
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const servers: net.Server[] = [await serveDial(args.dialSocket)];
  if (args.apiListen && args.apiSocket) servers.push(await serveApi(args.apiListen, args.apiSocket));
  log('node network helper serving', { dialSocket: args.dialSocket, api: args.apiListen });
  const stop = (why: string): void => {
    log('node network helper stopping', { why });
    for (const s of servers) s.close();
    process.exit(0);
  };
  process.stdin.on('data', () => undefined);
  process.stdin.once('end', () => stop('the sandbox closed its pipe'));
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

main().catch((e: unknown) => {
  process.stderr.write(`node network helper: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(2);
});
