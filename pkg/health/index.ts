export * from './readiness.js';
export * from './server.js';
