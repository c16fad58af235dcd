export { startProbeAgent } from './agent.js';
export type { AgentTls, ProbeAgent, ProbeAgentOptions, ProbeAgentStatus, SecretStatus } from './agent.js';
export { LOCAL_REPLY, tlsFailureReply } from './upstream.js';
