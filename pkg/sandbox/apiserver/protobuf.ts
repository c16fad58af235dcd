/**
 * Decoding of the Kubernetes protobuf envelope (`k8s\0` + runtime.Unknown) for the few kinds kubectl's
 * typed commands create with a protobuf body (create namespace / configmap / secret /
 * serviceaccount). Responses stay JSON (kubectl accepts both). A field this decoder does not know
 * is refused with 415 naming it: data is never dropped silently.
 */
import { StatusError, unsupportedMediaType } from './status.js';

type O = Record<string, unknown>;

export const PROTOBUF_CONTENT_TYPE = 'application/vnd.kubernetes.protobuf';
const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

interface WireField {
  no: number;
  wire: number;
  /** varint value (wire 0) */
  num?: bigint;
  /** length-delimited bytes (wire 2) */
  bytes?: Buffer;
}

class Reader {
  private pos = 0;
  constructor(private readonly buf: Buffer) {}

  done(): boolean {
    return this.pos >= this.buf.length;
  }

  varint(): bigint {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (this.pos >= this.buf.length) throw new Error('truncated varint');
      const b = this.buf[this.pos++]!;
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
      if (shift > 70n) throw new Error('varint too long');
    }
  }

  field(): WireField {
    const tag = Number(this.varint());
    const no = tag >>> 3;
    const wire = tag & 7;
    switch (wire) {
      case 0:
        return { no, wire, num: this.varint() };
      case 2: {
        const len = Number(this.varint());
        if (this.pos + len > this.buf.length) throw new Error('truncated field');
        const bytes = this.buf.subarray(this.pos, this.pos + len);
        this.pos += len;
        return { no, wire, bytes };
      }
      case 1:
        this.pos += 8;
        return { no, wire };
      case 5:
        this.pos += 4;
        return { no, wire };
      default:
        throw new Error(`unsupported wire type ${wire}`);
    }
  }
}

function fields(buf: Buffer): WireField[] {
  const r = new Reader(buf);
  const out: WireField[] = [];
  while (!r.done()) out.push(r.field());
  return out;
}

type FieldType =
  | 'string'
  | 'bytes'
  | 'int64'
  | 'bool'
  | 'time'
  | 'strings'
  | 'map'
  | 'bytesMap'
  | { message: string }
  | { messages: string };

type Schema = Record<number, [string, FieldType]>;

const SCHEMAS: Record<string, Schema> = {
  ObjectMeta: {
    1: ['name', 'string'],
    2: ['generateName', 'string'],
    3: ['namespace', 'string'],
    4: ['selfLink', 'string'],
    5: ['uid', 'string'],
    6: ['resourceVersion', 'string'],
    7: ['generation', 'int64'],
    8: ['creationTimestamp', 'time'],
    9: ['deletionTimestamp', 'time'],
    10: ['deletionGracePeriodSeconds', 'int64'],
    11: ['labels', 'map'],
    12: ['annotations', 'map'],
    14: ['finalizers', 'strings'],
  },
  Namespace: {
    1: ['metadata', { message: 'ObjectMeta' }],
    2: ['spec', { message: 'NamespaceSpec' }],
    3: ['status', { message: 'NamespaceStatus' }],
  },
  NamespaceSpec: { 1: ['finalizers', 'strings'] },
  NamespaceStatus: { 1: ['phase', 'string'] },
  ConfigMap: {
    1: ['metadata', { message: 'ObjectMeta' }],
    2: ['data', 'map'],
    3: ['binaryData', 'bytesMap'],
    4: ['immutable', 'bool'],
  },
  Secret: {
    1: ['metadata', { message: 'ObjectMeta' }],
    2: ['data', 'bytesMap'],
    3: ['type', 'string'],
    4: ['stringData', 'map'],
    5: ['immutable', 'bool'],
  },
  ServiceAccount: {
    1: ['metadata', { message: 'ObjectMeta' }],
    2: ['secrets', { messages: 'ObjectReference' }],
    3: ['imagePullSecrets', { messages: 'LocalObjectReference' }],
    4: ['automountServiceAccountToken', 'bool'],
  },
  ObjectReference: {
    1: ['kind', 'string'],
    2: ['namespace', 'string'],
    3: ['name', 'string'],
    4: ['uid', 'string'],
    5: ['apiVersion', 'string'],
    6: ['resourceVersion', 'string'],
    7: ['fieldPath', 'string'],
  },
  LocalObjectReference: { 1: ['name', 'string'] },
  Time: { 1: ['seconds', 'int64'], 2: ['nanos', 'int64'] },
};

