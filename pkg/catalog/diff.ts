/** What changed between a proxy's previous and desired resources (by name, compared by content). */
import { isDeepStrictEqual } from 'node:util';
import type { ProxyResources } from '../envoy/builders/index.js';

export interface NamedDiff {
  added: string[];
  removed: string[];
  updated: string[];
}

export interface ResourcesDiff {
  /** False when nothing differs: no push is needed. */
  changed: boolean;
  listeners: NamedDiff;
  clusters: NamedDiff;
}

function diffNamed<T extends { name: string }>(prev: readonly T[], next: readonly T[]): NamedDiff {
  const before = new Map(prev.map((r) => [r.name, r]));
  const after = new Map(next.map((r) => [r.name, r]));
  const out: NamedDiff = { added: [], removed: [], updated: [] };
  for (const [name, r] of after) {
    const old = before.get(name);
    if (old === undefined) out.added.push(name);
    else if (!isDeepStrictEqual(old, r)) out.updated.push(name);
  }
  for (const name of before.keys()) if (!after.has(name)) out.removed.push(name);
  out.added.sort();
  out.removed.sort();
  out.updated.sort();
  return out;
}

/** `previous` undefined (a new proxy) makes everything `added`. */
export function diffResources(previous: ProxyResources | undefined, desired: ProxyResources): ResourcesDiff {
  const listeners = diffNamed(previous?.listeners ?? [], desired.listeners);
  const clusters = diffNamed(previous?.clusters ?? [], desired.clusters);
  const changed = [listeners, clusters].some((d) => d.added.length + d.removed.length + d.updated.length > 0);
  return { changed, listeners, clusters };
}
