export * from './server.js';
export * from './store.js';
export * from './faults.js';
export * from './status.js';
export * from './resources.js';
export * from './kubeconfig.js';
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
export * from './admission.js';
export { decodeKubeProtobuf, PROTOBUF_CONTENT_TYPE } from './protobuf.js';
export * from './service-proxy.js';
