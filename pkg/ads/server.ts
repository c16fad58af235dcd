/**
 * The ADS gRPC server: envoy.service.discovery.v3.AggregatedDiscoveryService with both
 * StreamAggregatedResources (SotW) and DeltaAggregatedResources. Wiring only: the protocol engine
 * (engine.ts) serves the streams, grpc-transport.ts adapts grpc-js calls to it, and this file owns
 * the grpc-js server's bind, drain and shutdown. Exposes the lifecycle (starting → serving →
 * draining → stopped) for health checks.
 */
import * as grpc from '@grpc/grpc-js';
import { Registry } from 'prom-client';
import { ADS_SHUTDOWN_FLUSH_MS, DEFAULT_ADS_DRAIN_GRACE_MS } from '../constants/index.js';
import { silentLogger, type Logger } from '../logger/index.js';
import { envoyRoot } from '../envoy/index.js';
import { SnapshotCache } from './cache.js';
import { AdsEngine } from './engine.js';
import { registerAdsService } from './grpc-transport.js';
import { Lifecycle, type LifecycleView } from './lifecycle.js';
import { AdsMetrics } from './metrics.js';
import type { StreamHandle } from './stream.js';

export interface AdsServerOptions {
  /** The desired resources of every proxy; a new empty cache when omitted. */
  cache?: SnapshotCache;
  logger?: Logger;
  /** Where metrics are registered; a private Registry when omitted (never the global one). */
  registry?: Registry;
  /** How long a stream of an unknown node id waits for a snapshot (default 60 s). */
  unknownNodeWaitMs?: number;
  /** Responses per stream handed to gRPC and not yet flushed (default 4). */
  maxInFlightPerStream?: number;
  /** DiscoveryResponse.control_plane.identifier (default fsm-controller; '' to omit). */
  controlPlaneIdentifier?: string;
  /** Server credentials (default insecure: sidecars reach the controller inside the cluster). */
  credentials?: grpc.ServerCredentials;
  /** Extra grpc-js server options. */
  grpcOptions?: grpc.ServerOptions;
}

export interface AdsStopOptions {
  /** How long closed streams may take to flush before their connections are cut (default 1 s). */
  flushMs?: number;
  /** The least time the server stays `draining` (alive, not ready) after stop() (default 0). */
  holdMs?: number;
}

export interface AdsListenOptions {
  /** 0 picks a free port (tests). */
  port: number;
  /** Default 0.0.0.0. */
  host?: string;
}

export class AdsServer {
  readonly cache: SnapshotCache;
  readonly metrics: AdsMetrics;
  readonly registry: Registry;
  private readonly lifecycleImpl = new Lifecycle();
  private readonly logger: Logger;
  private readonly server: grpc.Server;
  private readonly engine: AdsEngine;
  private address: string | undefined;
  private boundPort: number | undefined;
  private stopping: Promise<void> | undefined;
  private readonly credentials: grpc.ServerCredentials;

  constructor(options: AdsServerOptions = {}) {
    this.cache = options.cache ?? new SnapshotCache();
    this.logger = (options.logger ?? silentLogger()).child({ component: 'ads' });
    this.registry = options.registry ?? new Registry();
    this.metrics = new AdsMetrics(this.registry);
    this.credentials = options.credentials ?? grpc.ServerCredentials.createInsecure();
    this.engine = new AdsEngine({
      cache: this.cache,
      metrics: this.metrics,
      logger: this.logger,
      lifecycle: this.lifecycleImpl,
      unknownNodeWaitMs: options.unknownNodeWaitMs,
      maxInFlightPerStream: options.maxInFlightPerStream,
      controlPlaneIdentifier: options.controlPlaneIdentifier,
    });
    envoyRoot(); // load protos now, not on the first request
    this.server = new grpc.Server({
      'grpc.keepalive_permit_without_calls': 1,
      'grpc.http2.min_ping_interval_without_data_ms': 10_000,
      ...options.grpcOptions,
    });
    registerAdsService(this.server, this.engine);
  }

  /** The lifecycle, for /health/alive and /health/ready. */
  get lifecycle(): LifecycleView {
    return this.lifecycleImpl;
  }

  get state(): LifecycleView['state'] {
    return this.lifecycleImpl.state;
  }

  /** The bound port (after start). */
  get port(): number {
    if (this.boundPort === undefined) throw new Error('ADS server not started');
    return this.boundPort;
  }

  /** Open streams, e.g. for debug endpoints and tests. */
  get openStreams(): readonly StreamHandle[] {
    return this.engine.openStreams;
  }

  /** Streams open for one node id. */
  streamsOf(nodeId: string): StreamHandle[] {
    return this.engine.streamsOf(nodeId);
  }

  /** Binds and starts serving; resolves with the bound port. */
  async start(listen: AdsListenOptions): Promise<{ port: number; host: string }> {
    if (this.lifecycleImpl.state !== 'starting') {
      throw new Error(`ADS server cannot start from state ${this.lifecycleImpl.state}`);
    }
    const host = listen.host ?? '0.0.0.0';
    const hostPart = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
    const port = await new Promise<number>((resolve, reject) => {
      this.server.bindAsync(`${hostPart}:${listen.port}`, this.credentials, (err, p) =>
        err
          ? reject(new Error(`ADS server cannot listen on ${hostPart}:${listen.port}: ${err.message}`))
          : resolve(p),
      );
    });
    this.boundPort = port;
    this.address = `${hostPart}:${port}`;
    this.lifecycleImpl.transition('serving');
    this.logger.info('ADS server serving', { address: this.address });
    return { port, host };
  }

  /**
   * Graceful stop: draining (no new connections or streams, GOAWAY to every connection), open
   * streams are closed with UNAVAILABLE after `graceMs` (proxies reconnect to another replica; 0 =
   * at once), connections still open `flushMs` later (a reader that stopped reading) are cut, then
   * stopped — but not before `holdMs` (the lifecycle stays `draining`: alive, not ready). Idempotent.
   */
  stop(graceMs: number = DEFAULT_ADS_DRAIN_GRACE_MS, opts: AdsStopOptions = {}): Promise<void> {
    this.stopping ??= this.doStop(graceMs, opts.flushMs ?? ADS_SHUTDOWN_FLUSH_MS, opts.holdMs ?? 0);
    return this.stopping;
  }

  private async doStop(graceMs: number, flushMs: number, holdMs: number): Promise<void> {
    const held = new Promise((r) => setTimeout(r, holdMs));
    if (this.lifecycleImpl.state === 'starting' || !this.address) {
      this.lifecycleImpl.transition('stopped');
      this.server.forceShutdown();
      return;
    }
    this.lifecycleImpl.transition('draining');
    this.logger.info('ADS server draining', { streams: this.engine.openStreams.length, graceMs });
    const address = this.address;
    try {
      this.server.drain(address, graceMs + flushMs);
      this.server.unbind(address);
    } catch (err) {
      this.logger.debug('drain/unbind failed', { error: String(err) });
    }
    await this.engine.closeAll(graceMs);
    const shutdown = new Promise<void>((resolve) => {
      const force = setTimeout(() => {
        this.logger.info('ADS connections still open after the flush window: closing them', { flushMs });
        this.server.forceShutdown();
        resolve();
      }, flushMs);
      this.server.tryShutdown(() => {
        clearTimeout(force);
        resolve();
      });
    });
    await Promise.all([shutdown, held]);
    this.lifecycleImpl.transition('stopped');
    this.logger.info('ADS server stopped');
  }
}
