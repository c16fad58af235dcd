/**
 * One incremental ADS stream (DeltaAggregatedResources):
 * - resource_names_subscribe / resource_names_unsubscribe change the subscription; a type's first
 *   request with no names is a (legacy) wildcard, `*` subscribes and unsubscribes the wildcard;
 * - initial_resource_versions (first request of a type) say what the client already has, so
 *   unchanged resources are not resent after a reconnect;
 * - each resource carries its own version (content hash); a response carries only resources the
 *   client does not have at that version, and removed_resources for those it has that are gone;
 * - every response has a fresh nonce; ACK / NACK are decided by response_nonce + error_detail;
 *   a NACK is logged and counted and the same content is not resent;
 * - additions and updates go CDS → EDS → LDS → RDS, removals afterwards in reverse order.
 */
import { XDS_PUSH_ORDER, shortTypeName } from '../envoy/index.js';
import { XDS_WILDCARD } from '../constants/index.js';
import { typeResources, typeVersion } from './cache.js';
import { AdsStream, type OutgoingResponse } from './stream.js';
import { encodeDeltaDiscoveryResponse, type DeltaDiscoveryRequestMsg } from './wire.js';

export interface DeltaTypeState {
  readonly typeUrl: string;
  wildcard: boolean;
  names: Set<string>;
  /** What the client holds (or was sent), name → version. */
  known: Map<string, string>;
  nonce: string | undefined;
  /** The first response is owed even when empty. */
  forced: boolean;
  nacked: { version: string; message: string } | undefined;
}

export class DeltaStream extends AdsStream<DeltaDiscoveryRequestMsg> {
  readonly types = new Map<string, DeltaTypeState>();

  protected onRequest(req: DeltaDiscoveryRequestMsg): void {
    const typeUrl = req.type_url;
    let st = this.types.get(typeUrl);
    const first = !st;
    if (!st) {
      st = {
        typeUrl,
        wildcard: false,
        names: new Set(),
        known: new Map(Object.entries(req.initial_resource_versions)),
        nonce: undefined,
        forced: true,
        nacked: undefined,
      };
      this.types.set(typeUrl, st);
      if (req.resource_names_subscribe.length === 0) st.wildcard = true;
    }
    if (!first && req.response_nonce !== '' && req.response_nonce === st.nonce) {
      const type = shortTypeName(typeUrl);
      if (req.error_detail) {
        st.nacked = { version: typeVersion(this.snapshot, typeUrl), message: req.error_detail.message };
        this.ctx.metrics.nack(type, 'delta');
        this.log.warn('NACK', {
          node: this.nodeId,
          type,
          nonce: req.response_nonce,
          error: req.error_detail.message,
        });
      } else {
        this.ctx.metrics.ack(type, 'delta');
      }
    }
    for (const n of req.resource_names_subscribe) {
      if (n === XDS_WILDCARD) st.wildcard = true;
      else st.names.add(n);
    }
    for (const n of req.resource_names_unsubscribe) {
      if (n === XDS_WILDCARD) {
        st.wildcard = false;
        for (const k of [...st.known.keys()]) if (!st.names.has(k)) st.known.delete(k);
      } else {
        st.names.delete(n);
        if (!st.wildcard) st.known.delete(n);
      }
    }
  }

  protected onSnapshot(): void {
    // nextResponse() diffs against `known`.
  }

  private subscribed(st: DeltaTypeState, name: string): boolean {
    return st.wildcard || st.names.has(name);
  }

  private orderedTypes(): DeltaTypeState[] {
    const out: DeltaTypeState[] = [];
    for (const t of XDS_PUSH_ORDER) {
      const st = this.types.get(t);
      if (st) out.push(st);
    }
    for (const st of this.types.values()) if (!XDS_PUSH_ORDER.includes(st.typeUrl)) out.push(st);
    return out;
  }

  protected nextResponse(): OutgoingResponse | undefined {
    if (!this.snapshot) return undefined;
    const ordered = this.orderedTypes();
    // Phase A: additions / updates, forward order.
    for (const st of ordered) {
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
    }
    // Phase B: removals, reverse order.
    for (let i = ordered.length - 1; i >= 0; i--) {
      const st = ordered[i]!;
      if (this.hasRemovals(st)) {
        const all = typeResources(this.snapshot, st.typeUrl);
        const removed: string[] = [];
        for (const n of [...st.known.keys()]) {
          if (!all.has(n) && this.subscribed(st, n)) {
            removed.push(n);
            st.known.delete(n);
          }
        }
        return this.respond(st, [], removed);
      }
    }
    return undefined;
  }

  private hasRemovals(st: DeltaTypeState): boolean {
    const all = typeResources(this.snapshot, st.typeUrl);
    for (const n of st.known.keys()) if (!all.has(n) && this.subscribed(st, n)) return true;
    return false;
  }

  private respond(st: DeltaTypeState, chunks: Buffer[], removed: string[]): OutgoingResponse {
    const nonce = this.freshNonce();
    st.nonce = nonce;
    st.forced = false;
    return {
      typeUrl: st.typeUrl,
      bytes: encodeDeltaDiscoveryResponse(
        typeVersion(this.snapshot, st.typeUrl),
        chunks,
        st.typeUrl,
        removed,
        nonce,
        this.ctx.controlPlaneDelta,
      ),
    };
  }
}
