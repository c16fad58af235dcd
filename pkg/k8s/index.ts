export { cacheKey } from './informer.js';
export type { InformerEvent, InformerHandlers, ResourceInformer } from './informer.js';
export {
  collectionInformer,
  endpointSliceInformer,
  namespaceInformer,
  podInformer,
  secretInformer,
  serviceInformer,
} from './informers.js';
export { loadKubeConfig } from './kubeconfig.js';
export { MeshMembership, isMonitoredNamespace } from './mesh.js';
export { WorkQueue } from './queue.js';
export { PodEventRecorder } from './pod-events.js';
export type { PodEvent, PodEventRecorderOptions } from './pod-events.js';
export type { QueueClock, WorkQueueOptions, WorkQueueStats } from './queue.js';
