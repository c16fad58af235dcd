/**
 * fsm-injector assembled: TLS files (watched and reloaded) → HTTPS webhook, plus /metrics.
 * cmd/fsm-injector/main.ts only turns flags into these options.
 */
import type { Registry } from 'prom-client';
import type { BootstrapCredentials } from '../identity/index.js';
import type { Logger } from '../logger/index.js';
import { InjectorMetrics } from './metrics.js';
import { MetricsServer } from './metrics-server.js';
import type { InjectorConfig } from './mutate.js';
import type { NamespaceSource } from './namespaces.js';
import type { ServerVersionSource } from './server-version.js';
import { WebhookServer } from './server.js';
import { readPairSync, TlsFileWatcher } from './tlsfiles.js';

export interface InjectorOptions {
  port: number;
  /** Undefined: no metrics server. 0: any free port. */
  metricsPort?: number;
  host?: string;
  certFile: string;
  keyFile: string;
  /** TLS re-read interval in ms (files are also watched). */
  certReloadIntervalMs?: number;
  config: InjectorConfig;
  namespaces: NamespaceSource;
  registry: Registry;
  logger: Logger;
  newProxyUuid?: () => string;
  credentials?: BootstrapCredentials;
  notReady?: () => string | undefined;
  /** The API server's version: native sidecars where it runs them; absent: classic sidecars. */
  serverVersion?: ServerVersionSource;
}

export class Injector {
  readonly webhook: WebhookServer;
  readonly metrics: InjectorMetrics;
  readonly tls: TlsFileWatcher;
  private readonly metricsServer: MetricsServer | undefined;

  constructor(private readonly opts: InjectorOptions) {
    const pair = readPairSync(opts.certFile, opts.keyFile);
    this.metrics = new InjectorMetrics(opts.registry);
    this.webhook = new WebhookServer({
      port: opts.port,
      ...(opts.host !== undefined ? { host: opts.host } : {}),
      tls: pair,
      config: opts.config,
      namespaces: opts.namespaces,
      logger: opts.logger,
      metrics: this.metrics,
      ...(opts.newProxyUuid ? { newProxyUuid: opts.newProxyUuid } : {}),
      ...(opts.credentials ? { credentials: opts.credentials } : {}),
      ...(opts.notReady ? { notReady: opts.notReady } : {}),
      ...(opts.serverVersion ? { serverVersion: opts.serverVersion } : {}),
    });
    this.tls = new TlsFileWatcher(
      {
        certFile: opts.certFile,
        keyFile: opts.keyFile,
        logger: opts.logger.child({ component: 'injector-tls' }),
        ...(opts.certReloadIntervalMs !== undefined ? { intervalMs: opts.certReloadIntervalMs } : {}),
        onChange: (p) => this.webhook.setCertificate(p),
        onReload: (outcome) => this.metrics.certReloads.inc({ outcome }),
      },
      pair,
    );
    this.metricsServer =
      opts.metricsPort !== undefined
        ? new MetricsServer(opts.registry, opts.logger.child({ component: 'injector-metrics' }))
        : undefined;
  }

  async start(): Promise<void> {
    try {
      if (this.metricsServer) await this.metricsServer.start(this.opts.metricsPort!, this.opts.host);
      await this.webhook.start();
      this.tls.start();
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  get port(): number {
    return this.webhook.port;
  }

  get metricsPort(): number | undefined {
    return this.metricsServer?.port;
  }

  async stop(): Promise<void> {
    this.tls.stop();
    await Promise.all([this.webhook.stop(), this.metricsServer?.stop()]);
  }
}
