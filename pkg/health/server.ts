/**
 * fsm-controller's :9091: /health/alive, /health/ready, /metrics, /version and the debug routes
 * the controller mounts. The caller starts listening only once the ADS server is bound, so before
 * that kubelet's probe gets no answer at all (connection refused), as the contract says.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type Express, type Request, type Response } from 'express';
import type { Registry } from 'prom-client';
import {
  HEALTH_ALIVE_BODY,
  HEALTH_ALIVE_PATH,
  HEALTH_READY_BODY,
  HEALTH_READY_PATH,
  METRICS_PATH,
  VERSION_PATH,
} from '../constants/index.js';
import type { LifecycleView } from '../ads/index.js';
import { createHttpServer, listen } from '../binary/index.js';
import type { Logger } from '../logger/index.js';
import { aliveAnswer, readyAnswer, type HealthAnswer, type ReadinessCheck } from './readiness.js';

export interface HealthServerOptions {
  lifecycle: LifecycleView;
  checks: readonly ReadinessCheck[];
  registry: Registry;
  version: string;
  logger: Logger;
  /** Mounts extra routes (the controller's debug endpoints). */
  routes?: (app: Express) => void;
}

export interface HealthServer {
  listen(port: number, host?: string): Promise<AddressInfo>;
  /** After this, /health/alive and /health/ready answer 503 naming the error. */
  markFatal(reason: string): void;
  close(): Promise<void>;
}

function reply(res: Response, a: HealthAnswer): void {
  res.status(a.status).type('text/plain').send(a.body);
}

export function createHealthServer(opts: HealthServerOptions): HealthServer {
  const log = opts.logger.child({ component: 'health' });
  let fatal: string | undefined;
  const app = express();
  app.disable('x-powered-by');
  app.get(HEALTH_ALIVE_PATH, (_req: Request, res: Response) =>
    reply(res, aliveAnswer(opts.lifecycle.state, fatal, HEALTH_ALIVE_BODY)),
  );
  app.get(HEALTH_READY_PATH, (_req: Request, res: Response) => {
    const a = readyAnswer(opts.lifecycle.state, fatal, opts.checks, HEALTH_READY_BODY);
    if (a.status !== 200) log.debug('not ready', { reason: a.body });
    reply(res, a);
  });
  app.get(METRICS_PATH, async (_req: Request, res: Response) => {
    res.type(opts.registry.contentType).send(await opts.registry.metrics());
  });
  app.get(VERSION_PATH, (_req: Request, res: Response) => {
    res.json({ version: opts.version, node: process.version });
  });
  opts.routes?.(app);
  app.use((req: Request, res: Response) => {
    res.status(404).type('text/plain').send(`not found: ${req.method} ${req.path}`);
  });

  let server: Server | undefined;
  return {
    async listen(port: number, host = '0.0.0.0'): Promise<AddressInfo> {
      // Defensive defaults (timeouts, connection cap, one request at a time per connection): kubelet
      // must keep getting answers while slow or greedy clients are connected.
      const s = createHttpServer(app, { logger: log, name: 'health' });
      const addr = await listen(s, port, host, 'health');
      server = s;
      log.info('health server listening', { address: `${addr.address}:${addr.port}` });
      return addr;
    },
    markFatal(reason: string): void {
      fatal ??= reason;
      log.error('fatal error: liveness now fails', { reason });
    },
    close(): Promise<void> {
      const s = server;
      if (!s) return Promise.resolve();
      return new Promise((resolve) => {
        s.close(() => resolve());
        s.closeAllConnections();
      });
    },
  };
}
