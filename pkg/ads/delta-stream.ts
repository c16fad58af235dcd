/**
 * One incremental ADS stream (DeltaAggregatedResources). What it shares with SotW lives in
 * stream.ts (request kinds, ACK / NACK, push order, write loop) and subscription.ts (wildcard and
 * legacy wildcard). Delta's own rules:
 * - resource_names_subscribe / resource_names_unsubscribe change the subscription; what the
 *   client held of an unsubscribed name is forgotten;
 * - initial_resource_versions (first request of a type) say what the client already has, so
 *   unchanged resources are not resent after a reconnect;
 * - each resource carries its own version (content hash); a response carries only resources the
 *   client does not have at that version, and removed_resources for those it has that are gone;
 * - a NACK is logged and counted and the same content is not resent.
 */
import { XDS_WILDCARD } from '../constants/index.js';
import { typeResources } from './cache.js';
import { AdsStream, TypeState, type OutgoingResponse } from './stream.js';
import { encodeDeltaDiscoveryResponse, type DeltaDiscoveryRequestMsg } from './wire.js';

/** Per type URL state of a Delta stream (exported for tests and debug). */
export class DeltaTypeState extends TypeState {
  /** What the client holds (or was sent), name → version. */
  known: Map<string, string>;

  constructor(typeUrl: string, initialVersions: Record<string, string>) {
    super(typeUrl);
    this.known = new Map(Object.entries(initialVersions));
  }
}

export class DeltaStream extends AdsStream<DeltaDiscoveryRequestMsg, DeltaTypeState> {
  protected newTypeState(req: DeltaDiscoveryRequestMsg): DeltaTypeState {
    return new DeltaTypeState(req.type_url, req.initial_resource_versions);
  }

  /** Delta: the running set plus what this request adds (and the versions it says it holds). */
  protected namesAfter(st: DeltaTypeState | undefined, req: DeltaDiscoveryRequestMsg): number {
    const initial = st ? 0 : Object.keys(req.initial_resource_versions).length;
    return (st?.names.size ?? 0) + req.resource_names_subscribe.length + initial;
  }

  protected subscribe(st: DeltaTypeState, req: DeltaDiscoveryRequestMsg, first: boolean): void {
    st.change(req.resource_names_subscribe, req.resource_names_unsubscribe, first, (name) => {
      if (name === XDS_WILDCARD) st.retainSubscribed(st.known);
      else if (!st.has(name)) st.known.delete(name);
    });
  }

  /** Resources the client does not have at their current version. */
  additionOf(st: DeltaTypeState): OutgoingResponse | undefined {
    const all = typeResources(this.snapshot, st.typeUrl);
    const chunks: Buffer[] = [];
    const names = st.wildcard ? all.keys() : st.names.values();
    for (const n of names) {
      const r = all.get(n);
      if (r && st.known.get(n) !== r.version) {
        chunks.push(r.deltaChunk());
        st.known.set(n, r.version);
      }
    }
    if (chunks.length > 0 || (st.forced && !this.hasRemovals(st))) return this.respond(st, chunks, []);
    return undefined;
  }

  /** Subscribed resources the client has that are gone from the snapshot. */
  removalOf(st: DeltaTypeState): OutgoingResponse | undefined {
    if (!this.hasRemovals(st)) return undefined;
    const all = typeResources(this.snapshot, st.typeUrl);
    const removed: string[] = [];
    for (const n of [...st.known.keys()]) {
      if (!all.has(n) && st.has(n)) {
        removed.push(n);
        st.known.delete(n);
      }
    }
    return this.respond(st, [], removed);
  }

  private hasRemovals(st: DeltaTypeState): boolean {
    const all = typeResources(this.snapshot, st.typeUrl);
    for (const n of st.known.keys()) if (!all.has(n) && st.has(n)) return true;
    return false;
  }

  private respond(st: DeltaTypeState, chunks: Buffer[], removed: string[]): OutgoingResponse {
    const { version, nonce } = this.stamp(st);
    return {
      typeUrl: st.typeUrl,
      bytes: encodeDeltaDiscoveryResponse(
        version,
        chunks,
        st.typeUrl,
        removed,
        nonce,
        this.ctx.controlPlaneDelta,
      ),
    };
  }
}
