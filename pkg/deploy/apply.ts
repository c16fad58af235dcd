/**
 * Applies rendered objects through the Kubernetes API, idempotently: create when absent, nothing
 * when the live object already holds every rendered field ("unchanged"), else a JSON merge patch
 * ("configured"). Kinds the API server does not serve (found by discovery) are skipped with a
 * message instead of failing half-way. Annotations fsm owns (OWNED_ANNOTATIONS) that the rendered
 * object no longer carries are removed (a merge patch alone would keep them). Uninstall deletes the
 * webhook configuration first, so no pod admission is routed to an injector that is going away.
 */
import {
  KubernetesObjectApi,
  PatchStrategy,
  type KubeConfig,
  type KubernetesObject,
} from '@kubernetes/client-node';
import { CERT_MANAGER_INJECT_CA_FROM_ANNOTATION, FSM_FIELD_MANAGER } from '../constants/index.js';
import { describeObject } from './render.js';

export type ApplyAction = 'created' | 'configured' | 'unchanged' | 'skipped';
/** `not found` includes kinds the API server does not serve (no such object can exist). */
export type DeleteAction = 'deleted' | 'not found';

export interface ObjectResult<A extends string> {
  object: string;
  action: A;
  /** Why it was skipped or not found. */
  reason?: string;
}

/**
 * Annotations only fsm install writes: when the rendered object lacks one that the live object
 * still has (cert-manager → self-managed certificate), the patch removes it.
 */
export const OWNED_ANNOTATIONS: readonly string[] = [CERT_MANAGER_INJECT_CA_FROM_ANNOTATION];

/** Owned annotations on `live` that `want` does not carry. */
function annotationsToRemove(want: KubernetesObject, live: KubernetesObject): string[] {
  const have = live.metadata?.annotations ?? {};
  const keep = want.metadata?.annotations ?? {};
  return OWNED_ANNOTATIONS.filter((k) => k in have && !(k in keep));
}

/** The merge patch: the rendered object, plus `null` for each annotation to remove (RFC 7386). */
function mergePatchOf(o: KubernetesObject, remove: readonly string[]): KubernetesObject {
  if (remove.length === 0) return o;
  const annotations: Record<string, string | null> = { ...o.metadata?.annotations };
  for (const k of remove) annotations[k] = null;
  return { ...o, metadata: { ...o.metadata, annotations: annotations as Record<string, string> } };
}

/** KubernetesObjectApi plus a discovery question (`resource` is protected upstream). */
class DeployObjectApi extends KubernetesObjectApi {
  useContextNamespace(kc: KubeConfig): this {
    this.setDefaultNamespace(kc);
    return this;
  }

  async served(apiVersion: string, kind: string): Promise<boolean> {
    try {
      return (await this.resource(apiVersion, kind)) !== undefined;
    } catch {
      return false; // the group/version itself is not served (404 on discovery)
    }
  }
}

function objectApi(kc: KubeConfig): DeployObjectApi {
  return kc.makeApiClient(DeployObjectApi).useContextNamespace(kc);
}

function notServed(o: KubernetesObject): string {
  return `the API server does not serve ${o.kind ?? '?'} (${o.apiVersion ?? '?'})`;
}

function status(e: unknown): number | undefined {
  const code = (e as { code?: unknown }).code;
  return typeof code === 'number' ? code : undefined;
}

/** True when every field of `want` is present with the same value in `have` (arrays: same length). */
export function containsAll(want: unknown, have: unknown): boolean {
  if (Array.isArray(want)) {
    return (
      Array.isArray(have) && want.length === have.length && want.every((w, i) => containsAll(w, have[i]))
    );
  }
  if (want !== null && typeof want === 'object') {
    if (have === null || typeof have !== 'object' || Array.isArray(have)) return false;
    const h = have as Record<string, unknown>;
    return Object.entries(want as Record<string, unknown>).every(
      ([k, v]) => v === undefined || containsAll(v, h[k]),
    );
  }
  return want === have;
}