function mapEntry(buf: Buffer): [string, Buffer] {
  let key = '';
  let value: Buffer = Buffer.alloc(0);
  for (const f of fields(buf)) {
    if (f.no === 1 && f.bytes) key = f.bytes.toString('utf8');
    else if (f.no === 2 && f.bytes) value = f.bytes;
  }
  return [key, value];
}

function decodeMessage(name: string, buf: Buffer, path: string): O {
  const schema = SCHEMAS[name]!;
  const out: O = {};
  for (const f of fields(buf)) {
    const spec = schema[f.no];
    if (!spec) {
      throw unsupportedMediaType(
        `${PROTOBUF_CONTENT_TYPE} (field ${path}#${f.no} of ${name} is not decoded by the sandbox API server; use kubectl apply -f / create -f)`,
      );
    }
    const [json, type] = spec;
    const text = (): string => (f.bytes ?? Buffer.alloc(0)).toString('utf8');
    if (typeof type === 'object') {
      if ('message' in type)
        out[json] = decodeMessage(type.message, f.bytes ?? Buffer.alloc(0), `${path}.${json}`);
      else
        ((out[json] ??= []) as O[]).push(
          decodeMessage(type.messages, f.bytes ?? Buffer.alloc(0), `${path}.${json}`),
        );
      continue;
    }
    switch (type) {
      case 'string':
        if (text() !== '') out[json] = text();
        break;
      case 'bytes':
        out[json] = (f.bytes ?? Buffer.alloc(0)).toString('base64');
        break;
      case 'int64':
        if (f.num !== undefined && f.num !== 0n) out[json] = Number(BigInt.asIntN(64, f.num));
        break;
      case 'bool':
        out[json] = f.num !== undefined && f.num !== 0n;
        break;
      case 'time': {
        const t = decodeMessage('Time', f.bytes ?? Buffer.alloc(0), `${path}.${json}`);
        const secs = Number(t['seconds'] ?? 0);
        if (secs !== 0) out[json] = new Date(secs * 1000).toISOString().replace('.000Z', 'Z');
        break;
      }
      case 'strings':
        ((out[json] ??= []) as string[]).push(text());
        break;
      case 'map':
      case 'bytesMap': {
        const [k, v] = mapEntry(f.bytes ?? Buffer.alloc(0));
        ((out[json] ??= {}) as O)[k] = type === 'map' ? v.toString('utf8') : v.toString('base64');
        break;
      }
    }
  }
  return out;
}

/** Decodes a protobuf request body of a kind in SCHEMAS into its JSON form (with kind/apiVersion). */
export function decodeKubeProtobuf(body: Buffer): O {
  if (body.length < 4 || !body.subarray(0, 4).equals(MAGIC)) {
    throw unsupportedMediaType(
      `${PROTOBUF_CONTENT_TYPE} (the body does not start with the k8s protobuf magic)`,
    );
  }
  let apiVersion = '';
  let kind = '';
  let raw: Buffer | undefined;
  try {
    for (const f of fields(body.subarray(4))) {
      if (f.no === 1 && f.bytes) {
        for (const t of fields(f.bytes)) {
          if (t.no === 1 && t.bytes) apiVersion = t.bytes.toString('utf8');
          if (t.no === 2 && t.bytes) kind = t.bytes.toString('utf8');
        }
      } else if (f.no === 2 && f.bytes) raw = f.bytes;
    }
  } catch (e) {
    throw unsupportedMediaType(
      `${PROTOBUF_CONTENT_TYPE} (malformed envelope: ${e instanceof Error ? e.message : String(e)})`,
    );
  }
  if (!SCHEMAS[kind] || kind === 'ObjectMeta' || kind === 'Time') {
    throw unsupportedMediaType(
      `${PROTOBUF_CONTENT_TYPE} for kind ${JSON.stringify(kind)} (the sandbox API server decodes protobuf only for Namespace, ConfigMap, Secret and ServiceAccount; use kubectl apply -f / create -f)`,
    );
  }
  let obj: O;
  try {
    obj = decodeMessage(kind, raw ?? Buffer.alloc(0), kind);
  } catch (e) {
    if (e instanceof StatusError) throw e;
    throw unsupportedMediaType(
      `${PROTOBUF_CONTENT_TYPE} (malformed ${kind}: ${e instanceof Error ? e.message : String(e)})`,
    );
  }
  return { kind, apiVersion, ...obj };
}
