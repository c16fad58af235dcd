/**
 * The order in which a stream's owed responses go out, the same for SotW and Delta (xDS
 * protocol, "eventual consistency considerations": make-before-break):
 * - additions and updates first, in XDS_PUSH_ORDER (CDS → EDS → LDS → RDS), so that a listener or
 *   route never names a cluster the proxy does not have yet;
 * - removals afterwards, in the reverse order (RDS → LDS → EDS → CDS), so that a cluster
 *   disappears only after the listeners and routes stopped using it;
 * - types outside XDS_PUSH_ORDER follow, in the order the stream first asked for them.
 * One response at a time: the write loop asks again after each write.
 */
import { XDS_PUSH_ORDER } from '../envoy/index.js';

/** The per-type steps of a protocol: what it owes for additions, and for removals, of one type. */
export interface PushSteps<T, R> {
  /** The addition/update response owed for `type`, if any. */
  additionOf(type: T): R | undefined;
  /** The removal response owed for `type`, if any (asked only when no addition is owed). */
  removalOf(type: T): R | undefined;
}

/** The stream's types in push order (see above). */
export function inPushOrder<T extends { readonly typeUrl: string }>(types: ReadonlyMap<string, T>): T[] {
  const out: T[] = [];
  for (const t of XDS_PUSH_ORDER) {
    const st = types.get(t);
    if (st) out.push(st);
  }
  for (const st of types.values()) if (!XDS_PUSH_ORDER.includes(st.typeUrl)) out.push(st);
  return out;
}

/** The next response owed: the first addition in order, else the first removal in reverse order. */
export function nextInPushOrder<T, R>(ordered: readonly T[], steps: PushSteps<T, R>): R | undefined {
  for (const t of ordered) {
    const out = steps.additionOf(t);
    if (out !== undefined) return out;
  }
  for (let i = ordered.length - 1; i >= 0; i--) {
    const out = steps.removalOf(ordered[i]!);
    if (out !== undefined) return out;
  }
  return undefined;
}
