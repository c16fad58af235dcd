/**
 * How the webhook reads namespaces: from an informer's cache, never a GET per admission. pkg/k8s's
 * namespace informer satisfies this interface; tests use an in-memory implementation.
 */
import type { V1Namespace } from '@kubernetes/client-node';

export interface NamespaceSource {
  /** The cached namespace, or undefined when it is not (yet) known. */
  get(name: string): V1Namespace | undefined;
  /** True once the initial list has been loaded; /healthz is not 200 before. */
  hasSynced(): boolean;
}
