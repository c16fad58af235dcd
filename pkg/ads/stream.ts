/**
 * What SotW and Delta streams share: the node taken from the first request (a stream without
 * node.id is closed with INVALID_ARGUMENT), the bounded wait for an unknown node, watching only
 * that node's snapshot, and the write loop. The write loop never queues more than `maxInFlight`
 * responses in gRPC; everything else is a per-type "owed" flag, and the response is built from the
 * newest snapshot when it is finally written, so a slow reader costs O(1) memory and coalesces
 * to the newest content without slowing other streams.
 */
import { status as GrpcStatus, type ServerDuplexStream } from '@grpc/grpc-js';
import type { Logger } from '../logger/index.js';
import { errorMessage } from '../logger/index.js';
import type { Snapshot, SnapshotCache } from './cache.js';
import type { AdsMetrics, AdsProtocol } from './metrics.js';
import type { NodeInfo } from './wire.js';
import { shortTypeName } from '../envoy/index.js';

export interface StreamContext {
  readonly cache: SnapshotCache;
  readonly metrics: AdsMetrics;
  readonly logger: Logger;
  /** How long a stream of an unknown node id waits for its snapshot before being closed. */
  readonly unknownNodeWaitMs: number;
  /** Pre-encoded control_plane field (protocol-specific field number) or empty. */
  readonly controlPlaneSotw: Buffer;
  readonly controlPlaneDelta: Buffer;
  /** Responses handed to gRPC and not yet flushed, per stream. */
  readonly maxInFlight: number;
  /** Called once when the stream ends, whatever the reason. */
  onClosed(stream: StreamHandle): void;
}

/** What the server keeps of each stream. */
export interface StreamHandle {
  readonly id: number;
  readonly nodeId: string | undefined;
  readonly protocol: AdsProtocol;
  readonly isClosed: boolean;
  readonly pendingWrites: number;
  readonly responsesSent: number;
  finish(code: GrpcStatus, details: string): void;
}

/** A response ready to be written. */
export interface OutgoingResponse {
  readonly typeUrl: string;
  readonly bytes: Buffer;
}

let streamCounter = 0;

export abstract class AdsStream<Req extends { node?: NodeInfo; type_url: string }> implements StreamHandle {
  readonly id = ++streamCounter;
  nodeId: string | undefined;
  node: NodeInfo | undefined;
  protected snapshot: Snapshot | undefined;
  protected readonly log: Logger;
  private unwatch: (() => void) | undefined;
  private waitTimer: NodeJS.Timeout | undefined;
  private inFlight = 0;
  private flushScheduled = false;
  /** A flush stopped at maxInFlight: the next write completion resumes it. */
  private held = false;
  private closed = false;
  private nonceCounter = 0;
  /** Responses written since the stream opened (debug/bench). */
  responsesSent = 0;

