/** Plain-HTTP /metrics for the injector (default :9091), serving a caller-supplied Registry. */
import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { createHttpServer, listen } from '../binary/index.js';
import { METRICS_PATH } from '../constants/index.js';
import { errorMessage, type Logger } from '../logger/index.js';

export class MetricsServer {
  private readonly server: http.Server;
  private listening = false;

  constructor(
    private readonly registry: Registry,
    private readonly logger: Logger,
  ) {
    this.server = createHttpServer(
      (req, res) => {
        const path = (req.url ?? '/').split('?', 1)[0];
        if (path !== METRICS_PATH || (req.method !== 'GET' && req.method !== 'HEAD')) {
          res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
          res.end(`no handler for ${req.method} ${path}\n`);
          return;
        }
        this.registry.metrics().then(
          (body) => {
            res.writeHead(200, { 'content-type': this.registry.contentType });
            res.end(body);
          },
          (err: unknown) => {
            this.logger.error(`collecting metrics failed: ${errorMessage(err)}`);
            res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
            res.end('metrics collection failed\n');
          },
        );
      },
      { logger, name: 'metrics' },
    );
  }

  async start(port: number, host = '0.0.0.0'): Promise<void> {
    await listen(this.server, port, host, 'metrics');
    this.listening = true;
    this.logger.info('metrics serving', { port: this.port, path: METRICS_PATH });
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    if (!this.listening) return;
    this.listening = false;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    await closed;
  }
}
