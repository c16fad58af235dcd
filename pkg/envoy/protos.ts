/**
 * fsm's proto layer: ONE protobufjs root holding ads.proto and every resource / filter type fsm
 * pushes, so google.protobuf.Any fields resolve. Loaded with @grpc/proto-loader from the include
 * directories of proto-paths.ts (nothing is copied from upstream).
 *
 * Plain objects use the proto field names as written in the .proto files (snake_case, as
 * @grpc/grpc-js-xds does): `{ name: 'l', address: { socket_address: { port_value: 15901 } } }`.
 * Enums are strings ('STATIC'), durations `{ seconds, nanos }`, Any `{ type_url, value: Buffer }`
 * (use packAny).
 */
import { createRequire } from 'node:module';
import type { Root, Type, Field, Enum, IConversionOptions } from 'protobufjs';
import { protoIncludeDirs } from './proto-paths.js';
import { ENVOY_PROTO_FILES, TYPE_URL_PREFIX, messageNameOf } from './type-urls.js';

const require = createRequire(import.meta.url);

interface ProtoLoaderUtil {
  loadProtosWithOptionsSync(files: string[], options: { keepCase: boolean; includeDirs: string[] }): Root;
  addCommonProtos(): void;
}

/** A google.protobuf.Any as a plain object. */
export interface AnyMessage {
  type_url: string;
  value: Uint8Array;
}

/** A plain object of some proto message (field names as in the .proto file). */
export type PlainMessage = Record<string, unknown>;

let cachedRoot: Root | undefined;
const typeCache = new Map<string, Type>();

/**
 * The shared root (loaded on first use, ~0.5 s; later calls are free). Throws with the missing
 * file named when @grpc/grpc-js-xds is not installed or lacks a proto.
 */
export function envoyRoot(): Root {
  cachedRoot ??= loadProtoRoot(ENVOY_PROTO_FILES);
  return cachedRoot;
}

/**
 * A new root of these upstream proto files (and what they import), from the include folders of
 * proto-paths.ts. envoyRoot() is the one the binaries use; tests load others (the Envoy bootstrap).
 */
export function loadProtoRoot(files: readonly string[]): Root {
  // proto-loader's util is the loader it uses itself; it applies includeDirs and resolveAll().
  const util = require('@grpc/proto-loader/build/src/util.js') as ProtoLoaderUtil;
  // google/protobuf/descriptor.proto & co. come from protobufjs' bundled copies.
  util.addCommonProtos();
  return util.loadProtosWithOptionsSync([...files], { keepCase: true, includeDirs: protoIncludeDirs() });
}

/**
 * The message type of a type URL (`type.googleapis.com/envoy.config.listener.v3.Listener`) or
 * of a fully qualified message name. Throws, naming the value, when the root does not know it.
 */
export function messageType(typeUrlOrName: string): Type {
  let t = typeCache.get(typeUrlOrName);
  if (t) return t;
  const name = messageNameOf(typeUrlOrName);
  const root = envoyRoot();
  let found: unknown;
  try {
    found = root.lookupType(name);
  } catch {
    found = undefined;
  }
  if (!found) {
    throw new Error(`unknown message type "${typeUrlOrName}" (not in fsm's proto root)`);
  }
  t = found as Type;
  typeCache.set(typeUrlOrName, t);
  return t;
}

