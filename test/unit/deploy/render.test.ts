/**
 * Every rendered object validates against the schemas of maintained packages: kubernetes-models for
 * Kubernetes' kinds, @kubernetes-models/cert-manager for cert-manager's.
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { Deployment } from 'kubernetes-models/apps/v1';
import { MutatingWebhookConfiguration } from 'kubernetes-models/admissionregistration.k8s.io/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import {
  ClusterRole,
  ClusterRoleBinding,
  Role,
  RoleBinding,
} from 'kubernetes-models/rbac.authorization.k8s.io/v1';
import { Namespace, Secret, Service, ServiceAccount } from 'kubernetes-models/v1';
import { Certificate, ClusterIssuer, Issuer } from '@kubernetes-models/cert-manager/cert-manager.io/v1';
import {
  defaultInstallParams,
  issueInjectorTls,
  renderInstall,
  toYaml,
  type InjectorTls,
  type InstallParams,
} from '../../../pkg/deploy/index.js';
import { describeObject } from '../../../pkg/deploy/render.js';

// Each model class validates its own kind; an unknown kind fails the test.
const MODELS: Record<string, new (o: never) => { validate(): void }> = {
  'v1/Namespace': Namespace,
  'v1/ServiceAccount': ServiceAccount,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'apps/v1/Deployment': Deployment,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'rbac.authorization.k8s.io/v1/ClusterRole': ClusterRole,
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': ClusterRoleBinding,
  'rbac.authorization.k8s.io/v1/Role': Role,
  'rbac.authorization.k8s.io/v1/RoleBinding': RoleBinding,
  'admissionregistration.k8s.io/v1/MutatingWebhookConfiguration': MutatingWebhookConfiguration,
  'cert-manager.io/v1/Certificate': Certificate,
  'cert-manager.io/v1/Issuer': Issuer,
  'cert-manager.io/v1/ClusterIssuer': ClusterIssuer,
};

function validate(o: KubernetesObject): void {
  const Model = MODELS[`${o.apiVersion}/${o.kind}`];
  if (!Model) throw new Error(`no schema for ${o.apiVersion}/${o.kind}`);
  new Model(o as never).validate();
}

let tls: InjectorTls;
beforeAll(async () => {
  tls = await issueInjectorTls(defaultInstallParams());
});

const SELF_MANAGED_KINDS = [
  'ClusterRole',
  'ClusterRoleBinding',
  'Deployment',
  'MutatingWebhookConfiguration',
  'Namespace',
  'PodDisruptionBudget',
  'Role',
  'RoleBinding',
  'Secret',
  'Service',
  'ServiceAccount',
];
/** cert-manager writes the Secret; the Roles stay (the mesh CA Secret, read by both components). */
const CERT_MANAGER_KINDS = [
  ...SELF_MANAGED_KINDS.filter((k) => !['Secret'].includes(k)),
  'Certificate',
  'Issuer',
];

const VARIANTS: [string, Partial<InstallParams>][] = [
  ['defaults', {}],
  ['cert-manager', { certManager: true }],
  [
    'cert-manager with a ClusterIssuer',
    { certManager: true, certManagerIssuer: { kind: 'ClusterIssuer', name: 'corp-ca' } },
  ],
  ['other mesh and namespace', { meshName: 'blue', fsmNamespace: 'blue-system' }],
  ['replicas and log level', { controllerReplicas: 3, injectorReplicas: 2, logLevel: 'debug' }],
  [
    'images by digest and pull policy',
    {
      controllerImage: `registry.example.com:5000/fsm/controller@sha256:${'a'.repeat(64)}`,
      injectorImage: 'registry.example.com/fsm/injector:1.2.3',
      imagePullPolicy: 'Always',
    },
  ],
];

describe.each(VARIANTS)('renderInstall (%s)', (_name, overrides) => {
  it('every object validates against its Kubernetes schema', () => {
    const objects = renderInstall(defaultInstallParams(overrides), tls);
    for (const o of objects) {
      expect(() => validate(o)).not.toThrow();
    }
  });

  it('renders each kind the install needs, with unique names', () => {
    const objects = renderInstall(defaultInstallParams(overrides), tls);
    const kinds = new Set(objects.map((o) => o.kind));
    const expected = !overrides.certManager
      ? SELF_MANAGED_KINDS
      : overrides.certManagerIssuer
        ? CERT_MANAGER_KINDS.filter((k) => k !== 'Issuer') // the user's issuer: no bootstrap chain
        : CERT_MANAGER_KINDS;
    expect([...kinds].sort()).toEqual([...expected].sort());
    const names = objects.map(describeObject);
    expect(new Set(names).size).toBe(names.length);
  });

  it('YAML output parses back to the same objects', () => {
    const objects = renderInstall(defaultInstallParams(overrides), tls);
    const docs = parseAllDocuments(toYaml(objects)).map((d) => d.toJS() as unknown);
    expect(docs).toEqual(JSON.parse(JSON.stringify(objects)));
  });
});

it('a schema violation is caught (the validation is live)', () => {
  const objects = renderInstall(defaultInstallParams(), tls);
  const deploy = structuredClone(objects.find((o) => o.kind === 'Deployment')!) as {
    spec: { replicas: unknown };
  };
  deploy.spec.replicas = 'three';
  expect(() => validate(deploy as KubernetesObject)).toThrow();
});

it('renders the namespace first and the webhook configuration last', () => {
  const objects = renderInstall(defaultInstallParams(), tls);
  expect(objects[0]!.kind).toBe('Namespace');
  expect(objects.at(-1)!.kind).toBe('MutatingWebhookConfiguration');
});

it('a cert-manager schema violation is caught too', () => {
  const objects = renderInstall(defaultInstallParams({ certManager: true }));
  const cert = structuredClone(objects.find((o) => o.kind === 'Certificate')!) as {
    spec: { privateKey: { algorithm: string } };
  };
  cert.spec.privateKey.algorithm = 'DSA';
  expect(() => validate(cert as unknown as KubernetesObject)).toThrow();
});

it('without cert-manager the TLS material is required; with it, none is needed', () => {
  expect(() => renderInstall(defaultInstallParams())).toThrow(/TLS material is required/);
  expect(renderInstall(defaultInstallParams({ certManager: true }))).toEqual(
    renderInstall(defaultInstallParams({ certManager: true }), tls),
  );
});
