export * from './proto-paths.js';
export * from './type-urls.js';
export * from './protos.js';
