export { startProbeAgent } from './agent.js';
export type { ProbeAgent, ProbeAgentOptions, ProbeAgentStatus } from './agent.js';
export { LOCAL_REPLY, tlsFailureReply } from './upstream.js';
