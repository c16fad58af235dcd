/**
 * What the sandbox's controllers share about objects: owner references (controller: true), label
 * selectors, pod readiness, and the pod-template-hash that names a Deployment's ReplicaSets.
 */
import type {
  KubernetesObject,
  V1LabelSelector,
  V1OwnerReference,
  V1Pod,
  V1PodTemplateSpec,
} from '@kubernetes/client-node';
import { matchesLabelSelector } from '../apiserver/index.js';

/** Label a Deployment adds to its ReplicaSets' selector and pods (`<deploy>-<hash>`). */
export const POD_TEMPLATE_HASH_LABEL = 'pod-template-hash';
/** Annotations of Deployments and their ReplicaSets kubectl reads (rollout history/undo). */
export const REVISION_ANNOTATION = 'deployment.kubernetes.io/revision';
export const DESIRED_REPLICAS_ANNOTATION = 'deployment.kubernetes.io/desired-replicas';
export const MAX_REPLICAS_ANNOTATION = 'deployment.kubernetes.io/max-replicas';

/** The controller reference of `owner` (controller: true, blockOwnerDeletion: true). */
export function controllerRef(owner: KubernetesObject, apiVersion: string, kind: string): V1OwnerReference {
  return {
    apiVersion,
    kind,
    name: owner.metadata!.name!,
    uid: owner.metadata!.uid!,
    controller: true,
    blockOwnerDeletion: true,
  };
}

/** True when `o`'s controller is the object with this uid. */
export function controlledBy(o: KubernetesObject, uid: string | undefined): boolean {
  return (o.metadata?.ownerReferences ?? []).some((r) => r.controller === true && r.uid === uid);
}

export function selectorMatches(
  sel: V1LabelSelector | undefined,
  labels: Record<string, string> | undefined,
) {
  // An absent selector selects nothing for workloads (validation requires one).
  return sel !== undefined && matchesLabelSelector(sel, labels);
}

export function podReady(p: V1Pod): boolean {
  return p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

/** Not being deleted and not finished: what a ReplicaSet counts. */
export function podActive(p: V1Pod): boolean {
  return !p.metadata?.deletionTimestamp && p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed';
}

/** The bcdf… alphabet of Kubernetes' rand.SafeEncodeString (no vowels, no confusable digits). */
const SAFE = 'bcdfghjklmnpqrstvwxz2456789';

/** FNV-1a, 32 bits. */
function fnv32a(text: string): number {
  let h = 0x811c9dc5;
  for (const b of Buffer.from(text, 'utf8')) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) {
      const x = (v as Record<string, unknown>)[k];
      if (x !== undefined) out[k] = canonical(x);
    }
    return out;
  }
  return v;
}

/**
 * The pod-template-hash of a template (without its own hash label), encoded as Kubernetes encodes
 * it: the decimal FNV-32a value with each digit mapped into the safe alphabet (`5d8f7c9b6`). Stable
 * for equal templates, so a Deployment finds the ReplicaSet of its current template again.
 */
export function podTemplateHash(template: V1PodTemplateSpec | undefined, collisionCount = 0): string {
  const t = structuredClone(template ?? {});
  if (t.metadata?.labels) delete t.metadata.labels[POD_TEMPLATE_HASH_LABEL];
  const digits = String(fnv32a(JSON.stringify(canonical(t)) + (collisionCount ? `/${collisionCount}` : '')));
  return [...digits].map((d) => SAFE[d.charCodeAt(0) % SAFE.length]).join('');
}

/** Same template, ignoring the hash label. */
export function sameTemplate(a: V1PodTemplateSpec | undefined, b: V1PodTemplateSpec | undefined): boolean {
  return podTemplateHash(a) === podTemplateHash(b);
}
