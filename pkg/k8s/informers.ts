/** The informers fsm runs: namespaces, pods (all namespaces, or one), secrets of mesh identity, and any other collection. */
import type { KubeConfig, KubernetesObject, V1Namespace, V1Pod, V1Secret } from '@kubernetes/client-node';
import type { Logger } from '../logger/index.js';
import { Informer, type InformerOptions } from './informer.js';

export interface PodInformerOptions extends InformerOptions {
  /** Watch one namespace only (default: all namespaces). */
  namespace?: string;
}

/** Namespaces (cluster-scoped): get(name). */
export function namespaceInformer(
  kc: KubeConfig,
  logger: Logger,
  opts: InformerOptions = {},
): Informer<V1Namespace> {
  return new Informer<V1Namespace>(kc, logger, '/api/v1/namespaces', 'namespaces', opts);
}

/** Pods: get(name, namespace). */
export function podInformer(kc: KubeConfig, logger: Logger, opts: PodInformerOptions = {}): Informer<V1Pod> {
  const { namespace, ...rest } = opts;
  const path = namespace ? `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods` : '/api/v1/pods';
  return new Informer<V1Pod>(kc, logger, path, namespace ? `pods(${namespace})` : 'pods', rest);
}

export interface SecretInformerOptions extends InformerOptions {
  /** Watch one namespace only (default: all namespaces). */
  namespace?: string;
}

/**
 * Secrets: get(name, namespace). fsm watches only its own (the mesh CA by field selector, bootstrap
 * credentials by label selector): always pass a selector.
 */
export function secretInformer(
  kc: KubeConfig,
  logger: Logger,
  opts: SecretInformerOptions,
): Informer<V1Secret> {
  const { namespace, ...rest } = opts;
  const path = namespace ? `/api/v1/namespaces/${encodeURIComponent(namespace)}/secrets` : '/api/v1/secrets';
  return new Informer<V1Secret>(kc, logger, path, namespace ? `secrets(${namespace})` : 'secrets', rest);
}

/**
 * Any collection, all namespaces: `path` is its list path (`/apis/apps/v1/replicasets`). The
 * sandbox's controllers watch Deployments, ReplicaSets, Services and EndpointSlices with it.
 */
export function collectionInformer<T extends KubernetesObject>(
  kc: KubeConfig,
  logger: Logger,
  path: string,
  name: string,
  opts: InformerOptions = {},
): Informer<T> {
  return new Informer<T>(kc, logger, path, name, opts);
}
