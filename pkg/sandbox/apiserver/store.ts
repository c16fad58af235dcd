/**
 * The generic in-memory object store behind the sandbox API server: objects keyed by resource, then
 * by `namespace/name`; one global resourceVersion counter (as etcd's revision); a per-resource event
 * history that watches resume from, with compaction (a resume from a compacted version is 410 Gone).
 * Stored objects are never modified in place: every write stores a new object.
 */
import { gone } from './status.js';

export type KubeObject = Record<string, unknown> & {
  metadata: Record<string, unknown> & { name: string; namespace?: string; resourceVersion?: string };
};

export type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface StoreEvent {
  rv: number;
  type: EventType;
  /** The object after the change (for DELETED, the last state, carrying the deletion's version). */
  object: KubeObject;
  /** The object before the change (MODIFIED, DELETED): lets watches see selector transitions. */
  prev?: KubeObject;
}

export type StoreListener = (event: StoreEvent) => void;

export interface StoreOptions {
  /** Events kept per resource before the oldest are compacted away (default 100,000). */
  maxHistory?: number;
}

export function objectKey(namespace: string | undefined, name: string): string {
  return namespace ? `${namespace}/${name}` : name;
}

export class Store {
  private revision = 1;
  private readonly objects = new Map<string, Map<string, KubeObject>>();
  private readonly history = new Map<string, StoreEvent[]>();
  /** Per resource: events with rv <= this value are gone. */
  private readonly compacted = new Map<string, number>();
  private readonly listeners = new Map<string, Set<StoreListener>>();
  private readonly maxHistory: number;
  private readonly keyCache = new Map<string, string[]>();
  private globalCompacted = 0;

  constructor(opts: StoreOptions = {}) {
    this.maxHistory = opts.maxHistory ?? 100_000;
  }

  get resourceVersion(): number {
    return this.revision;
  }

  private bucket(resource: string): Map<string, KubeObject> {
    let b = this.objects.get(resource);
    if (!b) {
      b = new Map();
      this.objects.set(resource, b);
    }
    return b;
  }

  get(resource: string, namespace: string | undefined, name: string): KubeObject | undefined {
    return this.objects.get(resource)?.get(objectKey(namespace, name));
  }

  /** Keys of a resource, sorted (cached until a key is added or removed). */
  private sortedKeys(resource: string): string[] {
    let keys = this.keyCache.get(resource);
    if (!keys) {
      keys = [...(this.objects.get(resource)?.keys() ?? [])].sort();
      this.keyCache.set(resource, keys);
    }
    return keys;
  }

  /** Objects of a resource (optionally one namespace), sorted by key. */
  list(resource: string, namespace?: string): KubeObject[] {
    return this.scan(resource, { namespace }).items;
  }

