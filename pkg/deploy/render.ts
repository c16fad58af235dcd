/**
 * The whole install as typed objects, in apply order (namespace first, the webhook configuration
 * last so that it only routes pods once the injector exists). Pure: same inputs, same objects.
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { renderControllerDeployment } from './controller.js';
import { renderInjectorDeployment } from './injector.js';
import { renderNamespace } from './namespace.js';
import { validateInstallParams, type InstallParams } from './params.js';
import { renderPodDisruptionBudgets } from './pdb.js';
import {
  renderClusterRoleBindings,
  renderClusterRoles,
  renderRoleBindings,
  renderRoles,
  renderServiceAccounts,
} from './rbac.js';
import { renderServices } from './services.js';
import { renderInjectorTlsSecret, type InjectorTls } from './tls.js';
import { renderWebhookConfiguration } from './webhook.js';

export function renderInstall(params: InstallParams, tls: InjectorTls): KubernetesObject[] {
  const p = validateInstallParams(params);
  return [
    renderNamespace(p),
    ...renderServiceAccounts(p),
    ...renderClusterRoles(p),
    ...renderClusterRoleBindings(p),
    ...renderRoles(p),
    ...renderRoleBindings(p),
    renderInjectorTlsSecret(p, tls),
    ...renderServices(p),
    renderControllerDeployment(p),
    renderInjectorDeployment(p),
    ...renderPodDisruptionBudgets(p),
    renderWebhookConfiguration(p, tls.caPem),
  ];
}

/** Multi-document YAML (`---` between objects), as `kubectl apply -f -` reads it. */
export function toYaml(objects: readonly KubernetesObject[]): string {
  return objects.map((o) => stringify(o, { lineWidth: 0 })).join('---\n');
}

/** `Kind namespace/name` (or `Kind name` when cluster-scoped), for messages. */
export function describeObject(o: KubernetesObject): string {
  const ns = o.metadata?.namespace;
  return `${o.kind ?? '?'} ${ns ? `${ns}/` : ''}${o.metadata?.name ?? '?'}`;
}
