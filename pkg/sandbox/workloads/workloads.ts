import http from 'node:http';
import { startBookbuyer } from './bookbuyer.js';
import https from 'node:https';
import net from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import {
  ALWAYS_FAILING_PATH_PREFIX,
  OFF_HOST_REDIRECT_HOST,
  OFF_HOST_REDIRECT_PATH_PREFIX,
  REDIRECT_LOOP_PATH,
  type Workload,
  type WorkloadSpec,
} from './types.js';

type Closable = { close(cb?: (err?: Error) => void): unknown; closeAllConnections?: () => void };

function listen(server: net.Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void =>
      reject(new Error(`cannot listen on ${host}:${port}: ${err.message}`));
    server.once('error', onError);
    server.listen({ port, host, exclusive: true }, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

function close(server: Closable): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections?.();
  });
}

/** The redirect app's answer for a path, or undefined when it answers as the HTTP app. */
function redirectOf(path: string): { status: number; location: string } | undefined {
  if (path.startsWith(`${OFF_HOST_REDIRECT_PATH_PREFIX}/`) || path === OFF_HOST_REDIRECT_PATH_PREFIX) {
    return { status: 302, location: `http://${OFF_HOST_REDIRECT_HOST}${path}` };
  }
  if (path === REDIRECT_LOOP_PATH) return { status: 302, location: REDIRECT_LOOP_PATH };
  if (!path.endsWith('/') && !path.startsWith(ALWAYS_FAILING_PATH_PREFIX))
    return { status: 301, location: `${path}/` };
  return undefined;
}

/**
 * HTTP or HTTPS app: 200 `<name> ok <path>` when healthy, 503 when not or under /fail. The redirect
 * app answers with redirects first (see OFF_HOST_REDIRECT_PATH_PREFIX).
 */
async function startHttpApp(spec: WorkloadSpec, secure: boolean): Promise<Workload> {
  let healthy = true;
  const handler: http.RequestListener = (req, res) => {
    const path = (req.url ?? '/').split('?', 1)[0]!;
    const redirect = spec.kind === 'redirect' ? redirectOf(path) : undefined;
    if (redirect) {
      res.writeHead(redirect.status, { Location: redirect.location, 'Content-Type': 'text/plain' });
      res.end(`${spec.name} redirects ${path} to ${redirect.location}\n`);
      return;
    }
    const ok = healthy && !path.startsWith(ALWAYS_FAILING_PATH_PREFIX);
    spec.log?.(`${req.method ?? 'GET'} ${path} ${ok ? 200 : 503} (${req.headers['user-agent'] ?? '-'})`);
    res.writeHead(ok ? 200 : 503, { 'Content-Type': 'text/plain' });
    res.end(`${spec.name} ${ok ? 'ok' : 'unhealthy'} ${path}\n`);
  };
  const servers = spec.ports.map((): http.Server =>
    secure
      ? https.createServer({ cert: spec.tls?.certPem, key: spec.tls?.keyPem }, handler)
      : http.createServer(handler),
  );
  await Promise.all(servers.map((s, i) => listen(s, spec.host, spec.ports[i]!)));
  for (const p of spec.ports)
    spec.log?.(`${spec.name}: serving ${secure ? 'HTTPS' : 'HTTP'} on ${spec.host}:${p}`);
  return {
    spec,
    get healthy() {
      return healthy;
    },
    async setHealthy(h) {
      healthy = h;
      spec.log?.(`${spec.name}: ${h ? 'healthy again (200)' : 'broken: answering 503'}`);
    },
    async stop() {
      await Promise.all(servers.map(close));
    },
  };
}

/** TCP app: accepts and closes while healthy; unhealthy closes its ports (connections refused). */
async function startTcpApp(spec: WorkloadSpec): Promise<Workload> {
  let healthy = true;
  let servers: net.Server[] = [];
  const open = async (): Promise<void> => {
    servers = spec.ports.map(() =>
      net.createServer((s) => {
        spec.log?.(`connection from ${s.remoteAddress ?? '?'}:${s.remotePort ?? '?'}`);
        s.on('error', () => undefined);
        s.end(`${spec.name} ok\n`);
      }),
    );
    await Promise.all(servers.map((s, i) => listen(s, spec.host, spec.ports[i]!)));
  };
  await open();
  for (const p of spec.ports) spec.log?.(`${spec.name}: accepting TCP on ${spec.host}:${p}`);
  return {
    spec,
    get healthy() {
      return healthy;
    },
    async setHealthy(h) {
      if (h === healthy) return;
      healthy = h;
      spec.log?.(`${spec.name}: ${h ? 'port open again' : 'broken: port closed'}`);
      if (h) await open();
      else await Promise.all(servers.map(close));
    },
    async stop() {
      if (healthy) await Promise.all(servers.map(close));
    },
  };
}

/** gRPC app: grpc.health.v1 SERVING / NOT_SERVING (overall and for the container's name). */
async function startGrpcApp(spec: WorkloadSpec): Promise<Workload> {
  let healthy = true;
  const health = new HealthImplementation({ '': 'SERVING', [spec.name]: 'SERVING' });
  const server = new grpc.Server();
  health.addToServer(server);
  for (const port of spec.ports) {
    await new Promise<void>((resolve, reject) =>
      server.bindAsync(`${spec.host}:${port}`, grpc.ServerCredentials.createInsecure(), (err) =>
        err ? reject(new Error(`cannot listen on ${spec.host}:${port}: ${err.message}`)) : resolve(),
      ),
    );
  }
  for (const p of spec.ports) spec.log?.(`${spec.name}: serving gRPC health on ${spec.host}:${p}`);
  return {
    spec,
    get healthy() {
      return healthy;
    },
    async setHealthy(h) {
      healthy = h;
      const status = h ? 'SERVING' : 'NOT_SERVING';
      spec.log?.(`${spec.name}: health status ${status}`);
      health.setStatus('', status);
      health.setStatus(spec.name, status);
    },
    async stop() {
      await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
    },
  };
}

/** Starts a workload; rejects naming host:port when a port cannot be bound. */
export function startWorkload(spec: WorkloadSpec): Promise<Workload> {
  switch (spec.kind) {
    case 'http':
    case 'redirect':
      return startHttpApp(spec, false);
    case 'https':
      if (!spec.tls) return Promise.reject(new Error(`https workload ${spec.name} needs a certificate`));
      return startHttpApp(spec, true);
    case 'tcp':
      return startTcpApp(spec);
    case 'grpc':
      return startGrpcApp(spec);
    case 'bookbuyer':
      return startBookbuyer(spec);
  }
}
