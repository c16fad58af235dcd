/**
 * The ADS protocol engine: opens SotW and Delta streams on transports (transport.ts), keeps the
 * set of open streams, refuses new ones unless the lifecycle is serving, and closes them all when
 * draining. It knows no gRPC: server.ts wires it to grpc-js through grpc-transport.ts, tests drive
 * it in memory.
 */
import {
  ADS_CONTROL_PLANE_IDENTIFIER,
  ADS_WRITE_BUDGET_BYTES,
  DEFAULT_ADS_UNKNOWN_NODE_WAIT_MS,
} from '../constants/index.js';
import type { Logger } from '../logger/index.js';
import type { StreamAuthorizer } from './authorizer.js';
import type { SnapshotCache } from './cache.js';
import { DeltaStream } from './delta-stream.js';
import type { LifecycleView } from './lifecycle.js';
import { streamLimits, type StreamLimits } from './limits.js';
import type { AdsMetrics } from './metrics.js';
import { DEFAULT_NACK_LOG_POLICY, type NackLogPolicy } from './nack-log.js';
import { eventLoopScheduler, type Scheduler } from './scheduler.js';
import { WriteBudget } from './write-budget.js';
import { SotwStream } from './sotw-stream.js';
import type { StreamContext, StreamHandle } from './stream.js';
import { AdsStatus, type AdsStatusCode, type AdsTransport } from './transport.js';
import { controlPlaneField, type DeltaDiscoveryRequestMsg, type DiscoveryRequestMsg } from './wire.js';

export interface AdsEngineOptions {
  readonly cache: SnapshotCache;
  readonly metrics: AdsMetrics;
  readonly logger: Logger;
  /** New streams are accepted only while this is 'serving'. */
  readonly lifecycle: LifecycleView;
  /** How long a stream of an unknown node id waits for a snapshot (default 60 s). */
  readonly unknownNodeWaitMs?: number;
  /** Responses per stream handed to the transport and not yet flushed (default 4). */
  readonly maxInFlightPerStream?: number;
  /**
   * Response bytes handed to transports and not yet flushed, all streams together (default
   * ADS_WRITE_BUDGET_BYTES): streams beyond it wait their turn before building a response.
   */
  readonly writeBudgetBytes?: number;
  /** DiscoveryResponse.control_plane.identifier (default fsm-controller; '' to omit). */
  readonly controlPlaneIdentifier?: string;
  /** Deferred work and timers (default: the event loop). */
  readonly scheduler?: Scheduler;
  /** Mesh identity: admits and binds every stream (absent: any peer may read any node). */
  readonly authorizer?: StreamAuthorizer;
  /** Names and types one stream may subscribe to (defaults: pkg/constants). */
  readonly limits?: Partial<StreamLimits>;
  readonly nackLog?: Partial<NackLogPolicy>;
  /** The clock of the NACK log limiter (default Date.now). */
  readonly now?: () => number;
}

export class AdsEngine {
  private readonly streams = new Set<StreamHandle>();
  private readonly ctx: StreamContext;
  private readonly lifecycle: LifecycleView;
  private readonly scheduler: Scheduler;
  private readonly authorizer: StreamAuthorizer | undefined;
  private readonly logger: Logger;
  /** Resolved when the last open stream closes (drain). */
  private idleWaiters: (() => void)[] = [];

  /** Unflushed response bytes of every stream together, and the streams waiting their turn. */
  readonly writeBudget: WriteBudget;

