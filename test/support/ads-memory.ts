/**
 * The ADS engine in memory: a real SnapshotCache, AdsMetrics, Lifecycle and AdsEngine, with
 * MemoryTransport streams and a ManualScheduler. Requests are encoded and responses decoded with
 * the same protobuf code the real-gRPC raw client uses, so what a test sees is what a proxy would
 * see on the wire; only gRPC and the event loop are replaced. No ports, no polling: take() runs
 * the engine until it has nothing left to do, then returns what was written.
 */
import { Registry } from 'prom-client';
import { AdsMetrics, Lifecycle, SnapshotCache } from '../../pkg/ads/index.js';
import { decodeDeltaDiscoveryRequest, decodeDiscoveryRequest } from '../../pkg/ads/index.js';
import type { DeltaStream, SotwStream } from '../../pkg/ads/index.js';
import { AdsEngine } from '../../pkg/ads/index.js';
import type { PeerInfo, StreamAuthorizer, StreamLimits } from '../../pkg/ads/index.js';
import type { PlainMessage } from '../../pkg/envoy/index.js';
import { silentLogger, type Logger } from '../../pkg/logger/index.js';
import {
  decodeDeltaResponse,
  decodeSotwResponse,
  encodeDeltaRequest,
  encodeSotwRequest,
  type DeltaResponse,
  type SotwResponse,
} from './ads-client.js';
import { metricValue } from './ads-harness.js';
import { ManualScheduler } from './ads-manual-scheduler.js';
import { MemoryTransport, type TransportStatus } from './ads-memory-transport.js';

export interface MemoryAdsOptions {
  unknownNodeWaitMs?: number;
  maxInFlightPerStream?: number;
  writeBudgetBytes?: number;
  controlPlaneIdentifier?: string;
  logger?: Logger;
  authorizer?: StreamAuthorizer;
  limits?: Partial<StreamLimits>;
  now?: () => number;
}

/** One stream as its proxy sees it, plus the engine's side of it (`server`). */
export class MemoryStream<Resp, S> {
  private readonly received: Resp[] = [];

  constructor(
    readonly transport: MemoryTransport<any>,
    /** The engine's stream; undefined when the engine refused to open it. */
    readonly server: S | undefined,
    private readonly ads: MemoryAds,
    private readonly encode: (req: PlainMessage) => Buffer,
    private readonly decode: (bytes: Buffer) => Resp,
  ) {}

  send(req: PlainMessage): void {
    this.transport.send(this.encode(req));
  }

  /** Runs the engine until idle and returns every response not taken yet, in order. */
  takeAll(): Resp[] {
    this.ads.run();
    for (const b of this.transport.written.splice(0)) this.received.push(this.decode(b));
    return this.received.splice(0);
  }

  /** Runs the engine until idle and returns the next response; throws when there is none. */
  next(): Resp {
    this.ads.run();
    for (const b of this.transport.written.splice(0)) this.received.push(this.decode(b));
    const r = this.received.shift();
    if (!r) throw new Error('no response was written');
    return r;
  }

  /** Runs the engine until idle and returns the stream's final status (undefined while open). */
  status(): TransportStatus | undefined {
    this.ads.run();
    return this.transport.status;
  }
}

export type MemorySotw = MemoryStream<SotwResponse, SotwStream>;
export type MemoryDelta = MemoryStream<DeltaResponse, DeltaStream>;

export class MemoryAds {
  readonly cache = new SnapshotCache();
  readonly registry = new Registry();
  readonly metrics = new AdsMetrics(this.registry);
  readonly scheduler = new ManualScheduler();
  readonly lifecycle = new Lifecycle();
  readonly engine: AdsEngine;
  private peers = 0;

  constructor(options: MemoryAdsOptions = {}) {
    this.engine = new AdsEngine({
      cache: this.cache,
      metrics: this.metrics,
      logger: options.logger ?? silentLogger(),
      lifecycle: this.lifecycle,
      scheduler: this.scheduler,
      unknownNodeWaitMs: options.unknownNodeWaitMs,
      maxInFlightPerStream: options.maxInFlightPerStream,
      ...(options.writeBudgetBytes ? { writeBudgetBytes: options.writeBudgetBytes } : {}),
      controlPlaneIdentifier: options.controlPlaneIdentifier,
      ...(options.authorizer ? { authorizer: options.authorizer } : {}),
      ...(options.limits ? { limits: options.limits } : {}),
      ...(options.now ? { now: options.now } : {}),
    });
    this.lifecycle.transition('serving');
  }

  private peer(): PeerInfo {
    return { address: `memory:${++this.peers}` };
  }

  /** Opens a StreamAggregatedResources stream. */
  sotw(peer: PeerInfo = this.peer()): MemorySotw {
    const t = new MemoryTransport(this.scheduler, decodeDiscoveryRequest, peer);
    const server = this.engine.openSotw(t);
    return new MemoryStream(t, server, this, encodeSotwRequest, decodeSotwResponse);
  }

  /** Opens a DeltaAggregatedResources stream. */
  delta(peer: PeerInfo = this.peer()): MemoryDelta {
    const t = new MemoryTransport(this.scheduler, decodeDeltaDiscoveryRequest, peer);
    const server = this.engine.openDelta(t);
    return new MemoryStream(t, server, this, encodeDeltaRequest, decodeDeltaResponse);
  }

  /** Runs the engine until it has nothing left to do. */
  run(): void {
    this.scheduler.run();
  }

  /** Value of a counter/gauge with the given labels (0 when never set). */
  metric(name: string, labels: Record<string, string> = {}): Promise<number> {
    return metricValue(this.registry, name, labels);
  }
}
