import { decodeKubeProtobuf } from '../../../../pkg/sandbox/apiserver/protobuf.js';
import { StatusError } from '../../../../pkg/sandbox/apiserver/status.js';

function varint(n: number): Buffer {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return Buffer.from(out);
}
const ld = (no: number, v: Buffer | string): Buffer => {
  const b = typeof v === 'string' ? Buffer.from(v) : v;
  return Buffer.concat([varint((no << 3) | 2), varint(b.length), b]);
};
const vi = (no: number, n: number): Buffer => Buffer.concat([varint(no << 3), varint(n)]);
const entry = (k: string, v: string): Buffer => Buffer.concat([ld(1, k), ld(2, v)]);
const envelope = (apiVersion: string, kind: string, raw: Buffer): Buffer =>
  Buffer.concat([
    Buffer.from('k8s\0', 'binary'),
    ld(1, Buffer.concat([ld(1, apiVersion), ld(2, kind)])),
    ld(2, raw),
  ]);

describe('decodeKubeProtobuf', () => {
  it('decodes a ConfigMap with metadata, maps and a pointer bool', () => {
    const meta = Buffer.concat([
      ld(1, 'cm'),
      ld(2, ''),
      ld(3, 'ns'),
      ld(11, entry('app', 'web')),
      ld(8, Buffer.alloc(0)),
    ]);
    const raw = Buffer.concat([
      ld(1, meta),
      ld(2, entry('a', 'b')),
      ld(3, entry('bin', '\x00\x01')),
      vi(4, 1),
    ]);
    expect(decodeKubeProtobuf(envelope('v1', 'ConfigMap', raw))).toEqual({
      kind: 'ConfigMap',
      apiVersion: 'v1',
      metadata: { name: 'cm', namespace: 'ns', labels: { app: 'web' } },
      data: { a: 'b' },
      binaryData: { bin: Buffer.from([0, 1]).toString('base64') },
      immutable: true,
    });
  });

  it('decodes a Namespace with finalizers and a creation time', () => {
    const meta = Buffer.concat([ld(1, 'n1'), ld(8, vi(1, 1_700_000_000))]);
    const raw = Buffer.concat([ld(1, meta), ld(2, ld(1, 'kubernetes'))]);
    expect(decodeKubeProtobuf(envelope('v1', 'Namespace', raw))).toEqual({
      kind: 'Namespace',
      apiVersion: 'v1',
      metadata: { name: 'n1', creationTimestamp: '2023-11-14T22:13:20Z' },
      spec: { finalizers: ['kubernetes'] },
    });
  });

  it.each([
    ['no magic', Buffer.from('{"kind":"Namespace"}'), /magic/],
    ['an unknown kind', envelope('apps/v1', 'Deployment', Buffer.alloc(0)), /kind "Deployment"/],
    ['an unknown field', envelope('v1', 'ConfigMap', ld(9, 'x')), /field ConfigMap#9 of ConfigMap/],
    [
      'an unknown nested field',
      envelope('v1', 'Secret', ld(1, ld(13, 'owner'))),
      /field Secret.metadata#13 of ObjectMeta/,
    ],
    [
      'a truncated body',
      Buffer.concat([Buffer.from('k8s\0', 'binary'), Buffer.from([0x0a, 0x50, 0x01])]),
      /malformed/,
    ],
  ])('refuses %s with 415', (_name, body, msg) => {
    let err: unknown;
    try {
      decodeKubeProtobuf(body);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(StatusError);
    expect((err as StatusError).code).toBe(415);
    expect((err as StatusError).message).toMatch(msg);
  });
});
