/**
 * The RBAC of the install covers every API call the control plane makes. The calls are found by
 * scanning the sources: pkg/k8s informer constructors (their REST collection paths → list+watch of
 * a resource), which of them the controller and the injector start, and any typed client call
 * (`listNamespacedPod(`, `patchMutatingWebhookConfiguration(`, ...) or literal REST path in their code.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { V1ClusterRole, V1PolicyRule, V1Role } from '@kubernetes/client-node';
import { CONTROLLER_APP, INJECTOR_APP } from '../../../pkg/constants/index.js';
import { clusterScopedName } from '../../../pkg/deploy/rbac.js';
import { defaultInstallParams, renderInstall, type InjectorTls } from '../../../pkg/deploy/index.js';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const tls: InjectorTls = { caPem: 'ca\n', certPem: 'cert\n', keyPem: 'key\n' };
const P = defaultInstallParams();

interface ApiCall {
  group: string;
  resource: string;
  verb: string;
  where: string;
}

function sources(dir: string): { path: string; text: string }[] {
  if (dir.endsWith('.ts')) return [{ path: dir, text: readFileSync(join(ROOT, dir), 'utf8') }];
  return readdirSync(join(ROOT, dir), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .map((f) => ({ path: join(dir, f), text: readFileSync(join(ROOT, dir, f), 'utf8') }));
}

/**
 * Informer constructors of pkg/k8s → the resource their REST path lists and watches: `pods` for the
 * core group (`/api/v1/…`), `<group>/<resource>` for a named group (`/apis/<group>/<version>/…`).
 */
function informerResources(): Map<string, string> {
  const out = new Map<string, string>();
  for (const { text } of sources('pkg/k8s')) {
    for (const chunk of text.split(/export function /).slice(1)) {
      const name = /^(\w+)/.exec(chunk)![1]!;
      // Code only: a doc comment may quote another collection's path.
      const code = chunk.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
      const paths = [...code.matchAll(/['`](\/apis?\/[^'`]*)['`]/g)].map((m) => m[1]!);
      if (!/new Informer</.test(chunk) || paths.length === 0) continue;
      const resources = new Set(
        paths.map((path) => {
          const resource = /\/([a-z]+)$/.exec(path)![1]!;
          const group = /^\/apis\/([a-z0-9.-]+)\/v[0-9a-z]+\//.exec(path)?.[1];
          return group ? `${group}/${resource}` : resource;
        }),
      );
      expect(resources.size).toBe(1);
      out.set(name, [...resources][0]!);
    }
  }
  return out;
}

/** `pods` → ['', 'pods']; `discovery.k8s.io/endpointslices` → ['discovery.k8s.io', 'endpointslices']. */
function groupResource(scanned: string): [string, string] {
  const i = scanned.lastIndexOf('/');
  return i < 0 ? ['', scanned] : [scanned.slice(0, i), scanned.slice(i + 1)];
}

/** typed CoreV1Api / AppsV1Api / AdmissionregistrationV1Api method → verb, resource. */
const TYPED_VERBS: Record<string, string> = {
  list: 'list',
  read: 'get',
  create: 'create',
  patch: 'patch',
  replace: 'update',
  delete: 'delete',
  watch: 'watch',
};
const KINDS: Record<string, [string, string]> = {
  Pod: ['', 'pods'],
  Namespace: ['', 'namespaces'],
  Event: ['', 'events'],
  Secret: ['', 'secrets'],
  MutatingWebhookConfiguration: ['admissionregistration.k8s.io', 'mutatingwebhookconfigurations'],
};