  constructor(options: AdsEngineOptions) {
    this.lifecycle = options.lifecycle;
    this.writeBudget = new WriteBudget(options.writeBudgetBytes ?? ADS_WRITE_BUDGET_BYTES);
    options.metrics.observeWriteBudget(this.writeBudget);
    this.scheduler = options.scheduler ?? eventLoopScheduler;
    this.authorizer = options.authorizer;
    this.logger = options.logger;
    const id = options.controlPlaneIdentifier ?? ADS_CONTROL_PLANE_IDENTIFIER;
    this.ctx = {
      cache: options.cache,
      metrics: options.metrics,
      logger: options.logger,
      scheduler: this.scheduler,
      unknownNodeWaitMs: options.unknownNodeWaitMs ?? DEFAULT_ADS_UNKNOWN_NODE_WAIT_MS,
      controlPlaneSotw: controlPlaneField(6, id),
      controlPlaneDelta: controlPlaneField(7, id),
      maxInFlight: Math.max(1, options.maxInFlightPerStream ?? 4),
      writeBudget: this.writeBudget,
      authorizer: options.authorizer,
      limits: streamLimits(options.limits),
      nackLog: { ...DEFAULT_NACK_LOG_POLICY, ...options.nackLog },
      now: options.now ?? Date.now,
      onClosed: (s) => this.closed(s),
    };
  }

  /** Open streams, e.g. for debug endpoints and tests. */
  get openStreams(): readonly StreamHandle[] {
    return [...this.streams];
  }

  /** Streams open for one node id. */
  streamsOf(nodeId: string): StreamHandle[] {
    return [...this.streams].filter((s) => s.nodeId === nodeId);
  }

  /** A StreamAggregatedResources stream on `transport`; undefined when refused (not serving). */
  openSotw(transport: AdsTransport<DiscoveryRequestMsg>): SotwStream | undefined {
    if (!this.accepting(transport)) return undefined;
    return this.track(new SotwStream(transport, this.ctx, 'sotw'));
  }

  /** A DeltaAggregatedResources stream on `transport`; undefined when refused (not serving). */
  openDelta(transport: AdsTransport<DeltaDiscoveryRequestMsg>): DeltaStream | undefined {
    if (!this.accepting(transport)) return undefined;
    return this.track(new DeltaStream(transport, this.ctx, 'delta'));
  }

  /**
   * Waits up to `graceMs` for the open streams to end by themselves (proxies reconnect elsewhere
   * on GOAWAY), then closes the rest with UNAVAILABLE.
   */
  async closeAll(graceMs: number): Promise<void> {
    if (this.streams.size > 0 && graceMs > 0) {
      await new Promise<void>((resolve) => {
        const cancel = this.scheduler.after(graceMs, resolve);
        this.idleWaiters.push(() => {
          cancel();
          resolve();
        });
      });
    }
    for (const s of [...this.streams]) s.finish(AdsStatus.UNAVAILABLE, 'ADS server is shutting down');
  }

  /**
   * Ends every open stream of `nodeId` with `code` (e.g. PERMISSION_DENIED when its pod is gone:
   * revoked by deletion). Returns how many were ended.
   */
  revoke(nodeId: string, code: AdsStatusCode, reason: string): number {
    const streams = this.streamsOf(nodeId);
    for (const s of streams) {
      this.logger.warn('ADS stream revoked', {
        node: nodeId,
        identity: s.identity,
        peer: s.peer.address,
        reason,
      });
      s.finish(code, reason);
    }
    return streams.length;
  }

  /** Serving, and the authorizer admits the peer (a peer it can never authorize is refused at once). */
  private accepting(transport: AdsTransport<unknown>): boolean {
    if (this.lifecycle.state !== 'serving') {
      transport.fail(AdsStatus.UNAVAILABLE, 'ADS server is draining');
      return false;
    }
    if (!this.authorizer) return true;
    const peer = transport.peer;
    const v = this.authorizer.admit(peer);
    if (v.ok) return true;
    this.logger.warn('ADS stream refused', {
      peer: peer.address,
      ...(v.presented !== undefined ? { presented: v.presented } : {}),
      status: v.code,
      reason: v.reason,
    });
    this.ctx.metrics.refused(v.code);
    transport.fail(v.code, v.reason);
    return false;
  }

  private track<S extends StreamHandle>(stream: S): S {
    this.streams.add(stream);
    return stream;
  }

  private closed(stream: StreamHandle): void {
    this.streams.delete(stream);
    if (this.streams.size === 0 && this.idleWaiters.length > 0) {
      for (const w of this.idleWaiters.splice(0)) w();
    }
  }
}
