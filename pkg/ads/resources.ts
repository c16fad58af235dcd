/**
 * A resource encoded once: its protobuf bytes, a content-hash version and the pre-built response
 * chunks that every stream needing it shares (the same Buffer objects, never re-serialized).
 */
import { hash } from 'node:crypto';
import { encodeMessage, hasMessageType, type PlainMessage } from '../envoy/index.js';
import { deltaResourceChunk, sotwResourceChunk } from './wire.js';

/** One desired resource as given to the cache: a plain object of its type, or its encoded bytes. */
export interface ResourceInput {
  name: string;
  resource: PlainMessage | Uint8Array;
}

/** Content hash of bytes, short and stable: the resource version. */
export function contentVersion(bytes: Uint8Array): string {
  return hash('sha256', bytes, 'base64url').slice(0, 16);
}

/** Version of a set of resources: hash over the sorted (name, version) pairs. Order-independent. */
export function setVersion(resources: Iterable<{ readonly name: string; readonly version: string }>): string {
  const parts: string[] = [];
  for (const r of resources) parts.push(`${r.name}\u0000${r.version}`);
  parts.sort();
  return hash('sha256', parts.join('\u0001'), 'base64url').slice(0, 16);
}

export class EncodedResource {
  /** DiscoveryResponse `resources` field for this resource (Any), shared by all SotW streams. */
  readonly sotwChunk: Buffer;
  private delta: Buffer | undefined;

  constructor(
    readonly typeUrl: string,
    readonly name: string,
    readonly version: string,
    /** The resource message bytes. */
    readonly bytes: Buffer,
  ) {
    this.sotwChunk = sotwResourceChunk(typeUrl, bytes);
  }

  /** DeltaDiscoveryResponse `resources` field (Resource{name, version, Any}); built on first use. */
  deltaChunk(): Buffer {
    this.delta ??= deltaResourceChunk(this.name, this.version, this.typeUrl, this.bytes);
    return this.delta;
  }

  /**
   * Encodes one input. `previous` (same name, same type) is reused when the content is equal;
   * otherwise an encoding of the same type, name and content made for another node is (interned):
   * the pods of one workload have equal listeners and clusters, and they share one encoding and one
   * set of response chunks instead of a copy per proxy.
   */
  static from(typeUrl: string, input: ResourceInput, previous?: EncodedResource): EncodedResource {
    const bytes =
      input.resource instanceof Uint8Array
        ? Buffer.from(input.resource.buffer, input.resource.byteOffset, input.resource.byteLength)
        : encodeMessage(typeUrl, input.resource);
    // Same bytes as before: keep the previous encoding (no hash, same shared Buffers).
    if (previous && previous.bytes.equals(bytes)) return previous;
    const version = contentVersion(bytes);
    if (previous && previous.version === version) return previous;
    const key = `${typeUrl}\u0000${input.name}\u0000${version}`;
    const interned = INTERNED.get(key)?.deref();
    if (interned) return interned;
    const r = new EncodedResource(typeUrl, input.name, version, bytes);
    INTERNED.set(key, new WeakRef(r));
    COLLECTED.register(r, key);
    return r;
  }
}

/**
 * Encodings in use, by type URL, name and content hash. Weak: an encoding no snapshot holds any
 * more is collected and its key dropped.
 */
const INTERNED = new Map<string, WeakRef<EncodedResource>>();
const COLLECTED = new FinalizationRegistry<string>((key) => {
  if (INTERNED.get(key)?.deref() === undefined) INTERNED.delete(key);
});

/** Throws, naming the value, when a type URL is not one fsm can encode. */
export function assertKnownTypeUrl(typeUrl: string): void {
  if (!typeUrl.startsWith('type.googleapis.com/') || !hasMessageType(typeUrl)) {
    throw new Error(`snapshot type URL ${JSON.stringify(typeUrl)} is not a known type.googleapis.com/ type`);
  }
}