  /**
   * Pages through a resource in key order: objects after the key `after` that pass `filter`, at most
   * `limit` of them; `next` is the key to continue after when more may follow.
   */
  scan(
    resource: string,
    opts: { namespace?: string; after?: string; limit?: number; filter?: (o: KubeObject) => boolean },
  ): { items: KubeObject[]; next?: string; remaining: number } {
    const b = this.objects.get(resource);
    if (!b) return { items: [], remaining: 0 };
    const keys = this.sortedKeys(resource);
    const prefix = opts.namespace !== undefined ? `${opts.namespace}/` : '';
    const strict = opts.after !== undefined && opts.after >= prefix;
    const start = strict ? opts.after! : prefix;
    let lo = 0;
    let hi = keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const k = keys[mid]!;
      if (strict ? k <= start : k < start) lo = mid + 1;
      else hi = mid;
    }
    const items: KubeObject[] = [];
    const limit = opts.limit && opts.limit > 0 ? opts.limit : Infinity;
    let i = lo;
    for (; i < keys.length; i++) {
      const k = keys[i]!;
      if (prefix && !k.startsWith(prefix)) break;
      const o = b.get(k)!;
      if (opts.filter && !opts.filter(o)) continue;
      if (items.length >= limit) {
        return { items, next: keys[i - 1], remaining: this.countRest(keys, i, prefix) };
      }
      items.push(o);
    }
    return { items, remaining: 0 };
  }

  private countRest(keys: string[], from: number, prefix: string): number {
    if (!prefix) return keys.length - from;
    let n = 0;
    for (let i = from; i < keys.length && keys[i]!.startsWith(prefix); i++) n++;
    return n;
  }

  count(resource: string): number {
    return this.objects.get(resource)?.size ?? 0;
  }

  /** Stores a new or changed object; assigns and returns its new resourceVersion. */
  put(resource: string, obj: KubeObject): KubeObject {
    const b = this.bucket(resource);
    const key = objectKey(obj.metadata.namespace, obj.metadata.name);
    const prev = b.get(key);
    if (!prev) this.keyCache.delete(resource);
    const rv = ++this.revision;
    const stored = { ...obj, metadata: { ...obj.metadata, resourceVersion: String(rv) } } as KubeObject;
    b.set(key, stored);
    this.record(resource, { rv, type: prev ? 'MODIFIED' : 'ADDED', object: stored, prev });
    return stored;
  }

  /** Removes an object; `finalize` may shape its last state (e.g. a deletionTimestamp) before watchers see it. */
  delete(
    resource: string,
    namespace: string | undefined,
    name: string,
    finalize?: (o: KubeObject) => KubeObject,
  ): KubeObject | undefined {
    const b = this.objects.get(resource);
    const key = objectKey(namespace, name);
    const prev = b?.get(key);
    if (!b || !prev) return undefined;
    b.delete(key);
    this.keyCache.delete(resource);
    const rv = ++this.revision;
    const base = finalize ? finalize(prev) : prev;
    const last = { ...base, metadata: { ...base.metadata, resourceVersion: String(rv) } } as KubeObject;
    this.record(resource, { rv, type: 'DELETED', object: last, prev });
    return last;
  }

  private record(resource: string, ev: StoreEvent): void {
    let h = this.history.get(resource);
    if (!h) {
      h = [];
      this.history.set(resource, h);
    }
    h.push(ev);
    // Compact in batches (a tenth of the window at a time) so a full history is not shifted per write.
    if (h.length > this.maxHistory + Math.floor(this.maxHistory / 10)) {
      const drop = h.length - this.maxHistory;
      this.compacted.set(resource, h[drop - 1]!.rv);
      h.splice(0, drop);
    }
    const ls = this.listeners.get(resource);
    if (ls) for (const l of [...ls]) l(ev);
  }

  /** Drops all history up to the current version: older resumes get 410. */
  compact(): number {
    const rv = this.revision;
    for (const resource of new Set([...this.history.keys(), ...this.objects.keys()])) {
      this.history.set(resource, []);
      this.compacted.set(resource, rv);
    }
    // Resources never written yet are also compacted.
    this.globalCompacted = rv;
    return rv;
  }

  /** The oldest version a watch of this resource may resume from. */
  oldestResumable(resource: string): number {
    return Math.max(this.compacted.get(resource) ?? 0, this.globalCompacted);
  }

  /**
   * Subscribes to changes after `fromRv` (replayed synchronously first from history, then live).
   * Throws a 410 StatusError when history after fromRv was compacted away.
   * Returns the unsubscribe function.
   */
  watch(resource: string, fromRv: number, listener: StoreListener): () => void {
    const oldest = this.oldestResumable(resource);
    if (fromRv < oldest) {
      throw gone(`too old resource version: ${fromRv} (${oldest})`);
    }
    const h = this.history.get(resource) ?? [];
    // Binary search for the first event after fromRv.
    let lo = 0;
    let hi = h.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (h[mid]!.rv <= fromRv) lo = mid + 1;
      else hi = mid;
    }
    const replay = h.slice(lo);
    let ls = this.listeners.get(resource);
    if (!ls) {
      ls = new Set();
      this.listeners.set(resource, ls);
    }
    ls.add(listener);
    for (const ev of replay) listener(ev);
    return () => {
      this.listeners.get(resource)?.delete(listener);
    };
  }
}
