export type { ProbeCheckReport } from './check/types.js';
export { ControllerError, controllerViaServiceProxy } from './controller.js';
export { installCommand, uninstallCommand } from './install.js';
export { meshCommand } from './mesh.js';
export { OPERATOR_COMMAND_GROUPS, runCli } from './program.js';
export type { CliDeps } from './program.js';
export { controllerViaPortForward } from './controller-port-forward.js';
