/**
 * What SotW and Delta streams share, on any transport (transport.ts):
 * - the node taken from the first request (a stream without node.id is closed with
 *   INVALID_ARGUMENT), the bounded wait for an unknown node, watching only that node's snapshot;
 * - one handling of every request: its type's state (subscription.ts), its kind (request-kind.ts),
 *   ACK / NACK bookkeeping, metrics and logs, then the protocol's subscription update;
 * - the push order (push-order.ts) and the write loop. The write loop never hands the transport
 *   more than `maxInFlight` unflushed responses; everything else is a per-type "owed" state, and a
 *   response is built from the newest snapshot when it is finally written, so a slow reader costs
 *   O(1) memory and coalesces to the newest content without slowing other streams.
 */
import type { Logger } from '../logger/index.js';
import { errorMessage } from '../logger/index.js';
import type { StreamAuthorizer } from './authorizer.js';
import type { StreamLimits } from './limits.js';
import { NackLogLimiter, truncateDetail, type NackLogPolicy } from './nack-log.js';
import { shortTypeName } from '../envoy/index.js';
import type { Snapshot, SnapshotCache } from './cache.js';
import { typeVersion } from './cache.js';
import type { AdsMetrics, AdsProtocol } from './metrics.js';
import { inPushOrder, nextInPushOrder, type PushSteps } from './push-order.js';
import { classifyRequest, type RequestKind } from './request-kind.js';
import type { Scheduler } from './scheduler.js';
import { Subscription } from './subscription.js';
import { AdsStatus, type AdsStatusCode, type AdsTransport, type PeerInfo } from './transport.js';
import type { WriteBudget } from './write-budget.js';
import type { NodeInfo } from './wire.js';

export interface StreamContext {
  readonly cache: SnapshotCache;
  readonly metrics: AdsMetrics;
  readonly logger: Logger;
  readonly scheduler: Scheduler;
  /** How long a stream of an unknown node id waits for its snapshot before being closed. */
  readonly unknownNodeWaitMs: number;
  /** Pre-encoded control_plane field (protocol-specific field number) or empty. */
  readonly controlPlaneSotw: Buffer;
  readonly controlPlaneDelta: Buffer;
  /** Responses handed to the transport and not yet flushed, per stream. */
  readonly maxInFlight: number;
  /** Response bytes handed to transports and not yet flushed, across every stream. */
  readonly writeBudget: WriteBudget;
  /** Binds each stream to its peer's identity before anything is sent (absent: every node is served). */
  readonly authorizer: StreamAuthorizer | undefined;
  readonly limits: StreamLimits;
  readonly nackLog: NackLogPolicy;
  readonly now: () => number;
  /** Called once when the stream ends, whatever the reason. */
  onClosed(stream: StreamHandle): void;
}

/** What the server keeps of each stream. */
export interface StreamHandle {
  readonly id: number;
  readonly nodeId: string | undefined;
  readonly protocol: AdsProtocol;
  readonly peer: PeerInfo;
  /** Who the authorizer said the stream is (undefined without an authorizer or before the first request). */
  readonly identity: string | undefined;
  readonly isClosed: boolean;
  readonly pendingWrites: number;
  readonly responsesSent: number;
  finish(code: AdsStatusCode, details: string): void;
}

/** A response ready to be written. */
export interface OutgoingResponse {
  readonly typeUrl: string;
  readonly bytes: Buffer;
}

/** The request fields the shared handling reads (DiscoveryRequest and DeltaDiscoveryRequest). */
export interface AdsRequest {
  node?: NodeInfo;
  type_url: string;
  response_nonce: string;
  /** SotW only: the version the client runs. */
  version_info?: string;
  error_detail?: { code: number; message: string };
}

/** Per type URL state of a stream: its subscription plus what the stream last sent of the type. */
export class TypeState extends Subscription {
  /** version_info (SotW) / system_version_info (Delta) and nonce of the latest response. */
  version: string | undefined = undefined;
  nonce: string | undefined = undefined;
  /** A response is owed whatever the diff (first request, subscription change). */
  forced = true;
  /** The version of the latest ACKed response. */
  ackedVersion: string | undefined = undefined;
  /** The latest NACK: the version it rejected and the client's message. */
  nacked: { version: string; message: string } | undefined = undefined;

