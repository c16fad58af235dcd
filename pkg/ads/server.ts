/**
 * The ADS gRPC server: envoy.service.discovery.v3.AggregatedDiscoveryService with both
 * StreamAggregatedResources (SotW) and DeltaAggregatedResources. Wiring only: the protocol engine
 * (engine.ts) serves the streams, grpc-transport.ts adapts grpc-js calls to it, and this file owns
 * the grpc-js server's bind, drain and shutdown. Exposes the lifecycle (starting → serving →
 * draining → stopped) for health checks.
 */
import * as grpc from '@grpc/grpc-js';
import { Registry } from 'prom-client';
import {
  ADS_SHUTDOWN_FLUSH_MS,
  DEFAULT_ADS_DRAIN_GRACE_MS,
  DEFAULT_ADS_MAX_STREAMS_PER_CONNECTION,
} from '../constants/index.js';
import type { StreamAuthorizer } from './authorizer.js';
import type { StreamLimits } from './limits.js';
import { TlsListener, type TlsMaterial } from './tls-listener.js';
import type { AdsStatusCode } from './transport.js';
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
  /** grpc-js server credentials (default insecure). Ignored with `tls`. */
  credentials?: grpc.ServerCredentials;
  /**
   * mTLS owned by the ADS port (tls-listener.ts): the client certificate is requested, kept per
   * connection and judged by `authorizer`. `material` may come later (setTlsMaterial): until then
   * handshakes fail.
   */
  tls?: { material?: TlsMaterial; handshakeTimeoutMs?: number };
  /** Admits and binds every stream (mesh identity); absent: any peer reads any node. */
  authorizer?: StreamAuthorizer;
  /** Per-stream bounds (defaults: pkg/constants). */
  limits?: Partial<StreamLimits>;
  /** Concurrent streams on one HTTP/2 connection (default DEFAULT_ADS_MAX_STREAMS_PER_CONNECTION). */
  maxStreamsPerConnection?: number;
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
  private readonly tls: TlsListener | undefined;
  private injector: grpc.ConnectionInjector | undefined;

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
      ...(options.authorizer ? { authorizer: options.authorizer } : {}),
      ...(options.limits ? { limits: options.limits } : {}),
    });
    envoyRoot(); // load protos now, not on the first request
    this.server = new grpc.Server({
      'grpc.keepalive_permit_without_calls': 1,
      'grpc.http2.min_ping_interval_without_data_ms': 10_000,
      'grpc.max_concurrent_streams':
        options.maxStreamsPerConnection ?? DEFAULT_ADS_MAX_STREAMS_PER_CONNECTION,
      ...options.grpcOptions,
    });
    if (options.tls) {
      this.tls = new TlsListener({
        logger: this.logger,
        onConnection: (socket) => this.injector?.injectConnection(socket),
        ...(options.tls.handshakeTimeoutMs !== undefined
          ? { handshakeTimeoutMs: options.tls.handshakeTimeoutMs }
          : {}),
      });
      if (options.tls.material) this.tls.setMaterial(options.tls.material);
      const tls = this.tls;
      registerAdsService(this.server, this.engine, (address) => {
        const p = tls.peer(address);
        if (!p) return undefined;
        return {
          ...(p.certificate ? { clientCertificate: p.certificate } : {}),
          ...(p.authorizationError ? { tlsAuthorizationError: p.authorizationError } : {}),
        };
      });
    } else {
      registerAdsService(this.server, this.engine);
    }
  }

  /** New serving certificate / trust bundle for new TLS handshakes (mesh CA rotation). */
  setTlsMaterial(material: TlsMaterial): void {
    if (!this.tls) throw new Error('ADS server was created without tls');
    this.tls.setMaterial(material);
  }

  /** Ends the open streams of a node (its pod is gone: revoked by deletion). */
  revoke(nodeId: string, code: AdsStatusCode, reason: string): number {
    return this.engine.revoke(nodeId, code, reason);
  }

  /** TLS handshakes that failed since start (0 without tls). */
  get failedHandshakes(): number {
    return this.tls?.failedHandshakes ?? 0;
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
    let port: number;
    if (this.tls) {
      // Our TLS listener accepts; grpc-js serves HTTP/2 on the decrypted connections.
      this.injector = this.server.createConnectionInjector(grpc.ServerCredentials.createInsecure());
      try {
        port = await this.tls.listen(listen.port, host);
      } catch (err) {
        throw new Error(
          `ADS server cannot listen on ${hostPart}:${listen.port}: ${err instanceof Error ? err.message : String(err)}`,
        );
      }
    } else {
      port = await new Promise<number>((resolve, reject) => {
        this.server.bindAsync(`${hostPart}:${listen.port}`, this.credentials, (err, p) =>
          err
            ? reject(new Error(`ADS server cannot listen on ${hostPart}:${listen.port}: ${err.message}`))
            : resolve(p),
        );
      });
    }
    this.boundPort = port;
    this.address = `${hostPart}:${port}`;
    this.lifecycleImpl.transition('serving');
    this.logger.info('ADS server serving', { address: this.address, mtls: this.tls !== undefined });
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
      this.injector?.destroy();
      this.server.forceShutdown();
      return;
    }
    this.lifecycleImpl.transition('draining');
    this.logger.info('ADS server draining', { streams: this.engine.openStreams.length, graceMs });
    const address = this.address;
    try {
      if (this.tls) {
        void this.tls.close();
        this.injector?.drain(graceMs + flushMs);
      } else {
        this.server.drain(address, graceMs + flushMs);
        this.server.unbind(address);
      }
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
    this.injector?.destroy();
    this.lifecycleImpl.transition('stopped');
    this.logger.info('ADS server stopped');
  }
}
