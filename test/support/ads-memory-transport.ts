/**
 * An AdsTransport (pkg/ads/transport.ts) in memory, for driving the ADS engine without ports.
 * It keeps the transport contract the way grpc-js does:
 * - requests arrive as protobuf bytes and are decoded with the same decoder the gRPC adapter
 *   registers; bytes that cannot be decoded end the stream with INTERNAL ("Error deserializing
 *   request: ...") and are reported as `gone`, never handed to the engine;
 * - a write is flushed (its `done` called) by the scheduler's next run, unless the reader is
 *   paused: then the writes stay unflushed until resume(), which is what backpressure looks like
 *   to the engine;
 * - after end()/fail() the transport reports `gone`, as grpc-js emits 'close'; a write after
 *   the end is a bug of the engine and throws.
 */
import { AdsStatus, type AdsStatusCode, type AdsTransport, type PeerInfo } from '../../pkg/ads/index.js';
import type { TransportClose, WriteDone } from '../../pkg/ads/index.js';
import type { ManualScheduler } from './ads-manual-scheduler.js';

export interface TransportStatus {
  code: AdsStatusCode;
  details: string;
}

export class MemoryTransport<Req> implements AdsTransport<Req> {
  /** Responses written and not yet taken by the reader, in order. */
  readonly written: Buffer[] = [];
  /** The final status, once end() or fail() was called. */
  status: TransportStatus | undefined;
  private requestHandler: ((req: Req) => void) | undefined;
  private closeHandlers: ((how: TransportClose) => void)[] = [];
  private paused = false;
  private unflushed: WriteDone[] = [];
  private goneReported = false;

  constructor(
    private readonly scheduler: ManualScheduler,
    private readonly decode: (bytes: Uint8Array) => Req,
    readonly peer: PeerInfo = { address: 'memory:1' },
  ) {}

  // ---- engine side (AdsTransport) ----

  onRequest(handler: (req: Req) => void): void {
    this.requestHandler = handler;
  }

  onClose(handler: (how: TransportClose) => void): void {
    this.closeHandlers.push(handler);
  }

  write(bytes: Buffer, done: WriteDone): void {
    if (this.status) throw new Error(`write after the stream ended (${this.status.code})`);
    this.written.push(bytes);
    if (this.paused) this.unflushed.push(done);
    else this.scheduler.soon(() => done());
  }

  end(): void {
    this.close({ code: AdsStatus.OK, details: '' });
  }

  fail(code: AdsStatusCode, details: string): void {
    this.close({ code, details });
  }

  // ---- peer side (the test's proxy) ----

  /** Delivers one encoded request, as grpc-js would after decoding it. */
  send(bytes: Uint8Array): void {
    if (this.status) throw new Error('send on an ended stream');
    let req: Req;
    try {
      req = this.decode(bytes);
    } catch (err) {
      this.close({
        code: AdsStatus.INTERNAL,
        details: `Error deserializing request: ${err instanceof Error ? err.message : String(err)}`,
      });
      return;
    }
    this.requestHandler?.(req);
  }

  /** The proxy ends its side of the stream. */
  halfClose(): void {
    for (const h of this.closeHandlers) h('half-closed');
  }

  /** The proxy cancels the stream (or its connection is lost). */
  cancel(): void {
    if (!this.status) this.status = { code: AdsStatus.CANCELLED, details: 'cancelled by the client' };
    this.reportGone();
  }

  /** Stops reading: writes stay unflushed (backpressure) until resume(). */
  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    for (const done of this.unflushed.splice(0)) this.scheduler.soon(() => done());
  }

  /** Writes handed over and not flushed (the reader is paused). */
  get unflushedWrites(): number {
    return this.unflushed.length;
  }

  private close(status: TransportStatus): void {
    if (this.status) return;
    this.status = status;
    // Unflushed writes fail, as they do when a gRPC call ends.
    for (const done of this.unflushed.splice(0)) this.scheduler.soon(() => done(new Error('stream ended')));
    this.scheduler.soon(() => this.reportGone());
  }

  private reportGone(): void {
    if (this.goneReported) return;
    this.goneReported = true;
    for (const h of this.closeHandlers) h('gone');
  }
}
