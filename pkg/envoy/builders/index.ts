export * from './types.js';
export * from './common.js';
export * from './clusters.js';
export * from './probeListener.js';
export * from './inbound.js';
export * from './proxy.js';
