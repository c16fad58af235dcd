export * from './agent.js';
export * from './ads-client.js';
export * from './backoff.js';
export * from './listeners.js';
export type * from './model.js';
export * from './routing.js';
export * from './upstream.js';
export * from './xds-config.js';
