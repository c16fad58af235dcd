/**
 * One State-of-the-World ADS stream (StreamAggregatedResources). Protocol rules:
 * - version_info and nonce per type URL; every response carries a fresh nonce;
 * - a request whose response_nonce is our latest nonce of that type is an ACK, or a NACK when
 *   error_detail is set (never decided by comparing versions). A NACK is logged and counted and
 *   nothing is resent until the desired resources change;
 * - a stale nonce still updates the subscription, but is neither ACK nor NACK;
 * - subscriptions: `*` (explicit wildcard), legacy wildcard (empty names on the first request, kept
 *   while later requests stay empty), named; an empty list after names means nothing;
 * - Listener and Cluster responses carry the full subscribed set; RouteConfiguration and
 *   ClusterLoadAssignment responses carry only what the stream has not been sent;
 * - additions are pushed CDS → EDS → LDS → RDS, removals afterwards in reverse order (a removed
 *   cluster disappears only after the listeners stopped using it);
 * - a type's first request on the stream, a subscription change or a changed subscribed resource
 *   cause a push; ACKs and NACKs never do.
 */
import { CLUSTER_TYPE_URL, LISTENER_TYPE_URL, XDS_PUSH_ORDER, shortTypeName } from '../envoy/index.js';
import { XDS_WILDCARD } from '../constants/index.js';
import { typeResources, typeVersion } from './cache.js';
import type { EncodedResource } from './resources.js';
import { AdsStream, type OutgoingResponse } from './stream.js';
import { encodeDiscoveryResponse, type DiscoveryRequestMsg } from './wire.js';

/** Types whose SotW responses must always carry every subscribed resource. */
export const FULL_STATE_TYPES: ReadonlySet<string> = new Set([LISTENER_TYPE_URL, CLUSTER_TYPE_URL]);

/** Per type URL state of a SotW stream (exported for tests and debug). */
export interface SotwTypeState {
  readonly typeUrl: string;
  /** Subscribed to every resource (explicit `*` or legacy wildcard). */
  wildcard: boolean;
  /** Legacy wildcard: first request had no names, and no request since had any. */
  legacyWildcard: boolean;
  names: Set<string>;
  /** What this stream was last sent, per resource name (what the client holds or rejected). */
  sent: Map<string, EncodedResource>;
  /** version_info and nonce of the latest response. */
  version: string | undefined;
  nonce: string | undefined;
  /** A response is owed whatever the diff (first request, subscription change). */
  forced: boolean;
  ackedVersion: string | undefined;
  nacked: { version: string; message: string } | undefined;
  /** The snapshot's TypeSnapshot (or NONE) this type was last found fully in sync with. */
  synced: unknown;
}

/** Marker for "the snapshot has no resources of this type". */
const NONE = Symbol('none');

function sameSet(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  if (a.size !== b.size) return false;
  for (const x of a) if (!b.has(x)) return false;
  return true;
}

export class SotwStream extends AdsStream<DiscoveryRequestMsg> {
  readonly types = new Map<string, SotwTypeState>();

  protected onRequest(req: DiscoveryRequestMsg): void {
    const typeUrl = req.type_url;
    let st = this.types.get(typeUrl);
    const first = !st;
    if (!st) {
      st = {
        typeUrl,
        wildcard: false,
        legacyWildcard: false,
        names: new Set(),
        sent: new Map(),
        version: undefined,
        nonce: undefined,
        forced: true,
        ackedVersion: undefined,
        nacked: undefined,
        synced: undefined,
      };
      this.types.set(typeUrl, st);
      this.ordered = undefined;
    }

    // ACK / NACK: only a request answering our latest nonce of this type.
    if (!first && req.response_nonce !== '' && req.response_nonce === st.nonce) {
      const type = shortTypeName(typeUrl);
      if (req.error_detail) {
        st.nacked = { version: st.version ?? '', message: req.error_detail.message };
        this.ctx.metrics.nack(type, 'sotw');
        this.log.warn('NACK', {
          node: this.nodeId,
          type,
          version: st.version,
          nonce: req.response_nonce,
          error: req.error_detail.message,
        });
      } else {
        st.ackedVersion = req.version_info;
        this.ctx.metrics.ack(type, 'sotw');
      }
    }
    // Subscription (applies to stale nonces too).
    if (this.updateSubscription(st, req.resource_names, first)) st.forced = true;
  }

