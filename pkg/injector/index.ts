export { adsClusterTransportSocket, envoyBootstrap } from './bootstrap.js';
export { handleAdmission, withBootstrapCredential } from './admission.js';
export { decideInjection, parseSwitch } from './decision.js';
export { Injector } from './injector.js';
export { InjectorMetrics } from './metrics.js';
export { defaultInjectorConfig, mutatePod } from './mutate.js';
export type { NamespaceSource } from './namespaces.js';
export { rewriteHooks } from './hooks.js';
export { asNativeSidecar, isNativeSidecar, proxyReadyProbe } from './native-sidecar.js';
export { rewriteProbes } from './probes.js';
export {
  ServerVersionWatcher,
  parseServerVersion,
  runsNativeSidecars,
  serverSupport,
} from './server-version.js';
export type { ServerVersion, ServerVersionSource } from './server-version.js';
export { decideSidecarMode } from './sidecar-mode.js';
export type { ServerSupport, SidecarMode } from './sidecar-mode.js';
export { WebhookServer } from './server.js';
export { mutatingWebhookConfiguration } from './webhook-config.js';
