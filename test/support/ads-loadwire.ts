/**
 * Minimal ADS framing for the load generator and the bare baseline server: just enough protobuf to
 * write DiscoveryRequests and read version_info / type_url / nonce / node.id, so that measuring
 * tens of thousands of streams measures the server, not the client's decoder.
 */
import { lengthDelimited, stringField } from '../../pkg/ads/index.js';

/** DiscoveryRequest: version_info = 1, node = 2 (Node.id = 1), resource_names = 3, type_url = 4, response_nonce = 5. */
export function encodeRequest(r: {
  version?: string;
  nodeId?: string;
  names?: readonly string[];
  typeUrl: string;
  nonce?: string;
}): Buffer {
  const parts: Buffer[] = [];
  if (r.version) parts.push(stringField(1, r.version));
  if (r.nodeId) parts.push(lengthDelimited(2, stringField(1, r.nodeId)));
  for (const n of r.names ?? []) parts.push(stringField(3, n));
  parts.push(stringField(4, r.typeUrl));
  if (r.nonce) parts.push(stringField(5, r.nonce));
  return Buffer.concat(parts);
}

function readVarint(b: Buffer, pos: number): [number, number] {
  let value = 0;
  let mul = 1;
  for (;;) {
    const byte = b[pos++]!;
    value += (byte & 0x7f) * mul;
    if (byte < 0x80) return [value, pos];
    mul *= 128;
  }
}

/** Top-level length-delimited fields of a message: field number → last value (a view, no copy). */
export function readFields(b: Buffer, wanted: readonly number[]): Map<number, Buffer> {
  const out = new Map<number, Buffer>();
  let pos = 0;
  while (pos < b.length) {
    let key: number;
    [key, pos] = readVarint(b, pos);
    const field = Math.floor(key / 8);
    const wire = key & 7;
    if (wire === 2) {
      let len: number;
      [len, pos] = readVarint(b, pos);
      if (wanted.includes(field)) out.set(field, b.subarray(pos, pos + len));
      pos += len;
    } else if (wire === 0) {
      [, pos] = readVarint(b, pos);
    } else if (wire === 1) {
      pos += 8;
    } else if (wire === 5) {
      pos += 4;
    } else {
      throw new Error(`unsupported wire type ${wire}`);
    }
  }
  return out;
}

function str(b: Buffer | undefined): string {
  return b ? b.toString('utf8') : '';
}

/** version_info, type_url, nonce of a DiscoveryResponse. */
export function readResponse(b: Buffer): { version: string; typeUrl: string; nonce: string } {
  const f = readFields(b, [1, 4, 5]);
  return { version: str(f.get(1)), typeUrl: str(f.get(4)), nonce: str(f.get(5)) };
}

/** type_url, response_nonce and node.id of a DiscoveryRequest. */
export function readRequest(b: Buffer): { typeUrl: string; nonce: string; nodeId: string } {
  const f = readFields(b, [2, 4, 5]);
  const node = f.get(2);
  const nodeId = node ? str(readFields(node, [1]).get(1)) : '';
  return { typeUrl: str(f.get(4)), nonce: str(f.get(5)), nodeId };
}
