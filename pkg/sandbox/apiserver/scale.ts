/**
 * The scale subresource (`deployments/<name>/scale`, `replicasets/<name>/scale`): an autoscaling/v1
 * Scale view of a workload, as `kubectl scale` reads and patches it. Only spec.replicas can change
 * through it; status.selector is the label selector in its string form.
 */
import type { KubeObject } from './store.js';
import { badRequest } from './status.js';
import { isObj } from './objects.js';

type O = Record<string, unknown>;

/** `app=x,tier in (a,b)`: metav1.LabelSelector as a selector string. */
export function selectorString(sel: unknown): string {
  if (!isObj(sel)) return '';
  const parts: string[] = [];
  const ml = isObj(sel['matchLabels']) ? sel['matchLabels'] : {};
  for (const [k, v] of Object.entries(ml)) parts.push(`${k}=${String(v)}`);
  const exprs = Array.isArray(sel['matchExpressions']) ? (sel['matchExpressions'] as O[]) : [];
  for (const e of exprs) {
    const values = Array.isArray(e['values']) ? (e['values'] as string[]) : [];
    switch (e['operator']) {
      case 'In':
        parts.push(`${String(e['key'])} in (${values.join(',')})`);
        break;
      case 'NotIn':
        parts.push(`${String(e['key'])} notin (${values.join(',')})`);
        break;
      case 'Exists':
        parts.push(String(e['key']));
        break;
      case 'DoesNotExist':
        parts.push(`!${String(e['key'])}`);
        break;
    }
  }
  return parts.join(',');
}

/** The Scale of a workload. */
export function toScale(o: KubeObject): O {
  const spec = isObj(o['spec']) ? o['spec'] : {};
  const status = isObj(o['status']) ? o['status'] : {};
  const md = o.metadata;
  return {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: {
      name: md.name,
      namespace: md.namespace,
      uid: md['uid'],
      resourceVersion: md.resourceVersion,
      creationTimestamp: md['creationTimestamp'],
    },
    spec: { replicas: Number(spec['replicas'] ?? 0) },
    status: { replicas: Number(status['replicas'] ?? 0), selector: selectorString(spec['selector']) },
  };
}

/** The workload with the replicas of a (patched or sent) Scale; 400 naming the field when it is not a count. */
export function withScale(prev: KubeObject, scale: unknown): O {
  const spec = isObj(scale) && isObj(scale['spec']) ? scale['spec'] : {};
  const replicas = spec['replicas'];
  if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0) {
    throw badRequest(
      `Scale.spec.replicas: Invalid value: ${JSON.stringify(replicas ?? null)}: must be a non-negative integer`,
    );
  }
  const md = isObj(scale) && isObj(scale['metadata']) ? scale['metadata'] : {};
  const next = structuredClone(prev) as O;
  next['spec'] = { ...(isObj(prev['spec']) ? prev['spec'] : {}), replicas };
  // A resourceVersion sent with the Scale is a precondition on the workload.
  (next['metadata'] as O)['resourceVersion'] = md['resourceVersion'] ?? prev.metadata.resourceVersion;
  return next;
}
