/**
 * The kinds the sandbox API server serves: one generic store keyed by resource, so adding a kind is
 * one entry here. Discovery documents are generated from this table.
 */

export interface ResourceInfo {
  /** '' for the core group. */
  readonly group: string;
  readonly version: string;
  /** Plural, lower case: the URL segment. */
  readonly resource: string;
  readonly singular: string;
  readonly kind: string;
  readonly namespaced: boolean;
  readonly shortNames: readonly string[];
  /** Subresources served by the store: `status`, and `scale` (autoscaling/v1 Scale) for workloads. */
  readonly subresources: readonly string[];
  /** Name rule checked on create: DNS-1123 label (63) or subdomain (253). */
  readonly nameRule: 'label' | 'subdomain';
}

const VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

export const RESOURCES: readonly ResourceInfo[] = [
  r('', 'v1', 'namespaces', 'Namespace', false, ['ns'], ['status'], 'label'),
  r('', 'v1', 'pods', 'Pod', true, ['po'], ['status'], 'subdomain'),
  r('', 'v1', 'services', 'Service', true, ['svc'], ['status'], 'label'),
  r('', 'v1', 'events', 'Event', true, ['ev'], [], 'subdomain'),
  r('', 'v1', 'secrets', 'Secret', true, [], [], 'subdomain'),
  r('', 'v1', 'serviceaccounts', 'ServiceAccount', true, ['sa'], [], 'subdomain'),
  r('', 'v1', 'configmaps', 'ConfigMap', true, ['cm'], [], 'subdomain'),
  r('', 'v1', 'endpoints', 'Endpoints', true, ['ep'], [], 'subdomain'),
  r('apps', 'v1', 'deployments', 'Deployment', true, ['deploy'], ['status', 'scale'], 'subdomain'),
  r('apps', 'v1', 'replicasets', 'ReplicaSet', true, ['rs'], ['status', 'scale'], 'subdomain'),
  r('discovery.k8s.io', 'v1', 'endpointslices', 'EndpointSlice', true, [], [], 'subdomain'),
  r(
    'admissionregistration.k8s.io',
    'v1',
    'mutatingwebhookconfigurations',
    'MutatingWebhookConfiguration',
    false,
    [],
    [],
    'subdomain',
  ),
  // What `fsm install` applies besides the above: RBAC and PodDisruptionBudgets (stored, not enforced).
  r('rbac.authorization.k8s.io', 'v1', 'clusterroles', 'ClusterRole', false, [], [], 'subdomain'),
  r(
    'rbac.authorization.k8s.io',
    'v1',
    'clusterrolebindings',
    'ClusterRoleBinding',
    false,
    [],
    [],
    'subdomain',
  ),
  r('rbac.authorization.k8s.io', 'v1', 'roles', 'Role', true, [], [], 'subdomain'),
  r('rbac.authorization.k8s.io', 'v1', 'rolebindings', 'RoleBinding', true, [], [], 'subdomain'),
  r('policy', 'v1', 'poddisruptionbudgets', 'PodDisruptionBudget', true, ['pdb'], ['status'], 'subdomain'),
];

/**
 * A kind served as if its CustomResourceDefinition were installed (no schema: objects are stored as
 * sent, with metadata checks and a `status` subresource).
 */
export function customResource(
  group: string,
  version: string,
  kind: string,
  opts: { resource?: string; namespaced?: boolean; shortNames?: string[] } = {},
): ResourceInfo {
  const resource = opts.resource ?? `${kind.toLowerCase()}s`;
  return r(
    group,
    version,
    resource,
    kind,
    opts.namespaced ?? true,
    opts.shortNames ?? [],
    ['status'],
    'subdomain',
  );
}

function r(
  group: string,
  version: string,
  resource: string,
  kind: string,
  namespaced: boolean,
  shortNames: string[],
  subresources: string[],
  nameRule: 'label' | 'subdomain',
): ResourceInfo {
  return {
    group,
    version,
    resource,
    singular: kind.toLowerCase(),
    kind,
    namespaced,
    shortNames,
    subresources,
    nameRule,
  };
}

export function apiVersionOf(info: ResourceInfo): string {
  return info.group ? `${info.group}/${info.version}` : info.version;
}

/** Store key of a resource: `pods`, `apps/deployments`. */
export function resourceKey(info: ResourceInfo): string {
  return info.group ? `${info.group}/${info.resource}` : info.resource;
}

// Each lookup takes the table a server serves (RESOURCES unless its options say otherwise).

export function findResource(
  group: string,
  version: string,
  resource: string,
  served: readonly ResourceInfo[] = RESOURCES,
): ResourceInfo | undefined {
  return served.find((x) => x.group === group && x.version === version && x.resource === resource);
}

export function findResourceByKey(
  key: string,
  served: readonly ResourceInfo[] = RESOURCES,
): ResourceInfo | undefined {
  return served.find((x) => resourceKey(x) === key);
}

/** Groups other than core, in discovery order. */
export function groups(served: readonly ResourceInfo[] = RESOURCES): { name: string; versions: string[] }[] {
  const out: { name: string; versions: string[] }[] = [];
  for (const info of served) {
    if (!info.group) continue;
    let g = out.find((x) => x.name === info.group);
    if (!g) {
      g = { name: info.group, versions: [] };
      out.push(g);
    }
    if (!g.versions.includes(info.version)) g.versions.push(info.version);
  }
  return out;
}

/** APIResourceList of one group/version, as /api/v1 or /apis/<group>/<version> returns it. */
export function apiResourceList(
  group: string,
  version: string,
  served: readonly ResourceInfo[] = RESOURCES,
): Record<string, unknown> | undefined {
  const infos = served.filter((x) => x.group === group && x.version === version);
  if (infos.length === 0) return undefined;
  const resources: Record<string, unknown>[] = [];
  for (const info of infos) {
    resources.push({
      name: info.resource,
      singularName: info.singular,
      namespaced: info.namespaced,
      kind: info.kind,
      verbs: VERBS,
      ...(info.shortNames.length ? { shortNames: info.shortNames } : {}),
    });
    for (const sub of info.subresources) {
      resources.push({
        name: `${info.resource}/${sub}`,
        singularName: '',
        namespaced: info.namespaced,
        kind: info.kind,
        verbs: ['get', 'patch', 'update'],
      });
    }
  }
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: group ? `${group}/${version}` : version,
    resources,
  };
}
