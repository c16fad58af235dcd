export * from './request.js';
export * from './tcp-check.js';
export * from './server.js';
