/** pkg/sandbox — the whole mesh on one machine, as a cluster: API server, controllers, node agent, the control plane as pods, demo. */
export { guide as sandboxGuide, networkGuide, sandboxCommand, waitForDemo } from './command.js';
export { NAMESPACE_MODE_FILES, startSandbox } from './sandbox.js';
export type { Sandbox } from './sandbox.js';
