/**
 * Worker thread of the injector benchmark: serves either the real webhook (mode `injector`) or a bare
 * node:https server that echoes the request body (mode `bare`), over the same TLS certificate, on its
 * own event loop (one core). Posts `{ port }` once listening; answers `elu` with its event-loop active
 * time; stops on the message `stop`.
 */
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';
import { Registry } from 'prom-client';
import { silentLogger } from '../../pkg/logger/index.js';
import { defaultInjectorConfig, InjectorMetrics, WebhookServer } from '../../pkg/injector/index.js';
import { MemoryNamespaces, namespace } from './injector.js';

export interface BenchWorkerData {
  mode: 'injector' | 'bare';
  cert: string;
  key: string;
}

const data = workerData as BenchWorkerData;

async function main(): Promise<void> {
  let stop: () => Promise<void>;
  let port: number;
  if (data.mode === 'injector') {
    const server = new WebhookServer({
      port: 0,
      host: '127.0.0.1',
      tls: { cert: data.cert, key: data.key },
      config: defaultInjectorConfig(),
      namespaces: new MemoryNamespaces([namespace('app', { mesh: 'fsm' })], true),
      logger: silentLogger(),
      metrics: new InjectorMetrics(new Registry()),
    });
    await server.start();
    port = server.port;
    stop = () => server.stop();
  } else {
    const server = https.createServer(
      { cert: data.cert, key: data.key, minVersion: 'TLSv1.2' },
      (req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          const body = Buffer.concat(chunks);
          res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
          res.end(body);
        });
      },
    );
    server.keepAliveTimeout = 65_000;
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
    stop = () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeIdleConnections();
      });
  }
  // `elu`: this thread's event-loop active time so far (ms), to compute server CPU per request.
  parentPort!.on('message', (m) => {
    if (m === 'stop') void stop().then(() => process.exit(0));
    if (m === 'elu') parentPort!.postMessage({ activeMs: performance.eventLoopUtilization().active });
  });
  parentPort!.postMessage({ port });
}

void main();
