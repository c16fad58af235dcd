export * from './kubeconfig.js';
export * from './backoff.js';
export * from './rest.js';
export * from './informer.js';
export * from './informers.js';
export * from './queue.js';
export * from './mesh.js';
