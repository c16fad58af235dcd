/**
 * Hand-written protobuf framing of the ADS responses. Resource bytes are encoded once (in the
 * snapshot cache) and a response is only the concatenation of pre-built chunks plus a few short
 * string fields, so a push costs a memcpy, never a protobuf serialization. Requests are decoded
 * with the shared protobufjs root. The encoders are checked field by field against protobufjs in
 * the unit tests.
 */
import type { Type } from 'protobufjs';
import { messageType } from '../envoy/index.js';

/** Appends a varint to `out` at `pos`; returns the new position. */
function writeVarint(out: Buffer, pos: number, value: number): number {
  while (value > 0x7f) {
    out[pos++] = (value & 0x7f) | 0x80;
    value = Math.floor(value / 128);
  }
  out[pos++] = value;
  return pos;
}

export function varintSize(value: number): number {
  let n = 1;
  while (value > 0x7f) {
    value = Math.floor(value / 128);
    n++;
  }
  return n;
}

/** A length-delimited field (wire type 2): tag, length, bytes. */
export function lengthDelimited(field: number, payload: Uint8Array): Buffer {
  const tag = (field << 3) | 2;
  const out = Buffer.allocUnsafe(varintSize(tag) + varintSize(payload.length) + payload.length);
  let pos = writeVarint(out, 0, tag);
  pos = writeVarint(out, pos, payload.length);
  out.set(payload, pos);
  return out;
}

/** A string field; empty strings are omitted as proto3 does. */
export function stringField(field: number, value: string): Buffer {
  if (!value) return EMPTY;
  return lengthDelimited(field, Buffer.from(value, 'utf8'));
}

const EMPTY = Buffer.alloc(0);

/** String fields that repeat on every message (type URLs): encoded once. */
const fieldCache = new Map<string, Buffer>();
function cachedStringField(field: number, value: string): Buffer {
  const key = `${field}|${value}`;
  let b = fieldCache.get(key);
  if (!b) {
    b = stringField(field, value);
    if (fieldCache.size < 1024) fieldCache.set(key, b);
  }
  return b;
}

/** google.protobuf.Any bytes: type_url = 1, value = 2. */
export function anyBytes(typeUrl: string, value: Uint8Array): Buffer {
  return Buffer.concat([cachedStringField(1, typeUrl), lengthDelimited(2, value)]);
}

/** The `resources` field (2) of a DiscoveryResponse for one resource: built once per resource. */
export function sotwResourceChunk(typeUrl: string, value: Uint8Array): Buffer {
  const typeField = cachedStringField(1, typeUrl);
  const valueFieldSize = varintSize(0x12) + varintSize(value.length) + value.length;
  const anyLen = typeField.length + valueFieldSize;
  const out = Buffer.allocUnsafe(varintSize(0x12) + varintSize(anyLen) + anyLen);
  let pos = writeVarint(out, 0, 0x12);
  pos = writeVarint(out, pos, anyLen);
  pos += typeField.copy(out, pos);
  pos = writeVarint(out, pos, 0x12);
  pos = writeVarint(out, pos, value.length);
  out.set(value, pos);
  return out;
}

/**
 * The `resources` field (2) of a DeltaDiscoveryResponse for one resource:
 * Resource { version = 1, resource = 2 (Any), name = 3 }.
 */
export function deltaResourceChunk(
  name: string,
  version: string,
  typeUrl: string,
  value: Uint8Array,
): Buffer {
  const resource = Buffer.concat([
    stringField(1, version),
    lengthDelimited(2, anyBytes(typeUrl, value)),
    stringField(3, name),
  ]);
  return lengthDelimited(2, resource);
}

/** ControlPlane { identifier = 1 } as field `field` of a response. */
export function controlPlaneField(field: number, identifier: string): Buffer {
  return identifier ? lengthDelimited(field, stringField(1, identifier)) : EMPTY;
}

/** Size of a string field (0 for ''): tag + length + bytes. */
function stringFieldSize(field: number, byteLength: number): number {
  return byteLength === 0 ? 0 : varintSize(field << 3) + varintSize(byteLength) + byteLength;
}

/** Writes a string field of known byte length at `pos`; returns the new position. */
function putString(out: Buffer, pos: number, field: number, value: string, byteLength: number): number {
  if (byteLength === 0) return pos;
  pos = writeVarint(out, pos, (field << 3) | 2);
  pos = writeVarint(out, pos, byteLength);
  return pos + out.write(value, pos, 'utf8');
}

/**
 * DiscoveryResponse: version_info = 1, resources = 2, type_url = 4, nonce = 5, control_plane = 6.
 * `resourceChunks` are pre-built by sotwResourceChunk; `controlPlane` by controlPlaneField(6, ..).
 * One allocation: the chunks are copied once into the response.
 */