function callsOf(dirs: string[]): ApiCall[] {
  const informers = informerResources();
  const calls: ApiCall[] = [];
  for (const dir of dirs) {
    for (const { path, text } of sources(dir)) {
      for (const [fn, scanned] of informers) {
        if (new RegExp(`\\b${fn}\\(`).test(text)) {
          const [group, resource] = groupResource(scanned);
          for (const verb of ['list', 'watch'])
            calls.push({ group, resource, verb, where: `${path}: ${fn}` });
        }
      }
      for (const m of text.matchAll(
        /\.(list|read|create|patch|replace|delete)(?:Namespaced)?(\w+?)(?:ForAllNamespaces)?\(/g,
      )) {
        const kind = KINDS[m[2]!];
        if (kind)
          calls.push({
            group: kind[0],
            resource: kind[1],
            verb: TYPED_VERBS[m[1]!]!,
            where: `${path}: ${m[0]}`,
          });
      }
      for (const m of text.matchAll(/['`]\/api\/v1\/(?:namespaces\/\$\{[^}]+\}\/)?([a-z]+)['`/]/g)) {
        if (dir === 'pkg/k8s') continue; // the informers themselves, counted above
        for (const verb of ['get', 'list', 'watch'])
          calls.push({ group: '', resource: m[1]!, verb, where: `${path}: ${m[0]}` });
      }
    }
  }
  return calls;
}

function granted(rules: V1PolicyRule[], c: ApiCall): boolean {
  return rules.some(
    (r) =>
      (r.apiGroups ?? []).includes(c.group) &&
      (r.resources ?? []).includes(c.resource) &&
      (r.verbs.includes(c.verb) || r.verbs.includes('*')) &&
      // list/watch/create ignore resourceNames-restricted rules (Kubernetes RBAC semantics).
      (r.resourceNames === undefined || !['list', 'watch', 'create'].includes(c.verb)),
  );
}

function rulesOf(app: string, p = P): V1PolicyRule[] {
  const objects = renderInstall(p, tls);
  const cluster = objects.find(
    (o) => o.kind === 'ClusterRole' && o.metadata?.name === clusterScopedName(app, p),
  ) as V1ClusterRole;
  const roles = objects.filter((o) => o.kind === 'Role' && o.metadata?.name === app) as V1Role[];
  return [...(cluster.rules ?? []), ...roles.flatMap((r) => r.rules ?? [])];
}

it('the informer scan finds the namespace, pod, secret, Service and EndpointSlice informers', () => {
  expect(Object.fromEntries(informerResources())).toEqual({
    namespaceInformer: 'namespaces',
    podInformer: 'pods',
    secretInformer: 'secrets',
    serviceInformer: 'services',
    endpointSliceInformer: 'discovery.k8s.io/endpointslices',
  });
});

/** The mesh identity code each component runs (pkg/identity holds both sides). */
const CONTROLLER_IDENTITY = ['pkg/identity/ca-secret.ts', 'pkg/identity/bootstrap-keeper.ts'];
const INJECTOR_IDENTITY = ['pkg/identity/ca-secret.ts', 'pkg/identity/bootstrap-provisioner.ts'];

describe.each([
  [
    CONTROLLER_APP,
    ['pkg/controller', 'pkg/catalog', 'cmd/fsm-controller', ...CONTROLLER_IDENTITY],
    ['namespaces', 'pods', 'secrets', 'services', 'endpointslices'],
  ],
  [
    INJECTOR_APP,
    ['pkg/injector', 'cmd/fsm-injector', 'pkg/deploy/webhook-cert.ts', ...INJECTOR_IDENTITY],
    ['namespaces', 'secrets'],
  ],
])('%s', (app, dirs, mustWatch) => {
  const calls = callsOf(dirs);

  it(`the scan finds list+watch of ${mustWatch.join(', ')}`, () => {
    expect(calls.length).toBeGreaterThan(0);
    for (const resource of mustWatch) {
      for (const verb of ['list', 'watch'])
        expect(calls).toContainEqual(expect.objectContaining({ resource, verb }));
    }
  });

  it('every API call found is granted by its ServiceAccount’s roles', () => {
    const rules = rulesOf(app);
    const missing = calls
      .filter((c) => !granted(rules, c))
      .map((c) => `${c.verb} ${c.resource} (${c.where})`);
    expect(missing).toEqual([]);
  });
});

it('the scan sees every identity call: CA list/watch/create; bootstrap create (injector), list/watch/update/delete (controller)', () => {
  const verbs = (files: string[]) =>
    [...new Set(callsOf(files).map((c) => `${c.verb} ${c.resource}`))].sort();
  expect(verbs(['pkg/identity/ca-secret.ts'])).toEqual(['create secrets', 'list secrets', 'watch secrets']);
  expect(verbs(['pkg/identity/bootstrap-provisioner.ts'])).toEqual(['create secrets']);
  expect(verbs(['pkg/identity/bootstrap-keeper.ts'])).toEqual([
    'delete secrets',
    'list secrets',
    'update secrets',
    'watch secrets',
  ]);
});

it('least privilege: the injector gets no rights on pods and never reads, updates or deletes Secrets outside its namespace; the controller creates Secrets only in the fsm namespace', () => {
  expect(granted(rulesOf(INJECTOR_APP), { group: '', resource: 'pods', verb: 'list', where: '' })).toBe(
    false,
  );
  const P2 = defaultInstallParams();
  const injectorCluster = renderInstall(P2, tls).find(
    (o) => o.kind === 'ClusterRole' && o.metadata?.name === clusterScopedName(INJECTOR_APP, P2),
  ) as V1ClusterRole;
  const secretRules = (injectorCluster.rules ?? []).filter((r) => r.resources?.includes('secrets'));
  expect(secretRules).toEqual([{ apiGroups: [''], resources: ['secrets'], verbs: ['create'] }]);
  const controllerCluster = renderInstall(P2, tls).find(
    (o) => o.kind === 'ClusterRole' && o.metadata?.name === clusterScopedName(CONTROLLER_APP, P2),
  ) as V1ClusterRole;
  const clusterWrites = (controllerCluster.rules ?? []).filter((r) =>
    r.verbs.some((v) => ['create', 'patch', 'update', 'delete'].includes(v)),
  );
  expect(clusterWrites).toEqual([
    { apiGroups: [''], resources: ['events'], verbs: ['get', 'list', 'watch', 'create', 'patch'] },
    { apiGroups: [''], resources: ['secrets'], verbs: ['list', 'watch', 'update', 'delete'] },
  ]);
  const controllerRole = renderInstall(P2, tls).find(
    (o) => o.kind === 'Role' && o.metadata?.name === CONTROLLER_APP,
  ) as V1Role;
  expect(controllerRole.metadata?.namespace).toBe(P2.fsmNamespace);
  expect(controllerRole.rules).toEqual([{ apiGroups: [''], resources: ['secrets'], verbs: ['create'] }]);
});

it('the injector may patch only its own webhook configuration', () => {
  const rule = rulesOf(INJECTOR_APP).find((r) => r.resources?.includes('mutatingwebhookconfigurations'));
  expect(rule?.resourceNames).toEqual([`fsm-injector-${P.meshName}`]);
  expect(rule?.verbs.sort()).toEqual(['get', 'patch']);
});

it('the scan sees the webhook certificate manager’s Secret and webhook calls (injector)', () => {
  const calls = callsOf(['pkg/deploy/webhook-cert.ts']).map((c) => `${c.verb} ${c.resource}`);
  expect(calls.sort()).toEqual(
    [
      'create secrets',
      'get mutatingwebhookconfigurations',
      'get secrets',
      'patch mutatingwebhookconfigurations',
      'update secrets',
    ].sort(),
  );
});

it('with cert-manager, the injector’s own calls are granted and the certificate manager’s are not', () => {
  // The rendered Deployment then runs without --manage-webhook-cert (test/unit/deploy/certManager.test.ts).
  const rules = rulesOf(INJECTOR_APP, defaultInstallParams({ certManager: true }));
  const missing = callsOf(['pkg/injector', 'cmd/fsm-injector'])
    .filter((c) => !granted(rules, c))
    .map((c) => `${c.verb} ${c.resource} (${c.where})`);
  expect(missing).toEqual([]);
  const certCalls = callsOf(['pkg/deploy/webhook-cert.ts']);
  expect(certCalls.length).toBeGreaterThan(0);
  // `create secrets` is granted in every mode now: the injector creates each pod's bootstrap credential.
  expect(certCalls.filter((c) => granted(rules, c)).map((c) => `${c.verb} ${c.resource}`)).toEqual([
    'create secrets',
  ]);
});
