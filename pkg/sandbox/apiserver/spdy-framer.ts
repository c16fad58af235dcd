/**
 * A minimal SPDY/3.1 framer: what the server side of kubectl's port-forward needs (kubectl and
 * kubelet speak SPDY/3.1 through moby/spdystream; KEP-4006 tunnels the same bytes in WebSocket
 * messages). Frames: DATA and the control frames SYN_STREAM, SYN_REPLY, RST_STREAM, SETTINGS,
 * PING, GOAWAY, HEADERS, WINDOW_UPDATE. Header blocks are zlib-compressed with the SPDY/3
 * dictionary, one compression context per direction for the connection's lifetime, each block
 * ending with a sync flush. No flow control: spdystream neither sends nor honours WINDOW_UPDATE.
 * Why not spdy-transport: it enforces SPDY/3.1 flow control (a 64 KiB window that spdystream never
 * re-opens would stall a forward) and expects HTTP semantics in SYN_STREAM headers.
 */
import zlib from 'node:zlib';

export const SPDY_VERSION = 3;

export const FrameType = {
  SYN_STREAM: 1,
  SYN_REPLY: 2,
  RST_STREAM: 3,
  SETTINGS: 4,
  PING: 6,
  GOAWAY: 7,
  HEADERS: 8,
  WINDOW_UPDATE: 9,
} as const;

export const FLAG_FIN = 0x01;
export const FLAG_UNIDIRECTIONAL = 0x02;

/** RST_STREAM status codes. */
export const RstStatus = {
  PROTOCOL_ERROR: 1,
  INVALID_STREAM: 2,
  REFUSED_STREAM: 3,
  CANCEL: 5,
  INTERNAL_ERROR: 6,
} as const;

export type SpdyHeaders = Record<string, string[]>;

export type SpdyFrame =
  | { type: 'data'; streamId: number; fin: boolean; data: Buffer }
  | {
      type: 'syn_stream';
      streamId: number;
      associatedTo: number;
      priority: number;
      fin: boolean;
      unidirectional: boolean;
      headers: SpdyHeaders;
    }
  | { type: 'syn_reply'; streamId: number; fin: boolean; headers: SpdyHeaders }
  | { type: 'headers'; streamId: number; fin: boolean; headers: SpdyHeaders }
  | { type: 'rst_stream'; streamId: number; status: number }
  | { type: 'settings'; entries: { flags: number; id: number; value: number }[] }
  | { type: 'ping'; id: number }
  | { type: 'goaway'; lastGoodStreamId: number; status: number }
  | { type: 'window_update'; streamId: number; delta: number }
  | { type: 'unknown'; frameType: number };

/** One frame as it arrived, its header block still compressed. */
export interface RawFrame {
  control: boolean;
  /** Control frames: the type; data frames: the stream id. */
  typeOrStream: number;
  version: number;
  flags: number;
  payload: Buffer;
}

export class SpdyProtocolError extends Error {}

/** The largest payload a frame carries (24-bit length). */
export const MAX_FRAME_PAYLOAD = 0xffffff;

/** Splits whole frames off the front of `buf`; `rest` is an incomplete frame's start. */
export function splitFrames(buf: Buffer): { frames: RawFrame[]; rest: Buffer } {
  const frames: RawFrame[] = [];
  let off = 0;
  while (buf.length - off >= 8) {
    const w0 = buf.readUInt32BE(off);
    const w1 = buf.readUInt32BE(off + 4);
    const length = w1 & 0xffffff;
    if (buf.length - off - 8 < length) break;
    const control = (w0 & 0x80000000) !== 0;
    frames.push({
      control,
      typeOrStream: control ? w0 & 0xffff : w0 & 0x7fffffff,
      version: control ? (w0 >>> 16) & 0x7fff : SPDY_VERSION,
      flags: w1 >>> 24,
      payload: buf.subarray(off + 8, off + 8 + length),
    });
    off += 8 + length;
  }
  return { frames, rest: buf.subarray(off) };
}