  constructor(readonly typeUrl: string) {
    super();
  }
}

let streamCounter = 0;

export abstract class AdsStream<Req extends AdsRequest, St extends TypeState>
  implements StreamHandle, PushSteps<St, OutgoingResponse>
{
  readonly id = ++streamCounter;
  nodeId: string | undefined;
  node: NodeInfo | undefined;
  /** Per type URL state, in the order the stream first asked for each type. */
  readonly types = new Map<string, St>();
  protected snapshot: Snapshot | undefined;
  protected readonly log: Logger;
  private ordered: St[] | undefined;
  private unwatch: (() => void) | undefined;
  private cancelWait: (() => void) | undefined;
  private inFlight = 0;
  /** Bytes of the responses in flight (given back to the write budget when flushed or closed). */
  private inFlightBytes = 0;
  private flushScheduled = false;
  /** A flush stopped at maxInFlight: the next write completion resumes it. */
  private held = false;
  private closed = false;
  private nonceCounter = 0;
  /** Responses written since the stream opened (debug/bench). */
  responsesSent = 0;
  identity: string | undefined;
  private release: (() => void) | undefined;
  private readonly nackLimiter: NackLogLimiter;

  constructor(
    protected readonly transport: AdsTransport<Req>,
    protected readonly ctx: StreamContext,
    readonly protocol: AdsProtocol,
  ) {
    this.log = ctx.logger;
    this.nackLimiter = new NackLogLimiter(ctx.nackLog, ctx.now);
    ctx.metrics.connectedStreams.inc({ protocol });
    transport.onRequest((req) => this.receive(req));
    transport.onClose((how) => {
      if (how === 'half-closed') this.finish(AdsStatus.OK, 'client closed the stream');
      else this.cleanup();
    });
  }

  get peer(): PeerInfo {
    return this.transport.peer;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Responses handed to the transport and not yet flushed by it. */
  get pendingWrites(): number {
    return this.inFlight;
  }

  /** A new state for the first request of a type. */
  protected abstract newTypeState(req: Req): St;
  /** Applies the request's subscription fields (every kind of request, stale ones included). */
  protected abstract subscribe(st: St, req: Req, first: boolean): void;
  /** The addition/update response owed for a type (push-order.ts), built from this.snapshot. */
  abstract additionOf(st: St): OutgoingResponse | undefined;
  /** The removal response owed for a type (push-order.ts). */
  abstract removalOf(st: St): OutgoingResponse | undefined;
  /** Called when nothing is owed any more (after a full pass over every type). */
  protected caughtUp(_ordered: readonly St[]): void {}
  /**
   * The number of names `st` (undefined: a type not seen yet) would hold after `req`, counted
   * before the request is applied (an upper bound is fine): what the limits check.
   */
  protected abstract namesAfter(st: St | undefined, req: Req): number;

  private receive(req: Req): void {
    if (this.closed) return;
    try {
      if (this.nodeId === undefined) {
        const id = req.node?.id;
        if (!id) {
          this.finish(AdsStatus.INVALID_ARGUMENT, 'the first discovery request must carry node.id');
          return;
        }
        if (!this.authorized(req.node!)) return;
        this.attach(id, req.node!);
      }
      if (!req.type_url) {
        this.log.warn('discovery request without type_url ignored', { node: this.nodeId, stream: this.id });
        return;
      }
      this.handle(req);
      this.scheduleFlush();
    } catch (err) {
      this.log.error('discovery request failed', { node: this.nodeId, error: errorMessage(err) });
      this.finish(AdsStatus.INTERNAL, `request handling failed: ${errorMessage(err)}`);
    }
  }

  /** The authorizer's verdict on the first request; false (stream ended) when refused. */
  private authorized(node: NodeInfo): boolean {
    const auth = this.ctx.authorizer;
    if (!auth) return true;
    const peer = this.transport.peer;
    const v = auth.authorize(peer, node);
    if (!v.ok) {
      this.log.warn('ADS stream refused', {
        peer: peer.address,
        node: node.id,
        ...(v.presented !== undefined ? { presented: v.presented } : {}),
        status: v.code,
        reason: v.reason,
      });
      this.ctx.metrics.refused(v.code);
      this.finish(v.code, v.reason);
      return false;
    }
    this.identity = v.identity;
    this.release = v.release;
    this.log.debug('ADS stream authorized', { peer: peer.address, node: node.id, identity: v.identity });
    return true;
  }

  /** Ends the stream when `req` would take it past a limit; true when it did. */
  private overLimit(st: St | undefined, req: Req): boolean {
    const L = this.ctx.limits;
    let problem: string | undefined;
    if (!st && this.types.size >= L.maxTypesPerStream) {
      problem = `the stream asked for more than ${L.maxTypesPerStream} type URLs (${JSON.stringify(req.type_url.slice(0, 200))} is one too many)`;
    } else {
      const after = this.namesAfter(st, req);
      if (after > L.maxNamesPerSubscription) {
        problem = `subscription to ${after} names of ${shortTypeName(req.type_url).slice(0, 200)} is over the limit of ${L.maxNamesPerSubscription}`;
      } else {
        let total = after;
        for (const t of this.types.values()) if (t !== st) total += t.names.size;
        if (total > L.maxNamesPerStream) {
          problem = `the stream subscribed to ${total} names in all, over the limit of ${L.maxNamesPerStream}`;
        }
      }
    }
    if (problem === undefined) return false;
    this.log.warn('ADS stream over a limit: closed', { node: this.nodeId, identity: this.identity, problem });
    this.ctx.metrics.refused(AdsStatus.RESOURCE_EXHAUSTED);
    this.finish(AdsStatus.RESOURCE_EXHAUSTED, problem);
    return true;
  }

  /** One request of a type: its kind decides ACK / NACK bookkeeping; the subscription always applies. */
  private handle(req: Req): void {
    let st = this.types.get(req.type_url);
    const first = st === undefined;
    if (this.overLimit(st, req)) return;
    if (!st) {
      st = this.newTypeState(req);
      this.types.set(req.type_url, st);
      this.ordered = undefined;
    }
    const kind = classifyRequest(first, req.response_nonce, st.nonce, req.error_detail !== undefined);
    if (kind === 'ack' || kind === 'nack') this.answered(st, req, kind);
    this.subscribe(st, req, first);
  }

  private answered(st: St, req: Req, kind: Extract<RequestKind, 'ack' | 'nack'>): void {
    const type = shortTypeName(st.typeUrl);
    if (kind === 'nack') {
      // error_detail is the client's text: kept and logged cut, and logged at a bounded rate.
      const { text, cutBytes } = truncateDetail(req.error_detail!.message, this.ctx.nackLog.maxDetailBytes);
      st.nacked = { version: st.version ?? '', message: text };
      this.ctx.metrics.nack(type, this.protocol);
      const { log, suppressed } = this.nackLimiter.admit();
      if (log) {
        this.log.warn('NACK', {
          node: this.nodeId,
          type,
          version: st.version,
          nonce: req.response_nonce,
          error: text,
          ...(cutBytes > 0 ? { errorBytesCut: cutBytes } : {}),
          ...(suppressed > 0 ? { nacksNotLogged: suppressed } : {}),
        });
      }
    } else {
      st.ackedVersion = req.version_info ?? st.version;
      this.ctx.metrics.ack(type, this.protocol);
    }
  }

  /** Stamps a response of `st`: the type's current version and a fresh nonce, remembered as latest. */
  protected stamp(st: St): { version: string; nonce: string } {
    const version = typeVersion(this.snapshot, st.typeUrl);
    const nonce = (++this.nonceCounter).toString(36);
    st.version = version;
    st.nonce = nonce;
    st.forced = false;
    return { version, nonce };
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
      this.scheduleFlush();
    });
    if (!this.snapshot) {
      const waitMs = this.ctx.unknownNodeWaitMs;
      this.log.debug('node has no snapshot yet, waiting', { node: nodeId, waitMs });
      this.cancelWait = this.ctx.scheduler.after(waitMs, () => {
        this.cancelWait = undefined;
        if (this.snapshot) return;
        this.log.warn('no snapshot for node, closing its stream', { node: nodeId });
        this.finish(AdsStatus.UNAVAILABLE, `no configuration for node ${nodeId} after ${waitMs} ms`);
      });
    }
  }

  private stopWaiting(): void {
    this.cancelWait?.();
    this.cancelWait = undefined;
  }

  /** Coalesces every trigger of the current turn into one flush. */
  private scheduleFlush(): void {
    if (this.flushScheduled || this.closed) return;
    this.flushScheduled = true;
    this.ctx.scheduler.soon(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  /** Resumes a flush that waited for the engine's write budget. */
  private readonly resumeFromBudget = (): void => this.flush();

  private flush(): void {
    if (this.closed || !this.snapshot) return;
    this.held = false;
    while (!this.closed) {
      if (this.inFlight >= this.ctx.maxInFlight) {
        this.held = true; // resumed by the next write completion
        return;
      }
      if (!this.ctx.writeBudget.available()) {
        // Asked before a response is built, so a waiting stream holds no bytes. A stream with a
        // write in flight is resumed by its completion; only an idle one queues for its turn (and
        // leaves the line at once if it then has nothing to send).
        if (this.inFlight > 0) this.held = true;
        else this.ctx.writeBudget.wait(this.resumeFromBudget);
        return;
      }
      const out = this.nextResponse();
      if (!out) return;
      this.write(out);
    }
  }

  /** The next response owed, in push order; undefined when nothing is owed. */
  private nextResponse(): OutgoingResponse | undefined {
    if (!this.snapshot) return undefined;
    this.ordered ??= inPushOrder(this.types);
    const out = nextInPushOrder(this.ordered, this);
    if (out === undefined) this.caughtUp(this.ordered);
    return out;
  }

  private write(out: OutgoingResponse): void {
    this.inFlight++;
    this.responsesSent++;
    const size = out.bytes.length;
    this.inFlightBytes += size;
    this.ctx.writeBudget.take(size);
    const setAt = this.snapshot?.setAt;
    const type = shortTypeName(out.typeUrl);
    this.ctx.metrics.response(type, this.protocol);
    this.transport.write(out.bytes, (err?: Error | null) => {
      this.inFlight--;
      // A closed stream gave back all its bytes at cleanup: a late completion gives nothing twice.
      if (!this.closed) {
        this.inFlightBytes -= size;
        this.ctx.writeBudget.give(size);
      }
      if (err || this.closed) return;
      if (setAt !== undefined) {
        this.ctx.metrics.latency(type, Number(process.hrtime.bigint() - setAt) / 1e9);
      }
      if (this.held) this.scheduleFlush();
    });
  }

  /** Ends the stream with a status (OK → half-close from our side too). */
  finish(code: AdsStatusCode, details: string): void {
    if (this.closed) return;
    this.cleanup();
    try {
      if (code === AdsStatus.OK) this.transport.end();
      else this.transport.fail(code, details);
    } catch (err) {
      this.log.debug('closing stream failed', { node: this.nodeId, error: errorMessage(err) });
    }
  }

  private cleanup(): void {
    if (this.closed) return;
    this.closed = true;
    this.stopWaiting();
    // A closed transport may never report its unflushed writes: their bytes come back now.
    this.ctx.writeBudget.cancel(this.resumeFromBudget);
    const unflushed = this.inFlightBytes;
    this.inFlightBytes = 0;
    if (unflushed > 0) this.ctx.writeBudget.give(unflushed);
    const release = this.release;
    this.release = undefined;
    try {
      release?.();
    } catch (err) {
      this.log.error('stream release failed', { node: this.nodeId, error: errorMessage(err) });
    }
    this.unwatch?.();
    this.unwatch = undefined;
    this.ctx.metrics.connectedStreams.dec({ protocol: this.protocol });
    this.ctx.onClosed(this);
  }
}
