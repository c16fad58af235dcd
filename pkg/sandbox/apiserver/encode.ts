/**
 * JSON encoding of stored objects, memoized per stored version: stored objects are never modified
 * in place, so one object's JSON serves every list page and every watch that carries it (a list of
 * 50,000 pods or a fan-out to many watchers then costs one stringify per object version).
 */
import type { KubeObject } from './store.js';

const bodies = new WeakMap<KubeObject, string>();

/** JSON of the object without kind/apiVersion, as list items are sent (memoized). */
export function itemJson(o: KubeObject): string {
  let s = bodies.get(o);
  if (s === undefined) {
    const { kind: _k, apiVersion: _a, ...rest } = o;
    void _k;
    void _a;
    s = JSON.stringify(rest);
    bodies.set(o, s);
  }
  return s;
}

/** JSON of the object with its kind and apiVersion first (get and watch events). */
export function objectJson(o: KubeObject, kind: string, apiVersion: string): string {
  const body = itemJson(o);
  const head = `{"kind":${JSON.stringify(kind)},"apiVersion":${JSON.stringify(apiVersion)}`;
  return body === '{}' ? `${head}}` : `${head},${body.slice(1)}`;
}

/** A list document assembled from memoized items. */
export function listJson(
  kind: string,
  apiVersion: string,
  metadata: Record<string, unknown>,
  items: readonly KubeObject[],
): string {
  return `{"kind":${JSON.stringify(kind)},"apiVersion":${JSON.stringify(apiVersion)},"metadata":${JSON.stringify(metadata)},"items":[${items.map(itemJson).join(',')}]}`;
}
