/**
 * The cert-manager path is wired end to end in the manifests: the webhook's inject-ca-from names the
 * serving Certificate, whose Secret is the one the injector mounts and whose names are the ones
 * kube-apiserver checks; each issuerRef resolves; the CA outlives every certificate it signed; and
 * the injector gets no rights it does not use. staleObjects/renderAnyMode: what switching modes
 * deletes and what uninstall covers.
 */
import type {
  V1Role,
  KubernetesObject,
  V1ClusterRole,
  V1Deployment,
  V1MutatingWebhookConfiguration,
} from '@kubernetes/client-node';
import {
  CERT_MANAGER_INJECT_CA_FROM_ANNOTATION,
  INJECTOR_APP,
  INJECTOR_SERVICE_NAME,
  INJECTOR_TLS_MOUNT_PATH,
  INJECTOR_TLS_SECRET_NAME,
} from '../../../pkg/constants/index.js';
import { clusterScopedName } from '../../../pkg/deploy/rbac.js';
import {
  defaultInstallParams,
  injectorDnsNames,
  renderAnyMode,
  renderInstall,
  staleObjects,
  type InjectorTls,
  type InstallParams,
} from '../../../pkg/deploy/index.js';
import { describeObject, objectKey } from '../../../pkg/deploy/render.js';

interface CertificateSpec {
  secretName: string;
  isCA?: boolean;
  dnsNames?: string[];
  usages?: string[];
  duration: string;
  renewBefore: string;
  issuerRef: { group: string; kind: string; name: string };
}
type Certificate = KubernetesObject & { spec: CertificateSpec };
type Issuer = KubernetesObject & { spec: { selfSigned?: object; ca?: { secretName: string } } };

const tls: InjectorTls = { caPem: 'ca\n', certPem: 'cert\n', keyPem: 'key\n' };
const CM = defaultInstallParams({ meshName: 'blue', fsmNamespace: 'blue-system', certManager: true });
const CM_ISSUER: InstallParams = { ...CM, certManagerIssuer: { kind: 'ClusterIssuer', name: 'corp-ca' } };
const SELF = defaultInstallParams({ meshName: 'blue', fsmNamespace: 'blue-system' });

function of<T>(objects: KubernetesObject[], kind: string, name?: string): T[] {
  return objects.filter((o) => o.kind === kind && (name === undefined || o.metadata?.name === name)) as T[];
}
const hoursOf = (d: string): number => {
  const m = /^(\d+)h$/.exec(d);
  if (!m) throw new Error(`not a whole-hours duration: ${d}`);
  return Number(m[1]);
};

