/**
 * A connection as Node's HTTP parser sees it, with a valve on the bytes it is given. Node parses
 * every request in a received chunk (up to 64 KiB) before any handler can react, and builds a
 * request and a response object for each, so a client pipelining hundreds of small requests makes
 * the server hold them all. Here the socket's bytes reach the parser one slice at a time, and none
 * while the valve is closed: pkg/binary/http-server.ts closes it while a pipelined request waits
 * behind the one being answered, so a connection costs at most one slice of parsed requests.
 *
 * A request's body is different: its bytes are no request heads, so once the head is parsed the
 * server grants the body's declared length (allowBody) and those bytes go to the parser in slices of
 * up to BODY_SLICE_BYTES. A 2 KB admission then reaches its handler in one or two reads instead of
 * four or more (each a turn of the event loop); a 3 MB one in 48 instead of 6000. What follows the
 * body is sliced small again, so pipelined heads behind it are held back as before (at most one
 * small slice more than the body, when the grant overlaps the slice that carried the head).
 *
 * Node documents that any Duplex may be handed to an HTTP server as a connection; the socket
 * methods the server calls (setTimeout, setNoDelay, setKeepAlive) and the address getters are
 * forwarded to the real socket.
 */
import type { Socket } from 'node:net';
import { Duplex } from 'node:stream';

/** Received bytes kept for the parser before the socket stops reading. */
const PENDING_HIGH_BYTES = 64 * 1024;
/** Largest slice of a granted body handed to the parser at once. */
const BODY_SLICE_BYTES = 64 * 1024;

export class GatedSocket extends Duplex {
  private readonly pending: Buffer[] = [];
  private pendingBytes = 0;
  private closedValve = false;
  private ended = false;
  /** The parser asked for bytes (_read) and has not been given any yet. */
  private wanted = false;
  /** Bytes of a request body still granted larger slices (allowBody). */
  private bodyBytes = 0;

  constructor(
    /** The TCP socket, or the TLS socket over it. */
    readonly raw: Socket,
    private readonly sliceBytes: number,
  ) {
    super({ allowHalfOpen: true, writableHighWaterMark: raw.writableHighWaterMark });
    raw.on('data', (chunk: Buffer) => {
      this.pending.push(chunk);
      this.pendingBytes += chunk.length;
      // Stop reading while the valve is closed or the parser is behind (pausing on every chunk
      // would cost a read stop/start per chunk on the hot path).
      if (this.closedValve || this.pendingBytes > PENDING_HIGH_BYTES) raw.pause();
      this.pump();
    });
    raw.on('end', () => {
      this.ended = true;
      this.pump();
    });
    raw.on('timeout', () => this.emit('timeout'));
    raw.on('error', (err) => this.destroy(err));
    raw.on('close', () => this.destroy());
  }

  /** Closes (true) or opens the valve. */
  hold(closed: boolean): void {
    this.closedValve = closed;
    if (closed) this.raw.pause();
    else this.pump();
  }

  /**
   * The next `bytes` bytes are a request body (its content-length, its head just parsed): they may
   * reach the parser in slices of up to BODY_SLICE_BYTES.
   */
  allowBody(bytes: number): void {
    this.bodyBytes = Number.isFinite(bytes) && bytes > 0 ? bytes : 0;
  }

  /** Hands the parser one slice, if it wants one and the valve is open. */
  private pump(): void {
    if (!this.wanted || this.closedValve || this.destroyed) return;
    const chunk = this.pending[0];
    if (!chunk) {
      if (this.ended) {
        this.wanted = false;
        this.push(null);
      } else if (this.raw.isPaused()) this.raw.resume();
      return;
    }
    const n = Math.min(Math.max(this.sliceBytes, Math.min(this.bodyBytes, BODY_SLICE_BYTES)), chunk.length);
    this.bodyBytes = Math.max(0, this.bodyBytes - n);
    if (n === chunk.length) this.pending.shift();
    else this.pending[0] = chunk.subarray(n);
    this.pendingBytes -= n;
    if (this.pendingBytes <= PENDING_HIGH_BYTES && this.raw.isPaused()) this.raw.resume();
    // One slice per _read: the parser has run on it (and a handler may have closed the valve)
    // before the next one is handed over.
    this.wanted = false;
    this.push(chunk.subarray(0, n));
  }

  override _read(): void {
    this.wanted = true;
    this.pump();
  }

  override _write(chunk: Buffer, encoding: BufferEncoding, callback: (err?: Error | null) => void): void {
    this.raw.write(chunk, encoding, callback);
  }

  override _writev(
    chunks: { chunk: Buffer; encoding: BufferEncoding }[],
    callback: (err?: Error | null) => void,
  ): void {
    this.raw.cork();
    chunks.forEach(({ chunk, encoding }, i) =>
      this.raw.write(chunk, encoding, i === chunks.length - 1 ? callback : undefined),
    );
    this.raw.uncork();
  }

  override _final(callback: (err?: Error | null) => void): void {
    this.raw.end(callback);
  }

  override _destroy(err: Error | null, callback: (err?: Error | null) => void): void {
    this.raw.destroy();
    callback(err);
  }

  setTimeout(ms: number, callback?: () => void): this {
    this.raw.setTimeout(ms);
    if (callback) this.once('timeout', callback);
    return this;
  }

  setNoDelay(noDelay?: boolean): this {
    this.raw.setNoDelay(noDelay);
    return this;
  }

  setKeepAlive(enable?: boolean, initialDelay?: number): this {
    this.raw.setKeepAlive(enable, initialDelay);
    return this;
  }

  get remoteAddress(): string | undefined {
    return this.raw.remoteAddress;
  }
  get remotePort(): number | undefined {
    return this.raw.remotePort;
  }
  get remoteFamily(): string | undefined {
    return this.raw.remoteFamily;
  }
  get localAddress(): string | undefined {
    return this.raw.localAddress;
  }
  get localPort(): number | undefined {
    return this.raw.localPort;
  }
  /** True over TLS (what Express's req.secure reads). */
  get encrypted(): boolean {
    return (this.raw as Socket & { encrypted?: boolean }).encrypted === true;
  }
  address(): ReturnType<Socket['address']> {
    return this.raw.address();
  }
}