/** Builds the SPDY/3 header dictionary (spec §2.6.10.1): length-prefixed names, then a literal tail. */
function dictionary(): Buffer {
  const words = [
    'options',
    'head',
    'post',
    'put',
    'delete',
    'trace',
    'accept',
    'accept-charset',
    'accept-encoding',
    'accept-language',
    'accept-ranges',
    'age',
    'allow',
    'authorization',
    'cache-control',
    'connection',
    'content-base',
    'content-encoding',
    'content-language',
    'content-length',
    'content-location',
    'content-md5',
    'content-range',
    'content-type',
    'date',
    'etag',
    'expect',
    'expires',
    'from',
    'host',
    'if-match',
    'if-modified-since',
    'if-none-match',
    'if-range',
    'if-unmodified-since',
    'last-modified',
    'location',
    'max-forwards',
    'pragma',
    'proxy-authenticate',
    'proxy-authorization',
    'range',
    'referer',
    'retry-after',
    'server',
    'te',
    'trailer',
    'transfer-encoding',
    'upgrade',
    'user-agent',
    'vary',
    'via',
    'warning',
    'www-authenticate',
    'method',
    'get',
    'status',
    '200 OK',
    'version',
    'HTTP/1.1',
    'url',
    'public',
    'set-cookie',
    'keep-alive',
    'origin',
  ];
  const tail =
    '100101201202205206300302303304305306307402405406407408409410411412413414415416417502504505' +
    '203 Non-Authoritative Information204 No Content301 Moved Permanently400 Bad Request401 Unauthorized' +
    '403 Forbidden404 Not Found500 Internal Server Error501 Not Implemented503 Service Unavailable' +
    'Jan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec 00:00:00 Mon, Tue, Wed, Thu, Fri, Sat, Sun, GMT' +
    'chunked,text/html,image/png,image/jpg,image/gif,application/xml,application/xhtml+xml,text/plain,' +
    'text/javascript,publicprivatemax-age=gzip,deflate,sdchcharset=utf-8charset=iso-8859-1,utf-,*,enq=0.';
  const parts: Buffer[] = [];
  for (const w of words) {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(w.length);
    parts.push(len, Buffer.from(w, 'latin1'));
  }
  parts.push(Buffer.from(tail, 'latin1'));
  return Buffer.concat(parts);
}

export const SPDY_DICTIONARY = dictionary();

/** Runs a zlib stream over one block with a sync flush; the output of that block. */
function flushThrough(z: zlib.Deflate | zlib.Inflate, input: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const onError = (e: Error): void => reject(new SpdyProtocolError(`header block: ${e.message}`));
    z.once('error', onError);
    z.write(input);
    z.flush(zlib.constants.Z_SYNC_FLUSH, () => {
      z.off('error', onError);
      const out: Buffer[] = [];
      for (let chunk: Buffer | null; (chunk = z.read() as Buffer | null) !== null;) out.push(chunk);
      resolve(Buffer.concat(out));
    });
  });
}

/** One direction's header compression context (the connection's lifetime). Calls must not overlap. */
export class HeaderCompressor {
  private readonly z = zlib.createDeflate({ dictionary: SPDY_DICTIONARY });
  compress(headers: SpdyHeaders): Promise<Buffer> {
    return flushThrough(this.z, encodeHeaderBlock(headers));
  }
  close(): void {
    this.z.close();
  }
}

export class HeaderDecompressor {
  private readonly z = zlib.createInflate({ dictionary: SPDY_DICTIONARY });
  async decompress(block: Buffer): Promise<SpdyHeaders> {
    return decodeHeaderBlock(await flushThrough(this.z, block));
  }
  close(): void {
    this.z.close();
  }
}

/** The uncompressed header block: count, then (name, value) with values joined by NUL. */
export function encodeHeaderBlock(headers: SpdyHeaders): Buffer {
  const entries = Object.entries(headers);
  const parts: Buffer[] = [u32(entries.length)];
  for (const [name, values] of entries) {
    const n = Buffer.from(name.toLowerCase(), 'utf8');
    const v = Buffer.from(values.join('\0'), 'utf8');
    parts.push(u32(n.length), n, u32(v.length), v);
  }
  return Buffer.concat(parts);
}

export function decodeHeaderBlock(buf: Buffer): SpdyHeaders {
  const out: SpdyHeaders = {};
  let off = 0;
  const need = (n: number): void => {
    if (off + n > buf.length) throw new SpdyProtocolError('header block is truncated');
  };
  need(4);
  const count = buf.readUInt32BE(off);
  off += 4;
  for (let i = 0; i < count; i++) {
    need(4);
    const nl = buf.readUInt32BE(off);
    off += 4;
    need(nl);
    const name = buf
      .subarray(off, off + nl)
      .toString('utf8')
      .toLowerCase();
    off += nl;
    need(4);
    const vl = buf.readUInt32BE(off);
    off += 4;
    need(vl);
    out[name] = [
      ...(out[name] ?? []),
      ...buf
        .subarray(off, off + vl)
        .toString('utf8')
        .split('\0'),
    ];
    off += vl;
  }
  return out;
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
}

