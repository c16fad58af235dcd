/**
 * The ADS gRPC server: envoy.service.discovery.v3.AggregatedDiscoveryService with both
 * StreamAggregatedResources (SotW) and DeltaAggregatedResources. Requests are decoded with the
 * shared proto root; responses are pre-built Buffers (see wire.ts), so gRPC's serializer is the
 * identity. Exposes the lifecycle (starting → serving → draining → stopped) for health checks.
 */
import * as grpc from '@grpc/grpc-js';
import { Registry } from 'prom-client';
import {
  ADS_CONTROL_PLANE_IDENTIFIER,
  ADS_DELTA_METHOD_PATH,
  ADS_SOTW_METHOD_PATH,
  DEFAULT_ADS_DRAIN_GRACE_MS,
  DEFAULT_ADS_UNKNOWN_NODE_WAIT_MS,
} from '../constants/index.js';
import { silentLogger, type Logger } from '../logger/index.js';
import { envoyRoot } from '../envoy/index.js';
import { SnapshotCache } from './cache.js';
import { DeltaStream } from './delta-stream.js';
import { Lifecycle, type LifecycleView } from './lifecycle.js';
import { AdsMetrics } from './metrics.js';
import { SotwStream } from './sotw-stream.js';
import type { StreamContext, StreamHandle } from './stream.js';
import {
  controlPlaneField,
  decodeDeltaDiscoveryRequest,
  decodeDiscoveryRequest,
  type DeltaDiscoveryRequestMsg,
  type DiscoveryRequestMsg,
} from './wire.js';

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

export interface AdsListenOptions {
  /** 0 picks a free port (tests). */
  port: number;
  /** Default 0.0.0.0. */
  host?: string;
}

const identity = (b: Buffer): Buffer => b;

export class AdsServer {
  readonly cache: SnapshotCache;
  readonly metrics: AdsMetrics;
  readonly registry: Registry;
  private readonly lifecycleImpl = new Lifecycle();
  private readonly logger: Logger;
  private readonly server: grpc.Server;
  private readonly streams = new Set<StreamHandle>();
  private readonly ctx: StreamContext;
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
    const id = options.controlPlaneIdentifier ?? ADS_CONTROL_PLANE_IDENTIFIER;
    this.ctx = {
      cache: this.cache,
      metrics: this.metrics,
      logger: this.logger,
      unknownNodeWaitMs: options.unknownNodeWaitMs ?? DEFAULT_ADS_UNKNOWN_NODE_WAIT_MS,
      controlPlaneSotw: controlPlaneField(6, id),
      controlPlaneDelta: controlPlaneField(7, id),
      maxInFlight: Math.max(1, options.maxInFlightPerStream ?? 4),
      onClosed: (s) => this.streams.delete(s),
    };
    envoyRoot(); // load protos now, not on the first request
    this.server = new grpc.Server({
      'grpc.keepalive_permit_without_calls': 1,
      'grpc.http2.min_ping_interval_without_data_ms': 10_000,
      ...options.grpcOptions,
    });
    this.server.register<DiscoveryRequestMsg, Buffer>(
      ADS_SOTW_METHOD_PATH,
      (call: grpc.ServerDuplexStream<DiscoveryRequestMsg, Buffer>) => this.accept(call, 'sotw'),
      identity,
      decodeDiscoveryRequest,
      'bidi',
    );
    this.server.register<DeltaDiscoveryRequestMsg, Buffer>(
      ADS_DELTA_METHOD_PATH,
      (call: grpc.ServerDuplexStream<DeltaDiscoveryRequestMsg, Buffer>) => this.accept(call, 'delta'),
      identity,
      decodeDeltaDiscoveryRequest,
      'bidi',
    );
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
    return [...this.streams];
  }

  /** Streams open for one node id. */
  streamsOf(nodeId: string): StreamHandle[] {
    return [...this.streams].filter((s) => s.nodeId === nodeId);
  }

  private accept(call: grpc.ServerDuplexStream<unknown, Buffer>, protocol: 'sotw' | 'delta'): void {
    if (this.lifecycleImpl.state !== 'serving') {
      call.emit('error', { code: grpc.status.UNAVAILABLE, details: 'ADS server is draining' });
      return;
    }
    const stream =
      protocol === 'sotw'
        ? new SotwStream(call as grpc.ServerDuplexStream<DiscoveryRequestMsg, Buffer>, this.ctx, 'sotw')
        : new DeltaStream(
            call as grpc.ServerDuplexStream<DeltaDiscoveryRequestMsg, Buffer>,
            this.ctx,
            'delta',
          );
    this.streams.add(stream);
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
   * streams are closed with UNAVAILABLE after `graceMs` (proxies reconnect to another replica),
   * then stopped. Idempotent.
   */
  stop(graceMs: number = DEFAULT_ADS_DRAIN_GRACE_MS): Promise<void> {
    this.stopping ??= this.doStop(graceMs);
    return this.stopping;
  }

  private async doStop(graceMs: number): Promise<void> {
    if (this.lifecycleImpl.state === 'starting' || !this.address) {
      this.lifecycleImpl.transition('stopped');
      this.server.forceShutdown();
      return;
    }
    this.lifecycleImpl.transition('draining');
    this.logger.info('ADS server draining', { streams: this.streams.size, graceMs });
    const address = this.address;
    try {
      this.server.drain(address, graceMs + 1000);
      this.server.unbind(address);
    } catch (err) {
      this.logger.debug('drain/unbind failed', { error: String(err) });
    }
    if (this.streams.size > 0 && graceMs > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, graceMs);
        const poll = setInterval(() => {
          if (this.streams.size === 0) {
            clearTimeout(timer);
            clearInterval(poll);
            resolve();
          }
        }, 20);
        timer.unref?.();
        setTimeout(() => clearInterval(poll), graceMs).unref?.();
      });
    }
    for (const s of [...this.streams]) s.finish(grpc.status.UNAVAILABLE, 'ADS server is shutting down');
    await new Promise<void>((resolve) => {
      const force = setTimeout(() => {
        this.server.forceShutdown();
        resolve();
      }, 1000);
      this.server.tryShutdown(() => {
        clearTimeout(force);
        resolve();
      });
    });
    this.lifecycleImpl.transition('stopped');
    this.logger.info('ADS server stopped');
  }
}
