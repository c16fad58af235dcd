export * from './ports.js';
export * from './paths.js';
export * from './labels.js';
export * from './defaults.js';
export * from './probes.js';
export * from './injector.js';
export * from './xds.js';
export * from './k8s.js';
