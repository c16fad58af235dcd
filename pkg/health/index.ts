export * from './readiness.js';
export * from './server.js';
export * from './debug.js';
