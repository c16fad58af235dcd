export { NodeAgent } from './node-agent.js';
export { FREEZE_ANNOTATION } from './freeze.js';
