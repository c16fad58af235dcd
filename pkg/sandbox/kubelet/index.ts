export * from './addresses.js';
export * from './events.js';
export * from './probe-exec.js';
export * from './prober.js';
export * from './node-agent.js';
