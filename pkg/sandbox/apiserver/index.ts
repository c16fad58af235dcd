export { ApiServer, startApiServer } from './server.js';
export type { ApiServerOptions } from './server.js';
export { FAULTS_PATH, Controls } from './controls.js';
export { Faults } from './faults.js';
export type { FaultVerb, ArmedFault } from './faults.js';
export { Store, objectKey } from './store.js';
export type { KubeObject, EventType, StoreEvent, StoreListener, StoreOptions } from './store.js';
export {
  StatusError,
  notFound,
  alreadyExists,
  conflict,
  invalid,
  badRequest,
  unauthorized,
  forbidden,
  methodNotSupported,
  gone,
  unsupportedMediaType,
  internalError,
  timeout,
  statusFor,
  success,
} from './status.js';
export type { StatusCause, KubeStatus } from './status.js';
export {
  RESOURCES,
  customResource,
  apiVersionOf,
  resourceKey,
  findResource,
  findResourceByKey,
  groups,
  apiResourceList,
} from './resources.js';
export type { ResourceInfo } from './resources.js';
export { routeRequest, isPublic } from './router.js';
export type {
  Route,
  ResourceRoute,
  RouteRejection,
  DiscoveryDoc,
  Verb,
  ConnectSubresource,
  RoutingTable,
} from './router.js';
export type { SubresourceHandler, SubresourceContext } from './connect.js';
export { kubeconfigYaml, writeKubeconfig } from './kubeconfig.js';
export type { SandboxKubeconfigOptions } from './kubeconfig.js';
export {
  parseLabelSelector,
  matchesLabels,
  parseFieldSelector,
  matchesFields,
  SelectorError,
} from './selectors.js';
export type { LabelRequirement, FieldRequirement } from './selectors.js';
export {
  mergePatch,
  strategicMergePatch,
  jsonPatch,
  applyPatch,
  PatchError,
  PATCH_CONTENT_TYPES,
} from './patch.js';
export { humanDuration } from './table.js';
export { webhookAdmission, matchesLabelSelector, ruleMatches } from './admission.js';
export type {
  AdmissionOperation,
  AdmissionContext,
  AdmissionResult,
  AdmissionHook,
  ServiceReference,
  WebhookAdmissionOptions,
} from './admission.js';
export { decodeKubeProtobuf, PROTOBUF_CONTENT_TYPE } from './protobuf.js';
export { parseServiceProxyPath, forwardToService } from './service-proxy.js';
export type { ServiceProxyResolver, ServiceProxyTarget } from './service-proxy.js';
