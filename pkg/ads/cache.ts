/**
 * The snapshot cache: the desired resources of every proxy, keyed by node id. Resources are
 * encoded to bytes once when a snapshot is set; versions are content hashes, so setting the same
 * content again changes nothing and pushes nothing. Only the streams watching a node id are told
 * about its changes.
 *
 * A node's snapshot is the merge of its parts (parts.ts): its own resources (setSnapshot), its
 * layers (setLayer: e.g. its SDS secrets) and the resources every node shares (updateShared: the
 * mesh's Services). Shared resources are encoded once and the very same objects are referenced by
 * every node's snapshot; a type only the shared part has (EDS) is even the same TypeSnapshot object
 * for every node. Each part version links to the one it replaced with the names that changed, so a
 * stream finds what changed since it last synced without comparing every resource.
 */
import { EncodedResource, assertKnownTypeUrl, setVersion, type ResourceInput } from './resources.js';
import { messageNameOf } from '../envoy/index.js';
import { MergedResources, diffNames, nextPart, type ResourcePart } from './parts.js';

/** setSnapshot input: resources by full type URL. A type left out means "no resources of it". */
export type SnapshotInput = Readonly<Record<string, readonly ResourceInput[] | undefined>>;

/** updateShared input: per type URL, resources to add or replace and names to remove. */
export type SharedChanges = Readonly<
  Record<string, { readonly set?: readonly ResourceInput[]; readonly remove?: readonly string[] } | undefined>
>;

export interface TypeSnapshot {
  readonly typeUrl: string;
  /** Content hash of the whole set of this type (sent as version_info). */
  readonly version: string;
  readonly resources: ReadonlyMap<string, EncodedResource>;
  /** Where the resources come from (one part, or the node's own part and the shared one...). */
  readonly parts: readonly ResourcePart[];
}

export interface Snapshot {
  readonly nodeId: string;
  /** Content hash over every type. */
  readonly version: string;
  readonly types: ReadonlyMap<string, TypeSnapshot>;
  /** process.hrtime.bigint() when this content was set: push latency is measured from it. */
  readonly setAt: bigint;
}

const EMPTY_RESOURCES: ReadonlyMap<string, EncodedResource> = new Map();

/** The (empty when absent) resources of one type of a snapshot. */
export function typeResources(
  snap: Snapshot | undefined,
  typeUrl: string,
): ReadonlyMap<string, EncodedResource> {
  return snap?.types.get(typeUrl)?.resources ?? EMPTY_RESOURCES;
}

export const EMPTY_SET_VERSION = setVersion([]);

/** Version_info of one type of a snapshot (the empty-set version when the type is absent). */
export function typeVersion(snap: Snapshot | undefined, typeUrl: string): string {
  return snap?.types.get(typeUrl)?.version ?? EMPTY_SET_VERSION;
}

/** Error context of one input resource (built only when an error is thrown). */
function where(nodeId: string, typeUrl: string, i: number): string {
  return `node ${JSON.stringify(nodeId)} ${messageNameOf(typeUrl)}[${i}]`;
}

/** Called with the new snapshot (undefined after clearSnapshot). */
export type SnapshotWatcher = (snapshot: Snapshot | undefined) => void;

function checkNodeId(nodeId: string, what: string): void {
  if (typeof nodeId !== 'string' || nodeId === '') {
    throw new Error(`${what}: node id must be a non-empty string, got ${JSON.stringify(nodeId)}`);
  }
}

/** Same type URLs with the very same TypeSnapshot objects (unchanged content reuses them). */
function sameTypes(a: ReadonlyMap<string, TypeSnapshot>, b: ReadonlyMap<string, TypeSnapshot>): boolean {
  if (a.size !== b.size) return false;
  for (const [t, ts] of b) if (a.get(t) !== ts) return false;
  return true;
}

/** A one-part TypeSnapshot. */
function singlePart(typeUrl: string, part: ResourcePart): TypeSnapshot {
  return { typeUrl, version: part.version, resources: part.resources, parts: [part] };
}

/** The slot of a node's own resources (setSnapshot). */
const OWN_SLOT = 'own';
/** The slot of the resources every node shares (updateShared). */
const SHARED_SLOT = 'shared';

/**
 * Encodes one input's types, reusing `previous`' encodings (and whole TypeSnapshots) where the
 * content is unchanged. Throws naming node, type and resource on bad input.
 */
