/**
 * The informers fsm runs: namespaces, pods (all namespaces, or one), Services and EndpointSlices
 * (the mesh's outbound routes), secrets of mesh identity, and any other collection. All are the same
 * resilient Informer: backoff, relist on 410, readiness honest.
 */
import type {
  KubeConfig,
  KubernetesObject,
  V1EndpointSlice,
  V1Namespace,
  V1Pod,
  V1Secret,
  V1Service,
} from '@kubernetes/client-node';
import type { Logger } from '../logger/index.js';
import { Informer, type InformerOptions } from './informer.js';

export interface PodInformerOptions extends InformerOptions<V1Pod> {
  /** Watch one namespace only (default: all namespaces). */
  namespace?: string;
}

/** Namespaces (cluster-scoped): get(name). */
export function namespaceInformer(
  kc: KubeConfig,
  logger: Logger,
  opts: InformerOptions<V1Namespace> = {},
): Informer<V1Namespace> {
  return new Informer<V1Namespace>(kc, logger, '/api/v1/namespaces', 'namespaces', opts);
}

/** Pods: get(name, namespace). */
export function podInformer(kc: KubeConfig, logger: Logger, opts: PodInformerOptions = {}): Informer<V1Pod> {
  const { namespace, ...rest } = opts;
  const path = namespace ? `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods` : '/api/v1/pods';
  return new Informer<V1Pod>(kc, logger, path, namespace ? `pods(${namespace})` : 'pods', rest);
}

export interface SecretInformerOptions extends InformerOptions<V1Secret> {
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
  opts: InformerOptions<T> = {},
): Informer<T> {
  return new Informer<T>(kc, logger, path, name, opts);
}

/** Services, all namespaces: get(name, namespace). */
export function serviceInformer(
  kc: KubeConfig,
  logger: Logger,
  opts: InformerOptions<V1Service> = {},
): Informer<V1Service> {
  return new Informer<V1Service>(kc, logger, '/api/v1/services', 'services', opts);
}

/** EndpointSlices (discovery.k8s.io/v1), all namespaces: get(name, namespace). */
export function endpointSliceInformer(
  kc: KubeConfig,
  logger: Logger,
  opts: InformerOptions<V1EndpointSlice> = {},
): Informer<V1EndpointSlice> {
  return new Informer<V1EndpointSlice>(
    kc,
    logger,
    '/apis/discovery.k8s.io/v1/endpointslices',
    'endpointslices',
    opts,
  );
}