/** Decodes a raw frame (a header block goes through the connection's decompressor, in order). */
export async function decodeFrame(f: RawFrame, headers: HeaderDecompressor): Promise<SpdyFrame> {
  const p = f.payload;
  const fin = (f.flags & FLAG_FIN) !== 0;
  const streamAt = (off: number): number => {
    if (p.length < off + 4) throw new SpdyProtocolError(`control frame ${f.typeOrStream} is too short`);
    return p.readUInt32BE(off) & 0x7fffffff;
  };
  if (!f.control) return { type: 'data', streamId: f.typeOrStream, fin, data: p };
  if (f.version !== SPDY_VERSION) throw new SpdyProtocolError(`unsupported SPDY version ${f.version}`);
  switch (f.typeOrStream) {
    case FrameType.SYN_STREAM: {
      if (p.length < 10) throw new SpdyProtocolError('SYN_STREAM is too short');
      return {
        type: 'syn_stream',
        streamId: streamAt(0),
        associatedTo: streamAt(4),
        priority: p[8]! >>> 5,
        fin,
        unidirectional: (f.flags & FLAG_UNIDIRECTIONAL) !== 0,
        headers: await headers.decompress(p.subarray(10)),
      };
    }
    case FrameType.SYN_REPLY:
      return {
        type: 'syn_reply',
        streamId: streamAt(0),
        fin,
        headers: await headers.decompress(p.subarray(4)),
      };
    case FrameType.HEADERS:
      return {
        type: 'headers',
        streamId: streamAt(0),
        fin,
        headers: await headers.decompress(p.subarray(4)),
      };
    case FrameType.RST_STREAM:
      return { type: 'rst_stream', streamId: streamAt(0), status: p.length >= 8 ? p.readUInt32BE(4) : 0 };
    case FrameType.SETTINGS: {
      const n = p.length >= 4 ? p.readUInt32BE(0) : 0;
      const entries: { flags: number; id: number; value: number }[] = [];
      for (let i = 0; i < n && 4 + i * 8 + 8 <= p.length; i++) {
        const w = p.readUInt32BE(4 + i * 8);
        entries.push({ flags: w >>> 24, id: w & 0xffffff, value: p.readUInt32BE(8 + i * 8) });
      }
      return { type: 'settings', entries };
    }
    case FrameType.PING:
      if (p.length < 4) throw new SpdyProtocolError('PING is too short');
      return { type: 'ping', id: p.readUInt32BE(0) };
    case FrameType.GOAWAY:
      return { type: 'goaway', lastGoodStreamId: streamAt(0), status: p.length >= 8 ? p.readUInt32BE(4) : 0 };
    case FrameType.WINDOW_UPDATE:
      return {
        type: 'window_update',
        streamId: streamAt(0),
        delta: p.length >= 8 ? p.readUInt32BE(4) & 0x7fffffff : 0,
      };
    default:
      return { type: 'unknown', frameType: f.typeOrStream };
  }
}

function controlFrame(type: number, flags: number, payload: Buffer): Buffer {
  if (payload.length > MAX_FRAME_PAYLOAD) throw new SpdyProtocolError('control frame too large');
  const head = Buffer.alloc(8);
  head.writeUInt32BE((0x80000000 | (SPDY_VERSION << 16) | type) >>> 0, 0);
  head.writeUInt32BE(((flags << 24) | payload.length) >>> 0, 4);
  return Buffer.concat([head, payload]);
}

/** DATA frames for `data` (split at the 24-bit length); FIN on the last when `fin`. */
export function encodeData(streamId: number, data: Buffer, fin = false): Buffer {
  const frames: Buffer[] = [];
  let off = 0;
  do {
    const chunk = data.subarray(off, off + MAX_FRAME_PAYLOAD);
    off += chunk.length;
    const last = off >= data.length;
    const head = Buffer.alloc(8);
    head.writeUInt32BE(streamId & 0x7fffffff, 0);
    head.writeUInt32BE((((last && fin ? FLAG_FIN : 0) << 24) | chunk.length) >>> 0, 4);
    frames.push(head, chunk);
  } while (off < data.length);
  return Buffer.concat(frames);
}

export async function encodeSynReply(
  streamId: number,
  headers: SpdyHeaders,
  fin: boolean,
  c: HeaderCompressor,
): Promise<Buffer> {
  return controlFrame(
    FrameType.SYN_REPLY,
    fin ? FLAG_FIN : 0,
    Buffer.concat([u32(streamId), await c.compress(headers)]),
  );
}

export async function encodeSynStream(
  streamId: number,
  headers: SpdyHeaders,
  fin: boolean,
  c: HeaderCompressor,
): Promise<Buffer> {
  const fixed = Buffer.alloc(10);
  fixed.writeUInt32BE(streamId, 0);
  return controlFrame(
    FrameType.SYN_STREAM,
    fin ? FLAG_FIN : 0,
    Buffer.concat([fixed, await c.compress(headers)]),
  );
}

export function encodeRstStream(streamId: number, status: number): Buffer {
  return controlFrame(FrameType.RST_STREAM, 0, Buffer.concat([u32(streamId), u32(status)]));
}

export function encodePing(id: number): Buffer {
  return controlFrame(FrameType.PING, 0, u32(id));
}

export function encodeGoAway(lastGoodStreamId: number, status = 0): Buffer {
  return controlFrame(FrameType.GOAWAY, 0, Buffer.concat([u32(lastGoodStreamId), u32(status)]));
}