function buildTypes(
  nodeId: string,
  slot: string,
  input: SnapshotInput,
  previous: ReadonlyMap<string, TypeSnapshot> | undefined,
): Map<string, TypeSnapshot> {
  const types = new Map<string, TypeSnapshot>();
  for (const [typeUrl, list] of Object.entries(input)) {
    if (!list) continue;
    assertKnownTypeUrl(typeUrl);
    const prevType = previous?.get(typeUrl);
    const prevRes = prevType?.resources;
    const resources = new Map<string, EncodedResource>();
    for (const [i, item] of list.entries()) {
      if (!item || typeof item.name !== 'string' || item.name === '') {
        throw new Error(
          `${where(nodeId, typeUrl, i)}.name: must be a non-empty string, got ${JSON.stringify(item?.name)}`,
        );
      }
      if (resources.has(item.name)) {
        throw new Error(
          `${where(nodeId, typeUrl, i)}.name: duplicate resource name ${JSON.stringify(item.name)}`,
        );
      }
      try {
        resources.set(item.name, EncodedResource.from(typeUrl, item, prevRes?.get(item.name)));
      } catch (err) {
        const msg = err instanceof Error ? err.message : String(err);
        throw new Error(`${where(nodeId, typeUrl, i)} (${JSON.stringify(item.name)}): ${msg}`);
      }
    }
    if (resources.size === 0) continue;
    let same = prevType !== undefined && prevType.resources.size === resources.size;
    if (same) {
      for (const [n, r] of resources) {
        if (prevType!.resources.get(n) !== r) {
          same = false;
          break;
        }
      }
    }
    if (same) {
      // Unchanged type (every resource reused): keep the very same TypeSnapshot, no hashing.
      types.set(typeUrl, prevType!);
      continue;
    }
    const prevPart = prevType?.parts[0];
    const changed = prevPart ? diffNames(prevPart.resources, resources) : undefined;
    types.set(
      typeUrl,
      singlePart(typeUrl, nextPart(slot, resources, setVersion(resources.values()), prevPart, changed)),
    );
  }
  return types;
}

export class SnapshotCache {
  private readonly snapshots = new Map<string, Snapshot>();
  /** The primary (setSnapshot) types of each node. */
  private readonly primary = new Map<string, ReadonlyMap<string, TypeSnapshot>>();
  /** Other layers of a node (setLayer), by layer name. */
  private readonly extras = new Map<string, Map<string, ReadonlyMap<string, TypeSnapshot>>>();
  private readonly watchers = new Map<string, Set<SnapshotWatcher>>();
  /** The resources every node shares, by type (one-part TypeSnapshots of the shared slot). */
  private shared: ReadonlyMap<string, TypeSnapshot> = new Map();
  /** Merged TypeSnapshots of each node (own part + shared part), reused while both parts are the same. */
  private readonly merged = new Map<string, Map<string, TypeSnapshot>>();

  /**
   * Sets the desired resources of one proxy. Encodes each resource once (plain objects are
   * checked against their proto type; bytes are taken as already encoded), reusing the previous
   * encoding when content is unchanged. Returns the snapshot and whether anything changed. Throws,
   * naming node, type and resource, on bad input; the previous snapshot then stays in place.
   */
  setSnapshot(nodeId: string, input: SnapshotInput): { snapshot: Snapshot; changed: boolean } {
    checkNodeId(nodeId, 'setSnapshot');
    const prevTypes = this.primary.get(nodeId);
    const types = buildTypes(nodeId, OWN_SLOT, input, prevTypes);
    for (const [layer, lt] of this.extras.get(nodeId) ?? []) {
      for (const t of types.keys()) {
        if (lt.has(t))
          throw new Error(`node ${JSON.stringify(nodeId)}: type ${t} is already set by layer ${layer}`);
      }
    }
    for (const [t, ts] of types) {
      const shared = this.shared.get(t)?.resources;
      if (!shared || ts === prevTypes?.get(t)) continue;
      for (const n of ts.resources.keys()) {
        if (shared.has(n))
          throw new Error(
            `node ${JSON.stringify(nodeId)}: ${messageNameOf(t)} ${JSON.stringify(n)} is already a shared resource`,
          );
      }
    }
    const published = this.snapshots.get(nodeId);
    if (published && prevTypes && sameTypes(prevTypes, types)) return { snapshot: published, changed: false };
    this.primary.set(nodeId, types);
    return this.publish(nodeId)!;
  }

