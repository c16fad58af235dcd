/** pkg/sandbox/controllers — the sandbox's kube-controller-manager: Deployments, ReplicaSets, EndpointSlices, GC. */
export { ControllerManager } from './manager.js';
export type { ControllerInformers } from './manager.js';
export { ENDPOINTSLICE_CONTROLLER, SERVICE_NAME_LABEL } from './endpointslice.js';
export { POD_TEMPLATE_HASH_LABEL, podTemplateHash } from './owners.js';
