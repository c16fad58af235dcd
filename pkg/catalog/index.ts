export * from './pod.js';
export * from './identity.js';
export * from './annotation.js';
export * from './ports.js';
export * from './probePlan.js';
export * from './probesView.js';
export * from './desired.js';
export * from './diff.js';
