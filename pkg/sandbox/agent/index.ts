export { startProbeAgent } from './agent.js';
export type { ProbeAgent, ProbeAgentOptions, ProbeAgentStatus } from './agent.js';