  /**
   * Sets the resources of one more layer of a node (e.g. its SDS secrets, produced by mesh identity),
   * beside the primary ones of setSnapshot; neither overwrites the other (a type belongs to one
   * layer). A node's snapshot is published only while it has primary resources: a layer alone never
   * makes a stream push (it would push an empty configuration). Returns whether the published
   * snapshot changed.
   */
  setLayer(nodeId: string, layer: string, input: SnapshotInput): { changed: boolean } {
    checkNodeId(nodeId, 'setLayer');
    let layers = this.extras.get(nodeId);
    const prev = layers?.get(layer);
    const types = buildTypes(nodeId, layer, input, prev);
    const primary = this.primary.get(nodeId);
    for (const t of types.keys()) {
      if (primary?.has(t))
        throw new Error(`node ${JSON.stringify(nodeId)}: type ${t} is already set by the primary snapshot`);
      if (this.shared.has(t))
        throw new Error(`node ${JSON.stringify(nodeId)}: type ${t} is shared by every node, not a layer's`);
      for (const [other, lt] of layers ?? []) {
        if (other !== layer && lt.has(t))
          throw new Error(`node ${JSON.stringify(nodeId)}: type ${t} is already set by layer ${other}`);
      }
    }
    if (prev && sameTypes(prev, types)) return { changed: false };
    if (!layers) this.extras.set(nodeId, (layers = new Map()));
    layers.set(layer, types);
    const before = this.snapshots.get(nodeId);
    return { changed: this.publish(nodeId)?.snapshot !== before };
  }

  /** Removes one layer of a node; the published snapshot follows. */
  clearLayer(nodeId: string, layer: string): boolean {
    const layers = this.extras.get(nodeId);
    if (!layers?.delete(layer)) return false;
    if (layers.size === 0) this.extras.delete(nodeId);
    this.publish(nodeId);
    return true;
  }

  /**
   * Adds, replaces and removes resources every node shares (the mesh's Services): each is encoded
   * once, and every node's published snapshot then references it. A name must not be one of a
   * node's own resources (setSnapshot refuses the reverse); types set here cannot be a layer's.
   * Every node with a snapshot is published again (its watchers told) when a type changed.
   * Returns whether anything changed. Throws, naming type and resource, on bad input; nothing is
   * changed then.
   */
  updateShared(changes: SharedChanges): { changed: boolean } {
    const next = new Map(this.shared);
    let changed = false;
    for (const [typeUrl, change] of Object.entries(changes)) {
      if (!change) continue;
      assertKnownTypeUrl(typeUrl);
      for (const layers of this.extras.values()) {
        for (const [layer, lt] of layers) {
          if (lt.has(typeUrl))
            throw new Error(`shared ${typeUrl}: the type is already set by layer ${layer}`);
        }
      }
      const prevType = this.shared.get(typeUrl);
      const prevRes = prevType?.resources ?? EMPTY_RESOURCES;
      const resources = new Map(prevRes);
      const names = new Set<string>();
      for (const n of change.remove ?? []) {
        if (resources.delete(n)) names.add(n);
      }
      for (const [i, item] of (change.set ?? []).entries()) {
        if (!item || typeof item.name !== 'string' || item.name === '') {
          throw new Error(
            `shared ${messageNameOf(typeUrl)}[${i}].name: must be a non-empty string, got ${JSON.stringify(item?.name)}`,
          );
        }
        let r: EncodedResource;
        try {
          r = EncodedResource.from(typeUrl, item, prevRes.get(item.name));
        } catch (err) {
          const msg = err instanceof Error ? err.message : String(err);
          throw new Error(`shared ${messageNameOf(typeUrl)}[${i}] (${JSON.stringify(item.name)}): ${msg}`);
        }
        resources.set(item.name, r);
        names.add(item.name);
      }
      for (const n of [...names]) if (prevRes.get(n) === resources.get(n)) names.delete(n);
      if (names.size === 0) continue;
      changed = true;
      if (resources.size === 0) {
        next.delete(typeUrl);
        continue;
      }
      const part = nextPart(
        SHARED_SLOT,
        resources,
        setVersion(resources.values()),
        prevType?.parts[0],
        names,
      );
      next.set(typeUrl, singlePart(typeUrl, part));
    }
    if (!changed) return { changed: false };
    this.shared = next;
    for (const nodeId of this.primary.keys()) this.publish(nodeId);
    return { changed: true };
  }

