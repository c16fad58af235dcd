/**
 * One State-of-the-World ADS stream (StreamAggregatedResources). What it shares with Delta lives in
 * stream.ts (request kinds, ACK / NACK, push order, write loop) and subscription.ts (wildcard and
 * legacy wildcard). SotW's own rules:
 * - version_info and nonce per type URL; every response carries a fresh nonce;
 * - a NACK is logged and counted and nothing is resent until the desired resources change;
 * - a stale nonce still updates the subscription;
 * - resource_names is the whole subscription each time; an empty list after names means nothing;
 * - Listener and Cluster responses carry the full subscribed set; RouteConfiguration and
 *   ClusterLoadAssignment responses carry only what the stream has not been sent;
 * - a type's first request on the stream, a subscription change or a changed subscribed resource
 *   cause a push; ACKs and NACKs never do.
 */
import { CLUSTER_TYPE_URL, LISTENER_TYPE_URL } from '../envoy/index.js';
import { typeResources } from './cache.js';
import type { EncodedResource } from './resources.js';
import { AdsStream, TypeState, type OutgoingResponse } from './stream.js';
import { encodeDiscoveryResponse, type DiscoveryRequestMsg } from './wire.js';

/** Types whose SotW responses must always carry every subscribed resource. */
export const FULL_STATE_TYPES: ReadonlySet<string> = new Set([LISTENER_TYPE_URL, CLUSTER_TYPE_URL]);

/** Per type URL state of a SotW stream (exported for tests and debug). */
export class SotwTypeState extends TypeState {
  /** What this stream was last sent, per resource name (what the client holds or rejected). */
  sent = new Map<string, EncodedResource>();
  /** The snapshot's TypeSnapshot (or NONE) this type was last found fully in sync with. */
  synced: unknown = undefined;
}

/** Marker for "the snapshot has no resources of this type". */
const NONE = Symbol('none');

export class SotwStream extends AdsStream<DiscoveryRequestMsg, SotwTypeState> {
  protected newTypeState(req: DiscoveryRequestMsg): SotwTypeState {
    return new SotwTypeState(req.type_url);
  }

  /** SotW: resource_names is the whole subscription. */
  protected namesAfter(_st: SotwTypeState | undefined, req: DiscoveryRequestMsg): number {
    return req.resource_names.length;
  }

  protected subscribe(st: SotwTypeState, req: DiscoveryRequestMsg, first: boolean): void {
    if (st.replace(req.resource_names, first)) {
      st.forced = true;
      // What is no longer subscribed is forgotten: subscribing to it again resends it.
      if (!first) st.retainSubscribed(st.sent);
    }
  }

  /** Desired resources of a type for this stream's subscription (read only: may be the snapshot's map). */
  private desired(st: SotwTypeState): ReadonlyMap<string, EncodedResource> {
    const all = typeResources(this.snapshot, st.typeUrl);
    if (st.wildcard) return all;
    const out = new Map<string, EncodedResource>();
    for (const n of st.names) {
      const r = all.get(n);
      if (r) out.set(n, r);
    }
    return out;
  }

  /** True when nothing can be owed for this type: same type snapshot as when last in sync. */
  private inSync(st: SotwTypeState): boolean {
    return !st.forced && st.synced === (this.snapshot!.types.get(st.typeUrl) ?? NONE);
  }

  /** Additions and updates (removed resources of full-state types are still kept). */
  additionOf(st: SotwTypeState): OutgoingResponse | undefined {
    if (this.inSync(st)) return undefined;
    const desired = this.desired(st);
    let changed = false;
    for (const [n, r] of desired) {
      if (st.sent.get(n) !== r && st.sent.get(n)?.version !== r.version) {
        changed = true;
        break;
      }
    }
    if (FULL_STATE_TYPES.has(st.typeUrl)) {
      if (changed || (st.forced && !hasRemovals(st, desired))) {
        const content = new Map(desired);
        for (const [n, r] of st.sent) if (!content.has(n)) content.set(n, r);
        return this.respond(st, content, content);
      }
      return undefined;
    }
    // Only-what-changed types: a removed resource is simply no longer sent.
    for (const n of [...st.sent.keys()]) if (!desired.has(n)) st.sent.delete(n);
    if (changed) {
      const delta = new Map<string, EncodedResource>();
      for (const [n, r] of desired) if (st.sent.get(n)?.version !== r.version) delta.set(n, r);
      const sent = new Map(st.sent);
      for (const [n, r] of delta) sent.set(n, r);
      return this.respond(st, delta, sent);
    }
    st.forced = false;
    return undefined;
  }

  /** Full-state types whose resources were removed: the set without them. */
  removalOf(st: SotwTypeState): OutgoingResponse | undefined {
    if (!FULL_STATE_TYPES.has(st.typeUrl) || this.inSync(st)) return undefined;
    const desired = this.desired(st);
    if (st.forced || hasRemovals(st, desired)) return this.respond(st, desired, new Map(desired));
    return undefined;
  }

  /** Nothing owed: remember which type snapshots this stream is in sync with. */
  protected override caughtUp(ordered: readonly SotwTypeState[]): void {
    for (const st of ordered) st.synced = this.snapshot!.types.get(st.typeUrl) ?? NONE;
  }

  private respond(
    st: SotwTypeState,
    content: ReadonlyMap<string, EncodedResource>,
    nowSent: Map<string, EncodedResource>,
  ): OutgoingResponse {
    const { version, nonce } = this.stamp(st);
    const chunks: Buffer[] = [];
    for (const r of content.values()) chunks.push(r.sotwChunk);
    st.sent = nowSent;
    return {
      typeUrl: st.typeUrl,
      bytes: encodeDiscoveryResponse(version, chunks, st.typeUrl, nonce, this.ctx.controlPlaneSotw),
    };
  }
}

/** True when the stream was sent a resource that is no longer desired. */
function hasRemovals(st: SotwTypeState, desired: ReadonlyMap<string, EncodedResource>): boolean {
  for (const n of st.sent.keys()) if (!desired.has(n)) return true;
  return false;
}
