/**
 * ServiceAccounts and least-privilege RBAC of the control plane.
 * - fsm-controller: get/list/watch pods and namespaces, list/watch Services and EndpointSlices
 *   (discovery.k8s.io; the mesh's outbound routes and their endpoints) — its informers;
 *   get/list/watch events (the Unhealthy events its probe diagnosis starts from) and create/patch
 *   them (ProbeTargetFailed, ProxyConfigProblem);
 *   mesh identity: list/watch/update/delete Secrets in every namespace (the bootstrap credentials
 *   it sweeps and renews: RBAC cannot restrict by label, so this reaches every Secret — see the
 *   README's trust model), and in the fsm namespace create Secrets (the mesh CA, first start).
 * - fsm-injector: get/list/watch namespaces (its informer); create Secrets in every namespace (one
 *   bootstrap credential per injected pod; it never reads, updates or deletes them); in the fsm
 *   namespace list/watch Secrets (the mesh CA, read by field selector). When it manages its webhook
 *   certificate itself (no cert-manager): get/patch its own MutatingWebhookConfiguration only
 *   (resourceNames) for the caBundle and get/update its own TLS Secret (resourceNames).
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
    { apiGroups: [''], resources: ['services'], verbs: ['list', 'watch'] },
    { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['list', 'watch'] },
    { apiGroups: [''], resources: ['events'], verbs: ['get', 'list', 'watch', 'create', 'patch'] },
    { apiGroups: [''], resources: ['secrets'], verbs: ['list', 'watch', 'update', 'delete'] },
  ];
}

/** The controller's rights in the fsm namespace: create the mesh CA Secret when none exists. */
export function controllerNamespaceRules(): V1PolicyRule[] {
  return [{ apiGroups: [''], resources: ['secrets'], verbs: ['create'] }];
}

export function injectorClusterRules(p: InstallParams): V1PolicyRule[] {
  const namespaces: V1PolicyRule = {
    apiGroups: [''],
    resources: ['namespaces'],
    verbs: ['get', 'list', 'watch'],
  };
  const bootstrap: V1PolicyRule = { apiGroups: [''], resources: ['secrets'], verbs: ['create'] };
  if (p.certManager) return [namespaces, bootstrap];
  return [
    namespaces,
    bootstrap,
    {
      apiGroups: ['admissionregistration.k8s.io'],
      resources: ['mutatingwebhookconfigurations'],
      resourceNames: [webhookConfigurationName(p)],
      verbs: ['get', 'patch'],
    },
  ];
}

export function injectorNamespaceRules(p: InstallParams): V1PolicyRule[] {
  const ca: V1PolicyRule = { apiGroups: [''], resources: ['secrets'], verbs: ['list', 'watch'] };
  if (p.certManager) return [ca];
  return [
    ca,
    {
      apiGroups: [''],
      resources: ['secrets'],
      resourceNames: [INJECTOR_TLS_SECRET_NAME],
      verbs: ['get', 'update'],
    },
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

/** The Roles in the fsm namespace: the mesh CA Secret (both), the injector's own TLS Secret. */
export function renderRoles(p: InstallParams): V1Role[] {
  const role = (app: string, rules: V1PolicyRule[]): V1Role => ({
    apiVersion: RBAC_API_VERSION,
    kind: 'Role',
    metadata: { name: app, namespace: p.fsmNamespace, labels: commonLabels(p, app) },
    rules,
  });
  return [role(CONTROLLER_APP, controllerNamespaceRules()), role(INJECTOR_APP, injectorNamespaceRules(p))];
}

export function renderRoleBindings(p: InstallParams): V1RoleBinding[] {
  return [CONTROLLER_APP, INJECTOR_APP].map((app) => ({
    apiVersion: RBAC_API_VERSION,
    kind: 'RoleBinding',
    metadata: { name: app, namespace: p.fsmNamespace, labels: commonLabels(p, app) },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: app },
    subjects: [{ kind: 'ServiceAccount', name: app, namespace: p.fsmNamespace }],
  }));
}
