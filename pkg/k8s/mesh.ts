/**
 * Mesh membership: a namespace belongs to mesh M when it carries `flomesh.io/monitored-by=M` and
 * not `flomesh.io/ignore` (any value). Pure functions over namespace objects.
 */
import type { V1Namespace } from '@kubernetes/client-node';
import { IGNORE_LABEL, MONITORED_BY_LABEL } from '../constants/index.js';

type NamespaceLike = Pick<V1Namespace, 'metadata'> | undefined;

/** The mesh named by the namespace's monitored-by label, or undefined. */
export function meshOfNamespace(ns: NamespaceLike): string | undefined {
  const v = ns?.metadata?.labels?.[MONITORED_BY_LABEL];
  return v === undefined || v === '' ? undefined : v;
}

export function isIgnoredNamespace(ns: NamespaceLike): boolean {
  const labels = ns?.metadata?.labels;
  return labels !== undefined && Object.prototype.hasOwnProperty.call(labels, IGNORE_LABEL);
}

/** True when the namespace is monitored by this mesh and not ignored. */
export function isMonitoredNamespace(ns: NamespaceLike, meshName: string): boolean {
  return ns !== undefined && meshOfNamespace(ns) === meshName && !isIgnoredNamespace(ns);
}

/** Label selector matching the namespaces of a mesh (the ignore label is checked separately). */
export function meshNamespaceSelector(meshName: string): string {
  return `${MONITORED_BY_LABEL}=${meshName},!${IGNORE_LABEL}`;
}

/** Membership over a namespace cache (an informer's get). */
export class MeshMembership {
  constructor(
    private readonly meshName: string,
    private readonly getNamespace: (name: string) => NamespaceLike,
  ) {}

  get mesh(): string {
    return this.meshName;
  }

  /** Is this namespace (by name) in the mesh right now? */
  has(namespace: string): boolean {
    return isMonitoredNamespace(this.getNamespace(namespace), this.meshName);
  }
}
