/** pkg/sandbox/netns — namespace mode: pods as network namespaces behind a node namespace, and the one seam to them. */
export { ClusterNetwork, DEFAULT_POD_CIDR, DEFAULT_SERVICE_CIDR } from './cluster-network.js';
export type { ClusterNetworkOptions, PodNetwork } from './cluster-network.js';
export { KubeProxy, nodeBaseRules, serviceRoutes, servicesChainRules } from './kube-proxy.js';
export type { ServiceRoute } from './kube-proxy.js';
export {
  chooseNetworkMode,
  LOOPBACK_ASKED,
  LOOPBACK_MISSES,
  NETWORK_MODES,
  namespaceSupport,
  parseNetworkModeRequest,
} from './mode.js';
export type { ModeChoice, NetworkModeRequest } from './mode.js';
export { inCidr, nodeNamespace, parseCidr, PodAddressPool, podNamespace, sandboxIdOf } from './names.js';
export type { Cidr } from './names.js';
export {
  connectThrough,
  createConnectionVia,
  DialError,
  loopbackNetwork,
  namespaceNetwork,
} from './node-network.js';
export type { NetworkMode, NodeNetwork } from './node-network.js';
export { capabilitiesOf, podCommand } from './pod-command.js';
export type { PodProcessOptions } from './pod-command.js';
export { readStateRecord, removeOrphans, sandboxNamespaces } from './registry.js';
