/** pkg/sandbox — the whole mesh on one machine: API server, node agent, probe agent, demo. */
export { sandboxCommand } from './command.js';
export { startSandbox } from './sandbox.js';
export type { Sandbox } from './sandbox.js';
