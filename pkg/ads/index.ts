export * from './cache.js';
export * from './resources.js';
export * from './lifecycle.js';
export * from './metrics.js';
export * from './server.js';
export * from './sotw-stream.js';
export * from './delta-stream.js';
export type { StreamHandle } from './stream.js';
export * from './wire.js';