  /** Returns true when the subscription changed. */
  private updateSubscription(st: SotwTypeState, names: readonly string[], first: boolean): boolean {
    if (first) {
      if (names.length === 0) {
        st.legacyWildcard = true;
        st.wildcard = true;
      } else {
        st.wildcard = names.includes(XDS_WILDCARD);
        st.names = new Set(names.filter((n) => n !== XDS_WILDCARD));
      }
      return true;
    }
    if (st.legacyWildcard && names.length === 0) return false;
    const wildcard = names.includes(XDS_WILDCARD);
    const set = new Set(names.filter((n) => n !== XDS_WILDCARD));
    const changed = st.legacyWildcard || wildcard !== st.wildcard || !sameSet(set, st.names);
    st.legacyWildcard = false;
    st.wildcard = wildcard;
    st.names = set;
    if (changed) {
      for (const name of [...st.sent.keys()]) if (!this.subscribed(st, name)) st.sent.delete(name);
    }
    return changed;
  }

  private subscribed(st: SotwTypeState, name: string): boolean {
    return st.wildcard || st.names.has(name);
  }

  protected onSnapshot(): void {
    // Nothing to mark: nextResponse() diffs every type against what was sent.
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

  private ordered: SotwTypeState[] | undefined;

  private orderedTypes(): SotwTypeState[] {
    if (this.ordered) return this.ordered;
    const out: SotwTypeState[] = [];
    for (const t of XDS_PUSH_ORDER) {
      const st = this.types.get(t);
      if (st) out.push(st);
    }
    for (const st of this.types.values()) if (!XDS_PUSH_ORDER.includes(st.typeUrl)) out.push(st);
    this.ordered = out;
    return out;
  }

  /** True when nothing can be owed for this type: same type snapshot as when last in sync. */
  private inSync(st: SotwTypeState): boolean {
    return !st.forced && st.synced === (this.snapshot!.types.get(st.typeUrl) ?? NONE);
  }

  protected nextResponse(): OutgoingResponse | undefined {
    if (!this.snapshot) return undefined;
    const ordered = this.orderedTypes();
    // Phase A, forward order: additions and updates (removed resources still kept).
    for (const st of ordered) {
      if (this.inSync(st)) continue;
      const desired = this.desired(st);
      const full = FULL_STATE_TYPES.has(st.typeUrl);
      let changed = false;
      for (const [n, r] of desired) {
        if (st.sent.get(n) !== r && st.sent.get(n)?.version !== r.version) {
          changed = true;
          break;
        }
      }
      if (full) {
        let removals = false;
        for (const n of st.sent.keys()) if (!desired.has(n)) removals = true;
        if (changed || (st.forced && !removals)) {
          const content = new Map(desired);
          for (const [n, r] of st.sent) if (!content.has(n)) content.set(n, r);
          return this.respond(st, content, content);
        }
      } else {
        for (const n of [...st.sent.keys()]) if (!desired.has(n)) st.sent.delete(n);
        if (changed) {
          const delta = new Map<string, EncodedResource>();
          for (const [n, r] of desired) if (st.sent.get(n)?.version !== r.version) delta.set(n, r);
          const sent = new Map(st.sent);
          for (const [n, r] of delta) sent.set(n, r);
          return this.respond(st, delta, sent);
        }
        st.forced = false;
      }
    }
    // Phase B, reverse order: full-state types whose resources were removed.
    for (let i = ordered.length - 1; i >= 0; i--) {
      const st = ordered[i]!;
      if (!FULL_STATE_TYPES.has(st.typeUrl) || this.inSync(st)) continue;
      const desired = this.desired(st);
      let removals = false;
      for (const n of st.sent.keys()) if (!desired.has(n)) removals = true;
      if (removals || st.forced) return this.respond(st, desired, new Map(desired));
    }
    // Nothing owed: remember which type snapshots this stream is in sync with.
    for (const st of ordered) st.synced = this.snapshot.types.get(st.typeUrl) ?? NONE;
    return undefined;
  }

  private respond(
    st: SotwTypeState,
    content: ReadonlyMap<string, EncodedResource>,
    nowSent: Map<string, EncodedResource>,
  ): OutgoingResponse {
    const version = typeVersion(this.snapshot, st.typeUrl);
    const nonce = this.freshNonce();
    const chunks: Buffer[] = [];
    for (const r of content.values()) chunks.push(r.sotwChunk);
    st.sent = nowSent;
    st.version = version;
    st.nonce = nonce;
    st.forced = false;
    return {
      typeUrl: st.typeUrl,
      bytes: encodeDiscoveryResponse(version, chunks, st.typeUrl, nonce, this.ctx.controlPlaneSotw),
    };
  }
}
