/**
 * The whole install as typed objects, in apply order (namespace first, the webhook configuration
 * last so that it only routes pods once the injector exists). Pure: same inputs, same objects.
 * Two ways to the webhook's TLS: the injector's own Secret (`tls`, default) or cert-manager
 * (`certManager`); `staleObjects` names what the other way left behind, `renderAnyMode` both.
 */
import type { KubernetesObject, V1Secret } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { INJECTOR_CA_NAME, INJECTOR_TLS_SECRET_NAME } from '../constants/index.js';
import { renderCertManagerObjects } from './cert-manager.js';
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

/** `tls` is required unless cert-manager provides the certificate (then it is not used). */
export function renderInstall(params: InstallParams, tls?: InjectorTls): KubernetesObject[] {
  const p = validateInstallParams(params);
  if (!p.certManager && tls === undefined)
    throw new Error('the injector TLS material is required unless cert-manager issues it');
  return [
    renderNamespace(p),
    ...renderServiceAccounts(p),
    ...renderClusterRoles(p),
    ...renderClusterRoleBindings(p),
    ...renderRoles(p),
    ...renderRoleBindings(p),
    ...(p.certManager ? renderCertManagerObjects(p) : [renderInjectorTlsSecret(p, tls!)]),
    ...renderServices(p),
    renderControllerDeployment(p),
    renderInjectorDeployment(p),
    ...renderPodDisruptionBudgets(p),
    renderWebhookConfiguration(p, tls?.caPem),
  ];
}

/** Certificates are not needed to know the names of what an install holds. */
const NAMES_ONLY_TLS: InjectorTls = { caPem: '', certPem: '', keyPem: '' };

function secretHeader(p: InstallParams, name: string): V1Secret {
  return { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: p.fsmNamespace } };
}

/** `apiVersion/kind/namespace/name`: one object's identity. */
export function objectKey(o: KubernetesObject): string {
  return `${o.apiVersion ?? ''}/${o.kind ?? ''}/${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;
}

/**
 * Every object an install of this mesh may hold, whichever way it got its certificate: the
 * self-managed objects, the cert-manager ones and the Secret cert-manager writes the bootstrap CA
 * to (cert-manager leaves Secrets behind when their Certificate goes). What uninstall deletes;
 * listed so that, deleted in reverse, Certificates go before the Secrets they would re-create.
 */
export function renderAnyMode(params: InstallParams): KubernetesObject[] {
  const own = renderInstall({ ...params, certManager: false, certManagerIssuer: undefined }, NAMES_ONLY_TLS);
  const p = validateInstallParams({ ...params, certManager: true, certManagerIssuer: undefined });
  const at = own.findIndex((o) => o.kind === 'Secret') + 1;
  return [
    ...own.slice(0, at),
    secretHeader(p, INJECTOR_CA_NAME),
    ...renderCertManagerObjects(p),
    ...own.slice(at),
  ];
}

/**
 * What an install in the other mode left that this one does not use (to delete after applying):
 * the cert-manager Issuers, Certificates and CA Secret when fsm manages the certificate, the
 * injector's Secret Role when cert-manager does. Secret INJECTOR_TLS_SECRET_NAME is never stale:
 * both ways keep the serving certificate there.
 */
export function staleObjects(params: InstallParams): KubernetesObject[] {
  const p = validateInstallParams(params);
  const keep = new Set(renderInstall(p, NAMES_ONLY_TLS).map(objectKey));
  keep.add(objectKey(secretHeader(p, INJECTOR_TLS_SECRET_NAME)));
  if (p.certManager && !p.certManagerIssuer) keep.add(objectKey(secretHeader(p, INJECTOR_CA_NAME)));
  return renderAnyMode(p).filter((o) => !keep.has(objectKey(o)));
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
