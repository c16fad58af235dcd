/**
 * The parts a type's resources come from. A node's listeners, for instance, are its own (the
 * catalog's per-pod listeners) plus the mesh's shared ones (one listener per meshed Service port,
 * the same objects for every node). Each part is an immutable version of one slot ('own', a layer,
 * 'shared') that remembers the version it replaced and which names differ from it, so a stream that
 * last synced a slot at version v finds what changed since v by walking a few links instead of
 * comparing every resource — what makes a one-endpoint change cost one resource per stream.
 */
import type { EncodedResource } from './resources.js';

/** How many earlier versions a part links back to (older links are cut: a stream that far behind diffs in full). */
export const PART_HISTORY = 64;

export interface ResourcePart {
  /** The slot this is a version of: 'own', a layer's name, or 'shared'. */
  readonly slot: string;
  readonly resources: ReadonlyMap<string, EncodedResource>;
  /** Content hash of `resources`. */
  readonly version: string;
  /** Names added, changed or removed since `previous` (undefined with it). */
  readonly changed: ReadonlySet<string> | undefined;
  /** The version this one replaced; undefined for a first version or when the history was cut. */
  previous: ResourcePart | undefined;
  /** Links behind this one (0 without `previous`). */
  readonly depth: number;
}

/** A new version of a slot; links to `previous` with `changed`, cutting the history at PART_HISTORY. */
export function nextPart(
  slot: string,
  resources: ReadonlyMap<string, EncodedResource>,
  version: string,
  previous: ResourcePart | undefined,
  changed: ReadonlySet<string> | undefined,
): ResourcePart {
  const linked = previous !== undefined && changed !== undefined;
  const part: ResourcePart = {
    slot,
    resources,
    version,
    changed: linked ? changed : undefined,
    previous: linked ? previous : undefined,
    depth: linked ? Math.min(previous.depth + 1, PART_HISTORY) : 0,
  };
  if (linked && previous.depth + 1 >= PART_HISTORY) {
    // Cut the link PART_HISTORY versions back, so old versions can be collected.
    let p: ResourcePart | undefined = part;
    for (let i = 0; i < PART_HISTORY - 1 && p; i++) p = p.previous;
    if (p) p.previous = undefined;
  }
  return part;
}

/** Names that differ (added, changed or removed) between `since` and `current`; undefined when unknown. */
export function changedSince(current: ResourcePart, since: ResourcePart): Set<string> | undefined {
  if (current === since) return new Set();
  const out = new Set<string>();
  let p: ResourcePart | undefined = current;
  while (p && p !== since) {
    if (!p.changed) return undefined;
    for (const n of p.changed) out.add(n);
    p = p.previous;
  }
  return p === since ? out : undefined;
}

/** The names whose resources differ between two maps (both directions). */
export function diffNames(
  a: ReadonlyMap<string, EncodedResource>,
  b: ReadonlyMap<string, EncodedResource>,
): Set<string> {
  const out = new Set<string>();
  for (const [n, r] of b) if (a.get(n) !== r && a.get(n)?.version !== r.version) out.add(n);
  for (const n of a.keys()) if (!b.has(n)) out.add(n);
  return out;
}

/**
 * Several parts read as one map. Names are unique across the parts of a type (the cache refuses a
 * node resource named like a shared one); should two parts still hold a name, the first part wins.
 */
export class MergedResources implements ReadonlyMap<string, EncodedResource> {
  constructor(readonly parts: readonly ResourcePart[]) {}

  get size(): number {
    let n = 0;
    for (const _ of this.keys()) n++;
    return n;
  }

  get(name: string): EncodedResource | undefined {
    for (const p of this.parts) {
      const r = p.resources.get(name);
      if (r) return r;
    }
    return undefined;
  }

  has(name: string): boolean {
    for (const p of this.parts) if (p.resources.has(name)) return true;
    return false;
  }

  /** The part holding `name` (the first, should two). */
  partOf(name: string): ResourcePart | undefined {
    for (const p of this.parts) if (p.resources.has(name)) return p;
    return undefined;
  }

  *entries(): MapIterator<[string, EncodedResource]> {
    for (let i = 0; i < this.parts.length; i++) {
      for (const e of this.parts[i]!.resources) {
        if (i > 0 && this.shadowed(e[0], i)) continue;
        yield e;
      }
    }
  }

  *keys(): MapIterator<string> {
    for (const [k] of this.entries()) yield k;
  }

  *values(): MapIterator<EncodedResource> {
    for (const [, v] of this.entries()) yield v;
  }

  [Symbol.iterator](): MapIterator<[string, EncodedResource]> {
    return this.entries();
  }

  forEach(
    fn: (value: EncodedResource, key: string, map: ReadonlyMap<string, EncodedResource>) => void,
  ): void {
    for (const [k, v] of this.entries()) fn(v, k, this);
  }

  private shadowed(name: string, index: number): boolean {
    for (let j = 0; j < index; j++) if (this.parts[j]!.resources.has(name)) return true;
    return false;
  }
}
