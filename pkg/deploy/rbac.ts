/**
 * ServiceAccounts and least-privilege RBAC of the control plane.
 * - fsm-controller: get/list/watch pods and namespaces (its informers); get/list/watch events (the
 *   Unhealthy events its probe diagnosis starts from) and create/patch them (ProbeTargetFailed).
 * - fsm-injector: get/list/watch namespaces (its informer); when it manages its certificate itself
 *   (no cert-manager): get/patch its own MutatingWebhookConfiguration only (resourceNames) for the
 *   caBundle and, in the fsm namespace, get/update its own TLS Secret (resourceNames) and create
 *   Secrets (Kubernetes cannot restrict `create` by name, so that rule lives in a namespaced Role).
 *   With cert-manager it needs none of those: kubelet mounts the Secret, cert-manager writes it and
 *   the caBundle; no Role is rendered.
 */
import type {
  V1ClusterRole,
  V1ClusterRoleBinding,
  V1PolicyRule,
  V1Role,
  V1RoleBinding,
  V1ServiceAccount,
} from '@kubernetes/client-node';
import { CONTROLLER_APP, INJECTOR_APP, INJECTOR_TLS_SECRET_NAME } from '../constants/index.js';
import { commonLabels, type InstallParams } from './params.js';
import { webhookConfigurationName } from './webhook.js';

const RBAC_API_VERSION = 'rbac.authorization.k8s.io/v1';

/** Name of a cluster-scoped object of one mesh (several meshes may share a cluster). */
export function clusterScopedName(app: string, p: InstallParams): string {
  return `${app}-${p.meshName}`;
}

export function controllerRules(): V1PolicyRule[] {
  return [
    { apiGroups: [''], resources: ['pods', 'namespaces'], verbs: ['get', 'list', 'watch'] },
    { apiGroups: [''], resources: ['events'], verbs: ['get', 'list', 'watch', 'create', 'patch'] },
  ];
}

export function injectorClusterRules(p: InstallParams): V1PolicyRule[] {
  const namespaces: V1PolicyRule = {
    apiGroups: [''],
    resources: ['namespaces'],
    verbs: ['get', 'list', 'watch'],
  };
  if (p.certManager) return [namespaces];
  return [
    namespaces,
    {
      apiGroups: ['admissionregistration.k8s.io'],
      resources: ['mutatingwebhookconfigurations'],
      resourceNames: [webhookConfigurationName(p)],
      verbs: ['get', 'patch'],
    },
  ];
}

export function injectorNamespaceRules(): V1PolicyRule[] {
  return [
    {
      apiGroups: [''],
      resources: ['secrets'],
      resourceNames: [INJECTOR_TLS_SECRET_NAME],
      verbs: ['get', 'update'],
    },
    { apiGroups: [''], resources: ['secrets'], verbs: ['create'] },
  ];
}

export function renderServiceAccounts(p: InstallParams): V1ServiceAccount[] {
  return [CONTROLLER_APP, INJECTOR_APP].map((app) => ({
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: { name: app, namespace: p.fsmNamespace, labels: commonLabels(p, app) },
    automountServiceAccountToken: true,
  }));
}

function clusterRole(p: InstallParams, app: string, rules: V1PolicyRule[]): V1ClusterRole {
  return {
    apiVersion: RBAC_API_VERSION,
    kind: 'ClusterRole',
    metadata: { name: clusterScopedName(app, p), labels: commonLabels(p, app) },
    rules,
  };
}

function clusterRoleBinding(p: InstallParams, app: string): V1ClusterRoleBinding {
  return {
    apiVersion: RBAC_API_VERSION,
    kind: 'ClusterRoleBinding',
    metadata: { name: clusterScopedName(app, p), labels: commonLabels(p, app) },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: clusterScopedName(app, p) },
    subjects: [{ kind: 'ServiceAccount', name: app, namespace: p.fsmNamespace }],
  };
}

export function renderClusterRoles(p: InstallParams): V1ClusterRole[] {
  return [
    clusterRole(p, CONTROLLER_APP, controllerRules()),
    clusterRole(p, INJECTOR_APP, injectorClusterRules(p)),
  ];
}

export function renderClusterRoleBindings(p: InstallParams): V1ClusterRoleBinding[] {
  return [clusterRoleBinding(p, CONTROLLER_APP), clusterRoleBinding(p, INJECTOR_APP)];
}

/** The injector's Role on its own Secret: only when it manages its certificate itself. */
export function renderRoles(p: InstallParams): V1Role[] {
  if (p.certManager) return [];
  return [
    {
      apiVersion: RBAC_API_VERSION,
      kind: 'Role',
      metadata: { name: INJECTOR_APP, namespace: p.fsmNamespace, labels: commonLabels(p, INJECTOR_APP) },
      rules: injectorNamespaceRules(),
    },
  ];
}

export function renderRoleBindings(p: InstallParams): V1RoleBinding[] {
  if (p.certManager) return [];
  return [
    {
      apiVersion: RBAC_API_VERSION,
      kind: 'RoleBinding',
      metadata: { name: INJECTOR_APP, namespace: p.fsmNamespace, labels: commonLabels(p, INJECTOR_APP) },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: INJECTOR_APP },
      subjects: [{ kind: 'ServiceAccount', name: INJECTOR_APP, namespace: p.fsmNamespace }],
    },
  ];
}
