export * from './binary.js';
export * from './flags.js';
export * from './version.js';
export * from './listen.js';