  constructor(
    protected readonly call: ServerDuplexStream<Req, Buffer>,
    protected readonly ctx: StreamContext,
    readonly protocol: AdsProtocol,
  ) {
    this.log = ctx.logger;
    ctx.metrics.connectedStreams.inc({ protocol });
    call.on('data', (req: Req) => this.receive(req));
    call.on('end', () => this.finish(GrpcStatus.OK, 'client closed the stream'));
    call.on('cancelled', () => this.cleanup());
    call.on('error', () => this.cleanup());
    call.on('close', () => this.cleanup());
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Responses handed to gRPC and not yet flushed to the connection. */
  get pendingWrites(): number {
    return this.inFlight;
  }

  /** Handles one request of the subclass' protocol (subscriptions, ACK/NACK). */
  protected abstract onRequest(req: Req): void;
  /** Called when this node's snapshot changes (or first appears). */
  protected abstract onSnapshot(): void;
  /** The next response owed, computed from the current state; undefined when nothing is owed. */
  protected abstract nextResponse(): OutgoingResponse | undefined;

  protected freshNonce(): string {
    return (++this.nonceCounter).toString(36);
  }

  private receive(req: Req): void {
    if (this.closed) return;
    try {
      if (this.nodeId === undefined) {
        const id = req.node?.id;
        if (!id) {
          this.finish(GrpcStatus.INVALID_ARGUMENT, 'the first discovery request must carry node.id');
          return;
        }
        this.attach(id, req.node!);
      }
      if (!req.type_url) {
        this.log.warn('discovery request without type_url ignored', { node: this.nodeId, stream: this.id });
        return;
      }
      this.onRequest(req);
      this.scheduleFlush();
    } catch (err) {
      this.log.error('discovery request failed', { node: this.nodeId, error: errorMessage(err) });
      this.finish(GrpcStatus.INTERNAL, `request handling failed: ${errorMessage(err)}`);
    }
  }

  private attach(nodeId: string, node: NodeInfo): void {
    this.nodeId = nodeId;
    this.node = node;
    this.snapshot = this.ctx.cache.getSnapshot(nodeId);
    this.unwatch = this.ctx.cache.watch(nodeId, (snap) => {
      if (this.closed) return;
      this.snapshot = snap;
      if (!snap) return; // cleared: the proxy keeps what it has, nothing is pushed
      this.stopWaiting();
      this.onSnapshot();
      this.scheduleFlush();
    });
    if (!this.snapshot) {
      this.log.debug('node has no snapshot yet, waiting', {
        node: nodeId,
        waitMs: this.ctx.unknownNodeWaitMs,
      });
      this.waitTimer = setTimeout(() => {
        this.waitTimer = undefined;
        if (this.snapshot) return;
        this.log.warn('no snapshot for node, closing its stream', { node: nodeId });
        this.finish(
          GrpcStatus.UNAVAILABLE,
          `no configuration for node ${nodeId} after ${this.ctx.unknownNodeWaitMs} ms`,
        );
      }, this.ctx.unknownNodeWaitMs);
      this.waitTimer.unref?.();
    }
  }

  private stopWaiting(): void {
    if (this.waitTimer) clearTimeout(this.waitTimer);
    this.waitTimer = undefined;
  }

  /** Coalesces every trigger of the current turn into one flush. */
  protected scheduleFlush(): void {
    if (this.flushScheduled || this.closed) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    if (this.closed || !this.snapshot) return;
    this.held = false;
    while (!this.closed) {
      if (this.inFlight >= this.ctx.maxInFlight) {
        this.held = true; // resumed by the next write completion
        return;
      }
      const out = this.nextResponse();
      if (!out) return;
      this.write(out);
    }
  }

  private write(out: OutgoingResponse): void {
    this.inFlight++;
    this.responsesSent++;
    const setAt = this.snapshot?.setAt;
    const type = shortTypeName(out.typeUrl);
    this.ctx.metrics.response(type, this.protocol);
    this.call.write(out.bytes, (err?: Error | null) => {
      this.inFlight--;
      if (err || this.closed) return;
      if (setAt !== undefined) {
        this.ctx.metrics.latency(type, Number(process.hrtime.bigint() - setAt) / 1e9);
      }
      if (this.held) this.scheduleFlush();
    });
  }

  /** Ends the stream with a gRPC status (OK → half-close from our side too). */
  finish(code: GrpcStatus, details: string): void {
    if (this.closed) return;
    this.cleanup();
    try {
      if (code === GrpcStatus.OK) {
        this.call.end();
      } else {
        this.call.emit('error', Object.assign(new Error(details), { code, details }));
      }
    } catch (err) {
      this.log.debug('closing stream failed', { node: this.nodeId, error: errorMessage(err) });
    }
  }

  private cleanup(): void {
    if (this.closed) return;
    this.closed = true;
    this.stopWaiting();
    this.unwatch?.();
    this.unwatch = undefined;
    this.ctx.metrics.connectedStreams.dec({ protocol: this.protocol });
    this.ctx.onClosed(this);
  }
}
