/**
 * What one stream subscribes to for one type URL, shared by SotW and Delta. The rules follow the
 * xDS protocol document (envoy docs/root/api-docs/xds_protocol.rst), section "How the client
 * specifies what resources to return":
 *
 * - Named: the client lists the names it wants; only those are sent.
 * - Wildcard: subscribing to the special name `*` means every resource of the type.
 * - Legacy wildcard: "if the client sends a request for a given resource type but has never
 *   explicitly subscribed to any resource names (in SotW, all requests on the stream for that
 *   resource type have had an empty resource_names; in incremental, never a non-empty
 *   resource_names_subscribe), the server should treat that identically to `*`". Once the client
 *   explicitly subscribes to any name (`*` included) the legacy semantic is gone for the stream:
 *   - SotW: resource_names is the whole subscription each time, so names without `*` end the
 *     wildcard, and a later empty list means "nothing", not "everything";
 *   - Delta: subscribe / unsubscribe are changes, so a legacy wildcard stays until `*` is
 *     unsubscribed, and an empty set after unsubscribing is not a wildcard either.
 */
import { XDS_WILDCARD } from '../constants/index.js';

function sameSet(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  if (a.size !== b.size) return false;
  for (const x of a) if (!b.has(x)) return false;
  return true;
}

function namesWithoutWildcard(names: readonly string[]): Set<string> {
  const out = new Set<string>();
  for (const n of names) if (n !== XDS_WILDCARD) out.add(n);
  return out;
}

export class Subscription {
  /** Subscribed to every resource (explicit `*` or legacy wildcard). */
  wildcard = false;
  /** Legacy wildcard: no name was ever subscribed explicitly on this stream for this type. */
  legacyWildcard = false;
  /** Explicitly subscribed names (never `*`). */
  names = new Set<string>();

  /** True when `name` is subscribed (by name or by wildcard). */
  has(name: string): boolean {
    return this.wildcard || this.names.has(name);
  }

  /**
   * SotW: the request's resource_names replace the subscription. `first` is the type's first
   * request on the stream. Returns true when the subscription changed (a first request always
   * does); a legacy wildcard stays as long as the lists stay empty.
   */
  replace(resourceNames: readonly string[], first: boolean): boolean {
    if (first) {
      if (resourceNames.length === 0) {
        this.legacyWildcard = true;
        this.wildcard = true;
      } else {
        this.wildcard = resourceNames.includes(XDS_WILDCARD);
        this.names = namesWithoutWildcard(resourceNames);
      }
      return true;
    }
    if (this.legacyWildcard && resourceNames.length === 0) return false;
    const wildcard = resourceNames.includes(XDS_WILDCARD);
    const names = namesWithoutWildcard(resourceNames);
    const changed = this.legacyWildcard || wildcard !== this.wildcard || !sameSet(names, this.names);
    this.legacyWildcard = false;
    this.wildcard = wildcard;
    this.names = names;
    return changed;
  }

  /**
   * Delta: applies resource_names_subscribe, then resource_names_unsubscribe, in order.
   * `released` is called after each unsubscription with the name (or `*`), so the caller can
   * forget what the client held of it (see retainSubscribed).
   */
  change(
    subscribe: readonly string[],
    unsubscribe: readonly string[],
    first: boolean,
    released?: (name: string) => void,
  ): void {
    if (first && subscribe.length === 0) {
      this.legacyWildcard = true;
      this.wildcard = true;
    }
    if (subscribe.length > 0) this.legacyWildcard = false;
    for (const n of subscribe) {
      if (n === XDS_WILDCARD) this.wildcard = true;
      else this.names.add(n);
    }
    for (const n of unsubscribe) {
      if (n === XDS_WILDCARD) {
        this.wildcard = false;
        this.legacyWildcard = false;
      } else {
        this.names.delete(n);
      }
      released?.(n);
    }
  }

  /** Deletes from `byName` every entry this subscription no longer covers. */
  retainSubscribed(byName: Map<string, unknown>): void {
    if (this.wildcard) return;
    for (const name of [...byName.keys()]) if (!this.names.has(name)) byName.delete(name);
  }
}
