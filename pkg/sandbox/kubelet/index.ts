export { NodeAgent } from './node-agent.js';
export { FREEZE_ANNOTATION } from './freeze.js';
export { loopbackPods, namespacePods } from './pod-network.js';
export type { PodAddress, PodNetworkProvider } from './pod-network.js';