/** True when the root knows the message type of this type URL or name. */
export function hasMessageType(typeUrlOrName: string): boolean {
  try {
    messageType(typeUrlOrName);
    return true;
  } catch {
    return false;
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (v instanceof Uint8Array) return 'bytes';
  return typeof v === 'object' ? 'an object' : `${typeof v} ${JSON.stringify(v)}`;
}

function checkValue(field: Field, value: unknown, path: string): void {
  const rt = field.resolvedType;
  if (rt && (rt as Type).fields !== undefined) {
    checkMessage(rt as Type, value, path);
    return;
  }
  if (rt) {
    const values = (rt as Enum).values;
    if (typeof value === 'string') {
      if (!(value in values)) {
        throw new Error(`${path}: unknown ${rt.name} value ${JSON.stringify(value)}`);
      }
    } else if (typeof value !== 'number') {
      throw new Error(`${path}: expected a ${rt.name} name or number, got ${describe(value)}`);
    }
    return;
  }
  switch (field.type) {
    case 'string':
      if (typeof value !== 'string') throw new Error(`${path}: expected a string, got ${describe(value)}`);
      return;
    case 'bool':
      if (typeof value !== 'boolean') throw new Error(`${path}: expected a boolean, got ${describe(value)}`);
      return;
    case 'bytes':
      if (!(value instanceof Uint8Array) && typeof value !== 'string') {
        throw new Error(`${path}: expected bytes, got ${describe(value)}`);
      }
      return;
    default: {
      // numeric scalars; 64-bit ones may be given as decimal strings.
      const ok =
        (typeof value === 'number' && Number.isFinite(value)) ||
        (typeof value === 'string' && /^-?\d+$/.test(value)) ||
        typeof value === 'bigint';
      if (!ok) throw new Error(`${path}: expected a ${field.type}, got ${describe(value)}`);
    }
  }
}

/**
 * Rejects what protobufjs' fromObject would silently drop: unknown field names, wrong shapes,
 * unknown enum names. The error names the path and the value.
 */
export function checkMessage(type: Type, obj: unknown, path = type.name): void {
  if (!isPlainObject(obj)) throw new Error(`${path}: expected an object, got ${describe(obj)}`);
  // By name, not identity: the check also serves roots other than fsm's (tests load the bootstrap's).
  if (type.fullName === '.google.protobuf.Any') {
    checkAny(type, obj, path);
    return;
  }
  for (const [key, value] of Object.entries(obj)) {
    if (value === undefined || value === null) continue;
    const field = type.fields[key];
    if (!field) {
      throw new Error(`${path}.${key}: no such field in ${type.fullName.slice(1)}`);
    }
    // The root was loaded with resolveAll(): resolvedType is set wherever the field is a message/enum.
    const p = `${path}.${key}`;
    if (field.map) {
      if (!isPlainObject(value)) throw new Error(`${p}: expected a map object, got ${describe(value)}`);
      for (const [k, v] of Object.entries(value)) checkValue(field, v, `${p}[${JSON.stringify(k)}]`);
    } else if (field.repeated) {
      if (!Array.isArray(value)) throw new Error(`${p}: expected an array, got ${describe(value)}`);
      value.forEach((v, i) => checkValue(field, v, `${p}[${i}]`));
    } else {
      checkValue(field, value, p);
    }
  }
}

function checkAny(any: Type, obj: Record<string, unknown>, path: string): void {
  if ('@type' in obj) {
    const url = obj['@type'];
    if (typeof url !== 'string') throw new Error(`${path}.@type: expected a type URL string`);
    const { '@type': _drop, ...rest } = obj;
    const inner =
      any.root === envoyRoot() ? messageType(url) : (any.root as Root).lookupType(messageNameOf(url));
    checkMessage(inner, rest, `${path}<${messageNameOf(url)}>`);
    return;
  }
  for (const key of Object.keys(obj)) {
    if (key !== 'type_url' && key !== 'value') {
      throw new Error(`${path}.${key}: no such field in google.protobuf.Any (use packAny)`);
    }
  }
  if (typeof obj.type_url !== 'string' || !obj.type_url) {
    throw new Error(`${path}.type_url: expected a type URL string, got ${describe(obj.type_url)}`);
  }
  if (obj.value !== undefined && !(obj.value instanceof Uint8Array)) {
    throw new Error(`${path}.value: expected bytes, got ${describe(obj.value)}`);
  }
}

/**
 * Encodes a plain object of the given type to protobuf bytes. Unknown fields, wrong shapes and
 * unknown enum names throw (with the field path) instead of being dropped.
 */
export function encodeMessage(typeUrlOrName: string, obj: PlainMessage): Buffer {
  const type = messageType(typeUrlOrName);
  checkMessage(type, obj);
  const bytes = type.encode(type.fromObject(obj)).finish();
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Options of decodeMessage: enums as names, 64-bit numbers as strings, oneof markers. */
export const DECODE_OPTIONS: IConversionOptions = { longs: String, enums: String, oneofs: true };

/** Decodes protobuf bytes of the given type to a plain object (proto field names). */
export function decodeMessage<T = PlainMessage>(
  typeUrlOrName: string,
  bytes: Uint8Array,
  options: IConversionOptions = DECODE_OPTIONS,
): T {
  const type = messageType(typeUrlOrName);
  return type.toObject(type.decode(bytes), options) as T;
}

/**
 * Packs a message as google.protobuf.Any: `{ type_url, value }`. `message` is a plain object
 * (encoded here, checked) or bytes already encoded as that type.
 */
export function packAny(typeUrl: string, message: PlainMessage | Uint8Array): AnyMessage {
  if (!typeUrl.includes('/')) typeUrl = TYPE_URL_PREFIX + typeUrl;
  const value = message instanceof Uint8Array ? message : encodeMessage(typeUrl, message);
  return { type_url: typeUrl, value };
}

/** Unpacks a google.protobuf.Any (plain object with type_url and value) to a plain object. */
export function unpackAny<T = PlainMessage>(any: { type_url?: string; value?: Uint8Array }): T {
  if (!any.type_url) throw new Error('Any.type_url: empty');
  return decodeMessage<T>(any.type_url, any.value ?? new Uint8Array(0));
}

/** Encodes a google.protobuf.Any message itself to bytes. */
export function encodeAny(any: AnyMessage): Buffer {
  const type = messageType('google.protobuf.Any');
  const bytes = type.encode(type.create(any)).finish();
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
