/**
 * The three patch types of the Kubernetes API, applied to plain JSON objects:
 * - JSON merge patch (RFC 7386, application/merge-patch+json);
 * - strategic merge patch (application/strategic-merge-patch+json): lists with a merge key are merged
 *   element by element, `$patch: delete|replace|merge`, `$retainKeys`, `$deleteFromPrimitiveList/<f>`,
 *   `$setElementOrder/<f>` (what kubectl apply and kubectl label send);
 * - JSON patch (RFC 6902, application/json-patch+json) through fast-json-patch.
 * Pure functions: the input objects are never modified.
 */
import fastJsonPatch from 'fast-json-patch';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type JsonObject = { [k: string]: Json };

export class PatchError extends Error {}

function isObject(v: unknown): v is JsonObject {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function clone<T>(v: T): T {
  return v === undefined ? v : (structuredClone(v) as T);
}

export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return clone(patch);
  const out: JsonObject = isObject(target) ? { ...(target as JsonObject) } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v) as Json;
  }
  return out;
}

/**
 * Merge keys of the lists Kubernetes merges element by element, by field name and, where the same
 * name has two meanings, the parent field. Lists not named here are replaced as a whole.
 */
function mergeKeyFor(path: readonly string[], field: string): string | undefined {
  const parent = path[path.length - 1];
  switch (field) {
    case 'containers':
    case 'initContainers':
    case 'ephemeralContainers':
    case 'volumes':
    case 'imagePullSecrets':
    case 'env':
    case 'webhooks':
    case 'secrets':
    case 'readinessGates':
      return field === 'readinessGates' ? 'conditionType' : 'name';
    case 'volumeMounts':
      return 'mountPath';
    case 'volumeDevices':
      return 'devicePath';
    case 'hostAliases':
      return 'ip';
    case 'conditions':
      return 'type';
    case 'ownerReferences':
      return 'uid';
    case 'ports':
      // Service ports merge by port, container ports by containerPort.
      return parent === 'spec' && !path.includes('template') ? 'port' : 'containerPort';
    case 'containerStatuses':
    case 'initContainerStatuses':
      return 'name';
    default:
      return undefined;
  }
}

/** Primitive lists with patchStrategy merge (union). */
function isMergedPrimitiveList(field: string): boolean {
  return field === 'finalizers';
}

export function strategicMergePatch(target: unknown, patch: unknown): unknown {
  return smpValue(target, patch, []);
}

function smpValue(target: unknown, patch: unknown, path: string[]): unknown {
  if (!isObject(patch)) return clone(patch);
  return smpObject(isObject(target) ? target : {}, patch, path);
}

function smpObject(target: JsonObject, patch: JsonObject, path: string[]): JsonObject {
  const directive = patch['$patch'];
  if (directive === 'replace') {
    const rest = { ...patch };
    delete rest['$patch'];
    return clone(rest);
  }
  if (directive === 'delete') return {};
  let out: JsonObject = { ...target };
  const retain = patch['$retainKeys'];
  if (Array.isArray(retain)) {
    const keep = new Set(retain.map(String));
    out = Object.fromEntries(Object.entries(out).filter(([k]) => keep.has(k))) as JsonObject;
  }
  for (const [k, v] of Object.entries(patch)) {
    if (k === '$patch' || k === '$retainKeys') continue;
    if (k.startsWith('$setElementOrder/')) continue;
    if (k.startsWith('$deleteFromPrimitiveList/')) {
      const field = k.slice('$deleteFromPrimitiveList/'.length);
      const cur = out[field];
      if (Array.isArray(cur) && Array.isArray(v)) {
        const remove = new Set(v.map((x) => JSON.stringify(x)));
        out[field] = cur.filter((x) => !remove.has(JSON.stringify(x)));
      }
      continue;
    }
    if (v === null) {
      delete out[k];
      continue;
    }
    if (Array.isArray(v)) {
      out[k] = smpList(out[k], v, [...path], k) as Json;
      continue;
    }
    out[k] = smpValue(out[k], v, [...path, k]) as Json;
  }
  return out;
}

function smpList(target: unknown, patch: Json[], path: string[], field: string): Json[] {
  const cur = Array.isArray(target) ? target : [];
  if (isMergedPrimitiveList(field)) {
    const seen = new Set(cur.map((x) => JSON.stringify(x)));
    const out = [...cur];
    for (const x of patch) if (!seen.has(JSON.stringify(x))) out.push(x);
    return out;
  }
  const key = mergeKeyFor(path, field);
  if (!key) {
    // Atomic list, unless the patch asks for replace explicitly (same outcome).
    return clone(
      patch.filter((x) => !(isObject(x) && x['$patch'] === 'replace' && Object.keys(x).length === 1)),
    );
  }
  if (patch.some((x) => isObject(x) && x['$patch'] === 'replace')) {
    return clone(patch.filter((x) => !(isObject(x) && x['$patch'] === 'replace')));
  }
  const out: Json[] = cur.map((x) => x);
  for (const item of patch) {
    if (!isObject(item)) {
      throw new PatchError(`strategic merge patch: ${field} items must be objects with key "${key}"`);
    }
    const kv = item[key];
    const idx = out.findIndex((x) => isObject(x) && JSON.stringify(x[key]) === JSON.stringify(kv));
    if (item['$patch'] === 'delete') {
      if (idx >= 0) out.splice(idx, 1);
      continue;
    }
    if (idx >= 0) out[idx] = smpObject(out[idx] as JsonObject, item, [...path, field]);
    else {
      const fresh = smpObject({}, item, [...path, field]);
      out.push(fresh);
    }
  }
  return out;
}

export interface JsonPatchOperation {
  op: string;
  path: string;
  value?: unknown;
  from?: string;
}

export function jsonPatch(target: unknown, ops: unknown): unknown {
  if (!Array.isArray(ops)) throw new PatchError('json patch: the body must be a JSON array of operations');
  const err = fastJsonPatch.validate(ops as fastJsonPatch.Operation[], clone(target));
  if (err) throw new PatchError(`json patch: ${err.name}: ${err.message.split('\n')[0]}`);
  try {
    return fastJsonPatch.applyPatch(clone(target), ops as fastJsonPatch.Operation[], false, false)
      .newDocument;
  } catch (e) {
    throw new PatchError(`json patch: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
  }
}

export const PATCH_CONTENT_TYPES = {
  json: 'application/json-patch+json',
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  apply: 'application/apply-patch+yaml',
} as const;

/** Applies a patch body given its Content-Type; throws PatchError on bad input. */
export function applyPatch(contentType: string, target: unknown, patch: unknown): unknown {
  const ct = contentType.split(';')[0]!.trim().toLowerCase();
  switch (ct) {
    case PATCH_CONTENT_TYPES.json:
      return jsonPatch(target, patch);
    case PATCH_CONTENT_TYPES.merge:
      if (!isObject(patch)) throw new PatchError('merge patch: the body must be a JSON object');
      return mergePatch(target, patch);
    case PATCH_CONTENT_TYPES.strategic:
      if (!isObject(patch)) throw new PatchError('strategic merge patch: the body must be a JSON object');
      return strategicMergePatch(target, patch);
    default:
      throw new PatchError(`unsupported patch type: ${contentType}`);
  }
}