export function encodeDiscoveryResponse(
  versionInfo: string,
  resourceChunks: readonly Buffer[],
  typeUrl: string,
  nonce: string,
  controlPlane: Buffer = EMPTY,
): Buffer {
  const typeField = cachedStringField(4, typeUrl);
  const vLen = Buffer.byteLength(versionInfo);
  const nLen = Buffer.byteLength(nonce);
  let size = stringFieldSize(1, vLen) + typeField.length + stringFieldSize(5, nLen) + controlPlane.length;
  for (const c of resourceChunks) size += c.length;
  const out = Buffer.allocUnsafe(size);
  let pos = putString(out, 0, 1, versionInfo, vLen);
  for (const c of resourceChunks) pos += c.copy(out, pos);
  pos += typeField.copy(out, pos);
  pos = putString(out, pos, 5, nonce, nLen);
  controlPlane.copy(out, pos);
  return out;
}

/**
 * DeltaDiscoveryResponse: system_version_info = 1, resources = 2, type_url = 4, nonce = 5,
 * removed_resources = 6, control_plane = 7.
 */
export function encodeDeltaDiscoveryResponse(
  systemVersionInfo: string,
  resourceChunks: readonly Buffer[],
  typeUrl: string,
  removed: readonly string[],
  nonce: string,
  controlPlane: Buffer = EMPTY,
): Buffer {
  return Buffer.concat([
    stringField(1, systemVersionInfo),
    ...resourceChunks,
    cachedStringField(4, typeUrl),
    stringField(5, nonce),
    ...removed.map((r) => stringField(6, r)),
    controlPlane,
  ]);
}

/** The parts of envoy.config.core.v3.Node fsm reads. */
export interface NodeInfo {
  id: string;
  cluster: string;
  /** Raw decoded node for logs/debug (protobufjs message). */
  raw?: unknown;
}

export interface DiscoveryRequestMsg {
  version_info: string;
  node?: NodeInfo;
  resource_names: string[];
  type_url: string;
  response_nonce: string;
  error_detail?: { code: number; message: string };
}

export interface DeltaDiscoveryRequestMsg {
  node?: NodeInfo;
  type_url: string;
  resource_names_subscribe: string[];
  resource_names_unsubscribe: string[];
  initial_resource_versions: Record<string, string>;
  response_nonce: string;
  error_detail?: { code: number; message: string };
}

let sotwReqType: Type | undefined;
let deltaReqType: Type | undefined;

interface RawNode {
  id?: string;
  cluster?: string;
}
interface RawStatus {
  code?: number;
  message?: string;
}

function nodeOf(raw: RawNode | null | undefined): NodeInfo | undefined {
  if (!raw) return undefined;
  return { id: raw.id ?? '', cluster: raw.cluster ?? '', raw };
}

function statusOf(raw: RawStatus | null | undefined): { code: number; message: string } | undefined {
  if (!raw) return undefined;
  return { code: raw.code ?? 0, message: raw.message ?? '' };
}

/** Decodes a DiscoveryRequest (throws on malformed bytes). */
export function decodeDiscoveryRequest(bytes: Uint8Array): DiscoveryRequestMsg {
  sotwReqType ??= messageType('envoy.service.discovery.v3.DiscoveryRequest');
  const m = sotwReqType.decode(bytes) as unknown as {
    version_info?: string;
    node?: RawNode | null;
    resource_names?: string[];
    type_url?: string;
    response_nonce?: string;
    error_detail?: RawStatus | null;
  };
  return {
    version_info: m.version_info ?? '',
    node: nodeOf(m.node),
    resource_names: m.resource_names ?? [],
    type_url: m.type_url ?? '',
    response_nonce: m.response_nonce ?? '',
    error_detail: statusOf(m.error_detail),
  };
}

/** Decodes a DeltaDiscoveryRequest (throws on malformed bytes). */
export function decodeDeltaDiscoveryRequest(bytes: Uint8Array): DeltaDiscoveryRequestMsg {
  deltaReqType ??= messageType('envoy.service.discovery.v3.DeltaDiscoveryRequest');
  const m = deltaReqType.decode(bytes) as unknown as {
    node?: RawNode | null;
    type_url?: string;
    resource_names_subscribe?: string[];
    resource_names_unsubscribe?: string[];
    initial_resource_versions?: Record<string, string>;
    response_nonce?: string;
    error_detail?: RawStatus | null;
  };
  return {
    node: nodeOf(m.node),
    type_url: m.type_url ?? '',
    resource_names_subscribe: m.resource_names_subscribe ?? [],
    resource_names_unsubscribe: m.resource_names_unsubscribe ?? [],
    initial_resource_versions: m.initial_resource_versions ?? {},
    response_nonce: m.response_nonce ?? '',
    error_detail: statusOf(m.error_detail),
  };
}
