export { podOriginalProbes } from './annotation.js';
export { desiredProxy } from './desired.js';
export type { DesiredProxy } from './desired.js';
export { proxyIdentity } from './identity.js';
export { CatalogMetrics } from './metrics.js';
export { podRef } from './pod.js';
export { appContainers } from './ports.js';
export type { ProbeViewEntry } from './probes-view.js';
export { ProxyPropagator } from './propagator.js';
