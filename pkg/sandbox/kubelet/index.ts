export { NodeAgent } from './node-agent.js';
