/**
 * The SPDY/3.1 framer against frames captured from the real kubectl (a port-forward whose upstream
 * port refuses: test/fixtures/spdy/*.hex, the bytes kubectl sent after the 101, captured once from
 * the API server's upgraded socket), and as encode/decode tables; the server connection in memory.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { duplexPair } from 'node:stream';
import {
  HeaderCompressor,
  HeaderDecompressor,
  SPDY_DICTIONARY,
  decodeFrame,
  decodeHeaderBlock,
  encodeData,
  encodeGoAway,
  encodeHeaderBlock,
  encodePing,
  encodeRstStream,
  encodeSynReply,
  encodeSynStream,
  splitFrames,
  type SpdyFrame,
} from '../../../../pkg/sandbox/apiserver/spdy-framer.js';
import { SpdyServerConnection, type SpdyStream } from '../../../../pkg/sandbox/apiserver/spdy-connection.js';

const fixture = (name: string): Buffer =>
  Buffer.from(
    readFileSync(join(import.meta.dirname, '..', '..', '..', 'fixtures', 'spdy', name), 'utf8').trim(),
    'hex',
  );

async function decodeAll(buf: Buffer): Promise<SpdyFrame[]> {
  const { frames, rest } = splitFrames(buf);
  expect(rest).toHaveLength(0);
  const d = new HeaderDecompressor();
  const out: SpdyFrame[] = [];
  for (const f of frames) out.push(await decodeFrame(f, d));
  d.close();
  return out;
}

const request = Buffer.from(
  'GET / HTTP/1.1\r\nHost: localhost:15901\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n',
);
const streamHeaders = (type: string) => ({ streamtype: [type], port: ['15901'], requestid: ['0'] });

describe('frames captured from kubectl', () => {
  it('1.32: error stream (closed at once), data stream, the request, RST_STREAM CANCEL, GOAWAY', async () => {
    expect(await decodeAll(fixture('kubectl-1.32-refused.hex'))).toEqual([
      {
        type: 'syn_stream',
        streamId: 1,
        associatedTo: 0,
        priority: 0,
        fin: false,
        unidirectional: false,
        headers: streamHeaders('error'),
      },
      { type: 'data', streamId: 1, fin: true, data: Buffer.alloc(0) },
      {
        type: 'syn_stream',
        streamId: 3,
        associatedTo: 0,
        priority: 0,
        fin: false,
        unidirectional: false,
        headers: streamHeaders('data'),
      },
      { type: 'data', streamId: 3, fin: false, data: request },
      { type: 'rst_stream', streamId: 3, status: 5 },
      { type: 'goaway', lastGoodStreamId: 0, status: 0 },
    ]);
  });

  it('1.20: the same streams; the data stream ends with FIN and the connection stays', async () => {
    const frames = await decodeAll(fixture('kubectl-1.20-refused.hex'));
    expect(frames.map((f) => f.type)).toEqual(['syn_stream', 'data', 'syn_stream', 'data', 'data']);
    expect(frames[4]).toEqual({ type: 'data', streamId: 3, fin: true, data: Buffer.alloc(0) });
  });
});

describe('encoding', () => {
  it('the dictionary is the SPDY/3 one (1423 bytes; kubectl header blocks inflate with it)', () => {
    expect(SPDY_DICTIONARY).toHaveLength(1423);
  });

  it('header blocks round-trip, names lower-cased, multiple values NUL-joined', () => {
    const block = encodeHeaderBlock({ StreamType: ['data'], x: ['a', 'b'] });
    expect(decodeHeaderBlock(block)).toEqual({ streamtype: ['data'], x: ['a', 'b'] });
    expect(() => decodeHeaderBlock(block.subarray(0, block.length - 1))).toThrow('truncated');
  });

  it('compressed header blocks round-trip through one context per direction, in order', async () => {
    const c = new HeaderCompressor();
    const d = new HeaderDecompressor();
    for (const id of [1, 3, 5]) {
      const { frames } = splitFrames(
        await encodeSynStream(id, streamHeaders(id === 1 ? 'error' : 'data'), false, c),
      );
      expect(await decodeFrame(frames[0]!, d)).toMatchObject({
        type: 'syn_stream',
        streamId: id,
        headers: { port: ['15901'] },
      });
    }
    const { frames } = splitFrames(await encodeSynReply(7, {}, false, c));
    expect(await decodeFrame(frames[0]!, d)).toEqual({
      type: 'syn_reply',
      streamId: 7,
      fin: false,
      headers: {},
    });
    c.close();
    d.close();
  });

  it.each([
    ['ping', encodePing(3), { type: 'ping', id: 3 }],
    ['rst', encodeRstStream(5, 5), { type: 'rst_stream', streamId: 5, status: 5 }],
    ['goaway', encodeGoAway(9), { type: 'goaway', lastGoodStreamId: 9, status: 0 }],
    [
      'data fin',
      encodeData(3, Buffer.from('x'), true),
      { type: 'data', streamId: 3, fin: true, data: Buffer.from('x') },
    ],
  ])('%s', async (_name, bytes, frame) => {
    const { frames } = splitFrames(bytes);
    expect(await decodeFrame(frames[0]!, new HeaderDecompressor())).toEqual(frame);
  });

  it('splitFrames keeps an incomplete frame for later', () => {
    const two = Buffer.concat([encodePing(1), encodePing(3)]);
    const { frames, rest } = splitFrames(two.subarray(0, 15));
    expect(frames).toHaveLength(1);
    expect(rest).toHaveLength(3);
  });
});

describe('the server connection (in memory)', () => {
  it('answers SYN_STREAM with SYN_REPLY, hands the stream over, carries DATA both ways, echoes PING', async () => {
    const [client, server] = duplexPair();
    const conn = new SpdyServerConnection(server);
    const got: SpdyStream[] = [];
    conn.on('stream', (s) => {
      got.push(s);
      s.on('data', (d: Buffer) => s.write(Buffer.concat([Buffer.from('echo:'), d])));
    });
    const c = new HeaderCompressor();
    const d = new HeaderDecompressor();
    const received: Buffer[] = [];
    client.on('data', (b: Buffer) => received.push(b));
    client.write(await encodeSynStream(1, streamHeaders('data'), false, c));
    client.write(encodeData(1, Buffer.from('hi')));
    client.write(encodePing(1));
    const count = (): number => splitFrames(Buffer.concat(received)).frames.length;
    for (let i = 0; i < 100 && count() < 3; i++) await new Promise((r) => setTimeout(r, 10));
    const frames = async (): Promise<SpdyFrame[]> => {
      const out: SpdyFrame[] = [];
      for (const f of splitFrames(Buffer.concat(received)).frames) out.push(await decodeFrame(f, d));
      return out;
    };
    expect(got[0]!.header('streamtype')).toBe('data');
    const all = await frames();
    // SYN_REPLY first; the echoed PING and the stream's DATA in whichever order they were made.
    expect(all[0]).toEqual({ type: 'syn_reply', streamId: 1, fin: false, headers: {} });
    expect(all.slice(1)).toHaveLength(2);
    expect(all.slice(1)).toEqual(
      expect.arrayContaining([
        { type: 'data', streamId: 1, fin: false, data: Buffer.from('echo:hi') },
        { type: 'ping', id: 1 },
      ]),
    );
    conn.close();
    c.close();
  });
});
