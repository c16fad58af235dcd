export { RESOURCES, customResource } from './resources.js';
export { ApiServer } from './server.js';
export type { ApiServerOptions } from './server.js';
export { matchesLabelSelector } from './admission.js';
export { podLogHandler } from './pod-logs.js';
export type { ContainerLogFile, PodLogSource } from './pod-logs.js';
export { CUT_OFF_ANNOTATION } from './pod-identity.js';
export type { PodIdentity } from './pod-identity.js';
export { portForwardHandler } from './portforward.js';
