export { handleAdmission } from './admission.js';
export { decideInjection, parseSwitch } from './decision.js';
export { Injector } from './injector.js';
export { InjectorMetrics } from './metrics.js';
export { defaultInjectorConfig, mutatePod } from './mutate.js';
export type { NamespaceSource } from './namespaces.js';
export { rewriteProbes } from './probes.js';
export { WebhookServer } from './server.js';
export { mutatingWebhookConfiguration } from './webhook-config.js';
