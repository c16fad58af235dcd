/**
 * The server side of a SPDY/3.1 connection (over a socket, or tunnelled in WebSocket messages):
 * the peer opens streams (SYN_STREAM), each is answered with SYN_REPLY and handed over as a Node
 * Duplex — its readable side the peer's DATA until FIN, its writable side DATA frames, end() a FIN.
 * PINGs are echoed (kubectl pings every 10 s through a tunnel), GOAWAY closes, RST_STREAM destroys
 * a stream. Frames leave in the order they were made: one queue per connection, as the header
 * compression context requires.
 */
import { EventEmitter } from 'node:events';
import { Duplex } from 'node:stream';
import {
  HeaderCompressor,
  HeaderDecompressor,
  RstStatus,
  decodeFrame,
  encodeData,
  encodeGoAway,
  encodePing,
  encodeRstStream,
  encodeSynReply,
  splitFrames,
  type SpdyFrame,
  type SpdyHeaders,
} from './spdy-framer.js';

/** One stream the peer opened. */
export class SpdyStream extends Duplex {
  constructor(
    readonly id: number,
    readonly headers: SpdyHeaders,
    private readonly conn: SpdyServerConnection,
  ) {
    super({ allowHalfOpen: true });
  }

  header(name: string): string | undefined {
    return this.headers[name.toLowerCase()]?.[0];
  }

  override _read(): void {
    // Data is pushed as frames arrive.
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.conn.send(() => encodeData(this.id, chunk), cb);
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.conn.send(() => encodeData(this.id, Buffer.alloc(0), true), cb);
  }

  /** RST_STREAM (CANCEL) and destroy. */
  reset(status: number = RstStatus.CANCEL): void {
    if (this.destroyed) return;
    this.conn.send(() => encodeRstStream(this.id, status));
    this.destroy();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.conn.forget(this.id);
    cb(err);
  }
}

export interface SpdyConnectionEvents {
  stream: [SpdyStream];
  close: [];
}

export class SpdyServerConnection extends EventEmitter<SpdyConnectionEvents> {
  private readonly streams = new Map<number, SpdyStream>();
  private readonly compressor = new HeaderCompressor();
  private readonly decompressor = new HeaderDecompressor();
  private outbox: Promise<void> = Promise.resolve();
  private inbox: Promise<void> = Promise.resolve();
  private pending = Buffer.alloc(0);
  private lastStreamId = 0;
  private closed = false;

  constructor(private readonly transport: Duplex) {
    super();
    transport.on('data', (chunk: Buffer) => this.receive(chunk));
    transport.on('close', () => this.shutdown());
    transport.on('end', () => this.shutdown());
    transport.on('error', () => this.shutdown());
  }

  /** Queues a frame (made when its turn comes, so header blocks compress in wire order). */
  send(make: () => Buffer | Promise<Buffer>, cb?: (err?: Error | null) => void): void {
    this.outbox = this.outbox
      .then(async () => {
        if (this.closed || this.transport.destroyed) {
          cb?.(new Error('the connection is closed'));
          return;
        }
        const frame = await make();
        await new Promise<void>((resolve) => {
          this.transport.write(frame, (err) => {
            cb?.(err ?? null);
            resolve();
          });
        });
      })
      .catch((e: unknown) => {
        cb?.(e as Error);
        this.close();
      });
  }

  forget(id: number): void {
    this.streams.delete(id);
  }

  /** GOAWAY, then the transport ends. */
  close(): void {
    if (this.closed) return;
    this.send(() => encodeGoAway(this.lastStreamId));
    this.outbox = this.outbox.then(() => {
      this.transport.end();
    });
    this.shutdown();
  }

  private shutdown(): void {
    if (this.closed) return;
    this.closed = true;
    for (const s of this.streams.values()) s.destroy();
    this.streams.clear();
    this.compressor.close();
    this.decompressor.close();
    this.emit('close');
  }

  private receive(chunk: Buffer): void {
    const { frames, rest } = splitFrames(Buffer.concat([this.pending, chunk]));
    this.pending = Buffer.from(rest);
    for (const raw of frames) {
      // Header blocks share one decompression context: frames are decoded strictly in order.
      this.inbox = this.inbox
        .then(async () => {
          if (!this.closed) this.handle(await decodeFrame(raw, this.decompressor));
        })
        .catch(() => this.close());
    }
  }

  private handle(f: SpdyFrame): void {
    switch (f.type) {
      case 'syn_stream': {
        if (f.streamId <= this.lastStreamId || f.streamId % 2 === 0) {
          this.send(() => encodeRstStream(f.streamId, RstStatus.PROTOCOL_ERROR));
          return;
        }
        this.lastStreamId = f.streamId;
        const s = new SpdyStream(f.streamId, f.headers, this);
        this.streams.set(f.streamId, s);
        this.send(() => encodeSynReply(f.streamId, {}, false, this.compressor));
        if (f.fin || f.unidirectional) s.push(null);
        this.emit('stream', s);
        return;
      }
      case 'data': {
        const s = this.streams.get(f.streamId);
        if (!s) return;
        if (f.data.length) s.push(Buffer.from(f.data));
        if (f.fin) s.push(null);
        return;
      }
      case 'headers':
        if (f.fin) this.streams.get(f.streamId)?.push(null);
        return;
      case 'rst_stream':
        this.streams.get(f.streamId)?.destroy();
        return;
      case 'ping':
        this.send(() => encodePing(f.id));
        return;
      case 'goaway':
        this.close();
        return;
      default:
        // SETTINGS, WINDOW_UPDATE (no flow control, as spdystream), unknown types: nothing to do.
        return;
    }
  }
}
