export { startController } from './controller.js';
export type { RunningController } from './controller.js';
export {
  IDENTITY_LAYER,
  MeshStreamAuthorizer,
  controllerServerName,
  snapshotSecretSink,
} from './mesh-identity.js';
export type { MeshCaView } from './mesh-identity.js';
