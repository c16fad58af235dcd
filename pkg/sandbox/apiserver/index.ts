export { RESOURCES, customResource } from './resources.js';
export { ApiServer } from './server.js';
export type { ApiServerOptions } from './server.js';
export { matchesLabelSelector } from './admission.js';