  /** The resources every node shares, by type URL (read only). */
  sharedResources(typeUrl: string): ReadonlyMap<string, EncodedResource> {
    return this.shared.get(typeUrl)?.resources ?? EMPTY_RESOURCES;
  }

  /** A node's own TypeSnapshot merged with the shared one (the same object while both stay the same). */
  private mergedType(nodeId: string, own: TypeSnapshot, shared: TypeSnapshot): TypeSnapshot {
    let byType = this.merged.get(nodeId);
    const prev = byType?.get(own.typeUrl);
    if (prev && prev.parts[0] === own.parts[0] && prev.parts[1] === shared.parts[0]) return prev;
    const parts = [own.parts[0]!, shared.parts[0]!];
    const ts: TypeSnapshot = {
      typeUrl: own.typeUrl,
      // Both parts' versions are content hashes: their pair identifies the merged content.
      version: `${own.version}.${shared.version}`,
      resources: new MergedResources(parts),
      parts,
    };
    if (!byType) this.merged.set(nodeId, (byType = new Map()));
    byType.set(own.typeUrl, ts);
    return ts;
  }

  /** The merged snapshot of a node's layers, set and announced when it changed. */
  private publish(nodeId: string): { snapshot: Snapshot; changed: boolean } | undefined {
    const primary = this.primary.get(nodeId);
    if (!primary) return undefined;
    const layers = this.extras.get(nodeId);
    let types: ReadonlyMap<string, TypeSnapshot> = primary;
    if ((layers && layers.size > 0) || this.shared.size > 0) {
      const merged = new Map(primary);
      for (const lt of layers?.values() ?? []) for (const [t, ts] of lt) merged.set(t, ts);
      for (const [t, sts] of this.shared) {
        const own = merged.get(t);
        merged.set(t, own ? this.mergedType(nodeId, own, sts) : sts);
      }
      types = merged;
    }
    const previous = this.snapshots.get(nodeId);
    if (previous && sameTypes(previous.types, types)) return { snapshot: previous, changed: false };
    const version = setVersion([...types.values()].map((t) => ({ name: t.typeUrl, version: t.version })));
    const snapshot: Snapshot = { nodeId, version, types, setAt: process.hrtime.bigint() };
    this.snapshots.set(nodeId, snapshot);
    this.notify(nodeId, snapshot);
    return { snapshot, changed: true };
  }

  /** Forgets a proxy's snapshot (pod gone). Its open streams keep what they have. */
  clearSnapshot(nodeId: string): boolean {
    this.primary.delete(nodeId);
    this.merged.delete(nodeId);
    const had = this.snapshots.delete(nodeId);
    if (had) this.notify(nodeId, undefined);
    return had;
  }

  getSnapshot(nodeId: string): Snapshot | undefined {
    return this.snapshots.get(nodeId);
  }

  /**
   * A node's own types (what setSnapshot set), the same object until setSnapshot changes them:
   * layer and shared changes re-publish the node's snapshot but leave this as it is, so a caller
   * can tell "my content is still the one in the cache" by identity.
   */
  ownTypes(nodeId: string): ReadonlyMap<string, TypeSnapshot> | undefined {
    return this.primary.get(nodeId);
  }

  nodeIds(): string[] {
    return [...this.snapshots.keys()];
  }

  get size(): number {
    return this.snapshots.size;
  }

  /** Watches one node id; returns the unsubscribe function. */
  watch(nodeId: string, watcher: SnapshotWatcher): () => void {
    let set = this.watchers.get(nodeId);
    if (!set) {
      set = new Set();
      this.watchers.set(nodeId, set);
    }
    set.add(watcher);
    return () => {
      const s = this.watchers.get(nodeId);
      if (!s) return;
      s.delete(watcher);
      if (s.size === 0) this.watchers.delete(nodeId);
    };
  }

  /** Number of watchers of a node id (streams of that proxy). */
  watcherCount(nodeId: string): number {
    return this.watchers.get(nodeId)?.size ?? 0;
  }

  private notify(nodeId: string, snapshot: Snapshot | undefined): void {
    const set = this.watchers.get(nodeId);
    if (!set) return;
    for (const w of [...set]) w(snapshot);
  }
}