export async function readObject(kc: KubeConfig, o: KubernetesObject): Promise<KubernetesObject | undefined> {
  try {
    return await objectApi(kc).read({
      apiVersion: o.apiVersion!,
      kind: o.kind!,
      metadata: {
        name: o.metadata!.name!,
        ...(o.metadata?.namespace ? { namespace: o.metadata.namespace } : {}),
      },
    });
  } catch (e) {
    if (status(e) === 404) return undefined;
    throw e;
  }
}

export async function applyObjects(
  kc: KubeConfig,
  objects: readonly KubernetesObject[],
): Promise<ObjectResult<ApplyAction>[]> {
  const api = objectApi(kc);
  const out: ObjectResult<ApplyAction>[] = [];
  for (const o of objects) {
    const object = describeObject(o);
    if (!(await api.served(o.apiVersion!, o.kind!))) {
      out.push({ object, action: 'skipped', reason: notServed(o) });
      continue;
    }
    const live = await readObject(kc, o);
    if (live === undefined) {
      await api.create(o, undefined, undefined, FSM_FIELD_MANAGER);
      out.push({ object, action: 'created' });
      continue;
    }
    const remove = annotationsToRemove(o, live);
    if (remove.length === 0 && containsAll(o, live)) {
      out.push({ object, action: 'unchanged' });
    } else {
      const patch = mergePatchOf(o, remove);
      await api.patch(patch, undefined, undefined, FSM_FIELD_MANAGER, undefined, PatchStrategy.MergePatch);
      out.push({ object, action: 'configured' });
    }
  }
  return out;
}

/** Deletes the objects: MutatingWebhookConfigurations first, then the rest in reverse apply order. */
export async function deleteObjects(
  kc: KubeConfig,
  objects: readonly KubernetesObject[],
): Promise<ObjectResult<DeleteAction>[]> {
  const api = objectApi(kc);
  const webhooks = objects.filter((o) => o.kind === 'MutatingWebhookConfiguration');
  const rest = objects.filter((o) => o.kind !== 'MutatingWebhookConfiguration').reverse();
  const out: ObjectResult<DeleteAction>[] = [];
  for (const o of [...webhooks, ...rest]) {
    const object = describeObject(o);
    if (!(await api.served(o.apiVersion!, o.kind!))) {
      out.push({ object, action: 'not found', reason: notServed(o) });
      continue;
    }
    try {
      await api.delete(o, undefined, undefined, undefined, undefined, 'Background');
      out.push({ object, action: 'deleted' });
    } catch (e) {
      if (status(e) !== 404) throw e;
      out.push({ object, action: 'not found' });
    }
  }
  return out;
}

/** The kinds among `objects` that the API server does not serve, as `Kind (apiVersion)`, once each. */
export async function unservedKinds(kc: KubeConfig, objects: readonly KubernetesObject[]): Promise<string[]> {
  const api = objectApi(kc);
  const out: string[] = [];
  for (const o of objects) {
    const kind = `${o.kind ?? '?'} (${o.apiVersion ?? '?'})`;
    if (!out.includes(kind) && !(await api.served(o.apiVersion!, o.kind!))) out.push(kind);
  }
  return out;
}

/**
 * Deletes those of `objects` that exist and carry every `owner` label (leftovers of an earlier
 * install — never an object someone else created under the same name); reports only deletions.
 */
export async function pruneObjects(
  kc: KubeConfig,
  objects: readonly KubernetesObject[],
  owner: Record<string, string>,
): Promise<ObjectResult<DeleteAction>[]> {
  const api = objectApi(kc);
  const out: ObjectResult<DeleteAction>[] = [];
  for (const o of objects) {
    if (!(await api.served(o.apiVersion!, o.kind!))) continue;
    const live = await readObject(kc, o);
    const labels = live?.metadata?.labels ?? {};
    if (!live || !Object.entries(owner).every(([k, v]) => labels[k] === v)) continue;
    try {
      await api.delete(o, undefined, undefined, undefined, undefined, 'Background');
      out.push({ object: describeObject(o), action: 'deleted' });
    } catch (e) {
      if (status(e) !== 404) throw e;
    }
  }
  return out;
}
