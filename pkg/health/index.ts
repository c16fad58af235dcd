export { debugRoutes, isLoopbackAddress } from './debug.js';
export type { DebugRouteOptions } from './debug.js';
export type { ReadinessCheck } from './readiness.js';
export { createHealthServer } from './server.js';
export type { HealthServer } from './server.js';
