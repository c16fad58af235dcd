export { startProbeAgent } from './agent.js';
export type { AgentTls, ProbeAgent, ProbeAgentOptions, ProbeAgentStatus, SecretStatus } from './agent.js';
export { LOCAL_REPLY, tlsFailureReply } from './upstream.js';
export { noOriginalDestination, ORIGINAL_DST_ADDON, soOriginalDestination } from './original-destination.js';
export type { OriginalDestination, OriginalDestinationOf } from './original-destination.js';
export { proxyProtocolHeader, proxyProtocolOriginalDestination } from './proxy-protocol.js';