describe.each([
  ['a self-signed CA chain', CM],
  ['a ClusterIssuer of the user', CM_ISSUER],
])('cert-manager with %s', (_name, p) => {
  const objects = renderInstall(p);
  const webhook = of<V1MutatingWebhookConfiguration>(objects, 'MutatingWebhookConfiguration')[0]!;
  const injector = of<V1Deployment>(objects, 'Deployment', INJECTOR_APP)[0]!;
  const certs = of<Certificate>(objects, 'Certificate');
  const from = webhook.metadata!.annotations![CERT_MANAGER_INJECT_CA_FROM_ANNOTATION]!;
  const serving = certs.find((c) => `${c.metadata!.namespace}/${c.metadata!.name}` === from);

  it('inject-ca-from names a rendered Certificate; no webhook carries a caBundle', () => {
    expect(from).toMatch(/^blue-system\//);
    expect(serving).toBeDefined();
    for (const w of webhook.webhooks!) expect(w.clientConfig.caBundle).toBeUndefined();
  });

  it('that Certificate writes the Secret the injector mounts at its TLS file paths', () => {
    expect(serving!.spec.secretName).toBe(INJECTOR_TLS_SECRET_NAME);
    const pod = injector.spec!.template.spec!;
    const mount = pod.containers[0]!.volumeMounts!.find((m) => m.mountPath === INJECTOR_TLS_MOUNT_PATH)!;
    const volume = pod.volumes!.find((v) => v.name === mount.name)!;
    expect(volume.secret?.secretName).toBe(serving!.spec.secretName);
    expect(mount.readOnly).toBe(true);
    // cert-manager's keys in a kubernetes.io/tls Secret are tls.crt and tls.key.
    expect(pod.containers[0]!.args).toEqual(
      expect.arrayContaining([
        `--tls-cert-file=${INJECTOR_TLS_MOUNT_PATH}/tls.crt`,
        `--tls-key-file=${INJECTOR_TLS_MOUNT_PATH}/tls.key`,
      ]),
    );
    expect(pod.containers[0]!.args).not.toContain('--manage-webhook-cert');
  });

  it('its names are the injector Service’s, including the one kube-apiserver checks', () => {
    expect(serving!.spec.dnsNames).toEqual(injectorDnsNames(p));
    expect(serving!.spec.dnsNames).toContain(`${INJECTOR_SERVICE_NAME}.${p.fsmNamespace}.svc`);
    expect(serving!.spec.usages).toContain('server auth');
  });

  it('every issuerRef resolves: to a rendered Issuer, or to the ClusterIssuer asked for', () => {
    for (const c of certs) {
      const ref = c.spec.issuerRef;
      expect(ref.group).toBe('cert-manager.io');
      if (ref.kind === 'ClusterIssuer') {
        expect(ref).toEqual({ group: 'cert-manager.io', ...p.certManagerIssuer });
      } else {
        expect(of<Issuer>(objects, 'Issuer', ref.name)).toHaveLength(1);
      }
    }
    for (const issuer of of<Issuer>(objects, 'Issuer')) {
      if (issuer.spec.ca) {
        // A CA issuer reads the Secret of a rendered CA Certificate, signed by a selfSigned issuer.
        const ca = certs.find((c) => c.spec.secretName === issuer.spec.ca!.secretName)!;
        expect(ca.spec.isCA).toBe(true);
        expect(of<Issuer>(objects, 'Issuer', ca.spec.issuerRef.name)[0]!.spec.selfSigned).toEqual({});
      }
    }
  });

  it('each certificate renews before it expires; the CA outlives every certificate it signed', () => {
    for (const c of certs) expect(hoursOf(c.spec.renewBefore)).toBeLessThan(hoursOf(c.spec.duration));
    const ca = certs.find((c) => c.spec.isCA);
    if (ca) {
      // Renewed while its remaining life still covers a whole serving certificate plus its renewal window.
      expect(hoursOf(ca.spec.renewBefore)).toBeGreaterThan(hoursOf(serving!.spec.duration));
    }
  });

  it('the injector may only watch namespaces and create bootstrap credentials: its Role reads the mesh CA only, no webhook patch', () => {
    const role = of<V1ClusterRole>(objects, 'ClusterRole', clusterScopedName(INJECTOR_APP, p))[0]!;
    expect(role.rules).toEqual([
      { apiGroups: [''], resources: ['namespaces'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: [''], resources: ['secrets'], verbs: ['create'] },
    ]);
    const injectorRole = of<V1Role>(objects, 'Role').filter((r) => r.metadata!.name === INJECTOR_APP);
    expect(injectorRole.map((r) => r.rules)).toEqual([
      [{ apiGroups: [''], resources: ['secrets'], verbs: ['list', 'watch'] }],
    ]);
    expect(of(objects, 'Secret')).toEqual([]);
  });
});

it('the self-managed install carries no cert-manager annotation and no cert-manager objects', () => {
  const objects = renderInstall(SELF, tls);
  const webhook = of<V1MutatingWebhookConfiguration>(objects, 'MutatingWebhookConfiguration')[0]!;
  expect(webhook.metadata!.annotations).toBeUndefined();
  expect(objects.filter((o) => o.apiVersion === 'cert-manager.io/v1')).toEqual([]);
});

const names = (objects: KubernetesObject[]): string[] => objects.map(describeObject).sort();

describe.each<[string, InstallParams, string[]]>([
  [
    'self-managed',
    SELF,
    [
      'Certificate blue-system/fsm-injector-ca',
      'Certificate blue-system/fsm-injector-serving',
      'Issuer blue-system/fsm-injector-ca',
      'Issuer blue-system/fsm-injector-selfsigned',
      'Secret blue-system/fsm-injector-ca',
    ],
  ],
  // The Roles are rendered in every mode now (the mesh CA Secret), so no mode leaves them stale.
  ['cert-manager', CM, []],
  [
    'cert-manager with a ClusterIssuer',
    CM_ISSUER,
    [
      'Certificate blue-system/fsm-injector-ca',
      'Issuer blue-system/fsm-injector-ca',
      'Issuer blue-system/fsm-injector-selfsigned',
      'Secret blue-system/fsm-injector-ca',
    ],
  ],
])('staleObjects (%s)', (_name, p, expected) => {
  const current = renderInstall(p, tls);
  const stale = staleObjects(p);

  it('names what the other modes leave and this one does not use', () => {
    expect(names(stale)).toEqual(expected.sort());
  });

  it('never an object this install applies, never the serving Secret', () => {
    const applied = new Set(current.map(objectKey));
    for (const o of stale) expect(applied.has(objectKey(o))).toBe(false);
    expect(names(stale)).not.toContain(`Secret blue-system/${INJECTOR_TLS_SECRET_NAME}`);
  });

  it('with what it applies (and the Secrets cert-manager writes), it is everything uninstall deletes', () => {
    const all = new Set(renderAnyMode(p).map(describeObject));
    const covered = new Set([
      ...names(current),
      ...names(stale),
      `Secret blue-system/${INJECTOR_TLS_SECRET_NAME}`,
      ...(p.certManager && !p.certManagerIssuer ? ['Secret blue-system/fsm-injector-ca'] : []),
    ]);
    expect([...covered].sort()).toEqual([...all].sort());
  });
});

it('renderAnyMode lists Certificates after the Secrets they write (deleted in reverse: Certificates first)', () => {
  const order = renderAnyMode(SELF).map(describeObject);
  const cert = order.indexOf('Certificate blue-system/fsm-injector-serving');
  expect(cert).toBeGreaterThan(order.indexOf(`Secret blue-system/${INJECTOR_TLS_SECRET_NAME}`));
  expect(order.indexOf('Certificate blue-system/fsm-injector-ca')).toBeGreaterThan(
    order.indexOf('Secret blue-system/fsm-injector-ca'),
  );
});
