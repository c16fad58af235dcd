export * from './types.js';
export * from './workloads.js';
