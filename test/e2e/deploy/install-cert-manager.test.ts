/**
 * `fsm install --cert-manager` against our API server: refused (creating nothing) where cert-manager
 * is not installed; where its kinds are served, the Issuers and Certificates are applied, the
 * injector mounts the Secret cert-manager writes and the webhook asks cert-manager to inject its
 * caBundle. With cert-manager's part played by test/support/cert-manager.ts, a real Injector serving
 * from that Secret — projected as kubelet does — admits pods through the installed configuration, and
 * keeps admitting them after cert-manager re-issues the whole chain. Switching modes in either
 * direction removes what the other mode left; uninstall removes both. A kind the API server does not
 * serve is skipped with a warning (not cert-manager's: that one refuses).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  AdmissionregistrationV1Api,
  AppsV1Api,
  CoreV1Api,
  KubernetesObjectApi,
  RbacAuthorizationV1Api,
  type KubernetesObject,
  type V1PolicyRule,
} from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { installCommand, uninstallCommand } from '../../../pkg/cli/index.js';
import {
  CERT_MANAGER_INJECT_CA_FROM_ANNOTATION,
  INJECTOR_APP,
  INJECTOR_TLS_SECRET_NAME,
  MONITORED_BY_LABEL,
  SIDECAR_CONTAINER_NAME,
} from '../../../pkg/constants/index.js';
import { RESOURCES } from '../../../pkg/sandbox/apiserver/index.js';
import { startTestApiServer, type TestApiServer } from '../../support/apiserver.js';
import { CERT_MANAGER_RESOURCES, reconcileCertManager } from '../../support/cert-manager.js';
import { runFsm, type CliRun } from '../../support/cli.js';
import { eventually } from '../../support/eventually.js';
import { startInstalledInjector, type InstalledInjector } from '../../support/installed-injector.js';
import { projectSecret } from '../../support/secret-volume.js';

const NS = 'blue-system';
const WEBHOOK = 'fsm-injector-blue';
const MESH = ['--mesh-name', 'blue', '--fsm-namespace', NS];
const GROUPS = [installCommand, uninstallCommand];

function fsm(h: TestApiServer, ...args: string[]): Promise<CliRun> {
  return runFsm(args, h.kc, { groups: GROUPS });
}

async function exists(h: TestApiServer, o: KubernetesObject): Promise<boolean> {
  try {
    await KubernetesObjectApi.makeApiClient(h.kc).read(o as never);
    return true;
  } catch (e) {
    if ((e as { code?: number }).code === 404) return false;
    throw e;
  }
}

const cm = (kind: string, name: string): KubernetesObject => ({
  apiVersion: 'cert-manager.io/v1',
  kind,
  metadata: { name, namespace: NS },
});
const CM_OBJECTS = [
  cm('Issuer', 'fsm-injector-selfsigned'),
  cm('Certificate', 'fsm-injector-ca'),
  cm('Issuer', 'fsm-injector-ca'),
  cm('Certificate', 'fsm-injector-serving'),
];
/** The injector's Role: in every mode (the mesh CA); with cert-manager it has no webhook TLS Secret rule. */
async function injectorRoleRules(h: TestApiServer): Promise<V1PolicyRule[] | undefined> {
  const role = await h.kc
    .makeApiClient(RbacAuthorizationV1Api)
    .readNamespacedRole({ name: INJECTOR_APP, namespace: NS });
  return role.rules;
}
const CA_ONLY_RULES: V1PolicyRule[] = [{ apiGroups: [''], resources: ['secrets'], verbs: ['list', 'watch'] }];
const lines = (r: CliRun): string[] => r.stdout.split('\n');

describe('an API server without cert-manager', () => {
  let h: TestApiServer;
  beforeAll(async () => {
    // An older cluster, too: no policy/v1 PodDisruptionBudgets.
    h = await startTestApiServer({ resources: RESOURCES.filter((r) => r.kind !== 'PodDisruptionBudget') });
  });
  afterAll(() => h.stop());

  it('--cert-manager is refused before anything is created, naming what is missing', async () => {
    const r = await fsm(h, 'install', ...MESH, '--cert-manager');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      'cert-manager is not installed: the API server does not serve Issuer (cert-manager.io/v1), ' +
        'Certificate (cert-manager.io/v1)',
    );
    expect(r.stdout).toBe('');
    expect(await exists(h, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } })).toBe(false);
  });

  it('a kind the API server does not serve is skipped with a warning; the rest is installed', async () => {
    const r = await fsm(h, 'install', ...MESH);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(
      `Warning: PodDisruptionBudget ${NS}/fsm-controller skipped: the API server does not serve ` +
        'PodDisruptionBudget (policy/v1)',
    );
    expect(r.stdout).toContain('17 created, 0 configured, 0 unchanged, 2 skipped, 0 deleted');
  });

  it('uninstall counts the kinds it cannot find as not found', async () => {
    const r = await fsm(h, 'uninstall', ...MESH);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(
      'Certificate blue-system/fsm-injector-serving not found (the API server does not serve Certificate (cert-manager.io/v1))',
    );
    expect(r.stdout).toContain('17 deleted, 7 not found');
  });
});

describe('fsm install --cert-manager', () => {
  let h: TestApiServer;
  let core: CoreV1Api;
  let admission: AdmissionregistrationV1Api;
  let dir: string;
  let running: InstalledInjector | undefined;

  beforeAll(async () => {
    h = await startTestApiServer({ resources: CERT_MANAGER_RESOURCES });
    core = h.kc.makeApiClient(CoreV1Api);
    admission = h.kc.makeApiClient(AdmissionregistrationV1Api);
    dir = mkdtempSync(join(tmpdir(), 'fsm-cert-manager-'));
  });
  afterAll(async () => {
    await running?.stop();
    await h.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('--dry-run prints the Certificates and no certificate material', async () => {
    const r = await fsm(h, 'install', ...MESH, '--cert-manager', '--dry-run');
    expect(r.code).toBe(0);
    const docs = parseAllDocuments(r.stdout).map((d) => d.toJS() as KubernetesObject);
    expect(docs.filter((d) => d.kind === 'Certificate').map((d) => d.metadata?.name)).toEqual([
      'fsm-injector-ca',
      'fsm-injector-serving',
    ]);
    expect(docs.some((d) => d.kind === 'Secret')).toBe(false);
    expect(r.stdout).not.toContain('BEGIN');
    expect(await exists(h, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } })).toBe(false);
  });

  it('applies the issuers and certificates; the webhook waits for cert-manager to inject its CA', async () => {
    const r = await fsm(h, 'install', ...MESH, '--cert-manager');
    expect(r.code).toBe(0);
    for (const line of [
      `Issuer ${NS}/fsm-injector-selfsigned created`,
      `Certificate ${NS}/fsm-injector-ca created`,
      `Issuer ${NS}/fsm-injector-ca created`,
      `Certificate ${NS}/fsm-injector-serving created`,
      `MutatingWebhookConfiguration ${WEBHOOK} created`,
    ]) {
      expect(lines(r)).toContain(line);
    }
    expect(r.stdout).toContain('22 created, 0 configured, 0 unchanged, 0 skipped, 0 deleted');
    expect(r.stdout).toContain(
      `webhook certificate: issued by cert-manager (Issuer fsm-injector-ca) into Secret ${NS}/${INJECTOR_TLS_SECRET_NAME}`,
    );
    expect(r.stderr).toBe('');
    // fsm wrote no certificate and grants the injector nothing on Secrets.
    expect(
      await exists(h, {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: INJECTOR_TLS_SECRET_NAME, namespace: NS },
      }),
    ).toBe(false);
    expect(await injectorRoleRules(h)).toEqual(CA_ONLY_RULES);
    const hook = await admission.readMutatingWebhookConfiguration({ name: WEBHOOK });
    expect(hook.metadata?.annotations?.[CERT_MANAGER_INJECT_CA_FROM_ANNOTATION]).toBe(
      `${NS}/fsm-injector-serving`,
    );
    expect(hook.webhooks?.[0]?.clientConfig.caBundle).toBeUndefined();
    const d = await h.kc
      .makeApiClient(AppsV1Api)
      .readNamespacedDeployment({ name: INJECTOR_APP, namespace: NS });
    const spec = d.spec!.template.spec!;
    expect(spec.containers[0]!.args).not.toContain('--manage-webhook-cert');
    expect(spec.volumes).toEqual([
      { name: 'tls', secret: { secretName: INJECTOR_TLS_SECRET_NAME, defaultMode: 0o440 } },
    ]);
  });

  it('a second run changes nothing, even after cert-manager filled the caBundle', async () => {
    const done = await reconcileCertManager(h.kc, NS);
    expect(done.issued).toEqual([`${NS}/fsm-injector-ca`, `${NS}/${INJECTOR_TLS_SECRET_NAME}`]);
    expect(done.injected).toEqual([WEBHOOK]);
    const r = await fsm(h, 'install', ...MESH, '--cert-manager');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('0 created, 0 configured, 22 unchanged, 0 skipped, 0 deleted');
    const hook = await admission.readMutatingWebhookConfiguration({ name: WEBHOOK });
    const secret = await core.readNamespacedSecret({ name: INJECTOR_TLS_SECRET_NAME, namespace: NS });
    expect(hook.webhooks?.[0]?.clientConfig.caBundle).toBe(secret.data?.['ca.crt']);
  });

  async function createPod(name: string): Promise<string[]> {
    const created = await core.createNamespacedPod({
      namespace: 'shop',
      body: {
        metadata: { name },
        spec: {
          containers: [
            {
              name: 'app',
              image: 'example/app:1',
              readinessProbe: { httpGet: { path: '/ready', port: 8080 } },
            },
          ],
        },
      },
    });
    return created.spec!.containers.map((c) => c.name);
  }

  it('the injector serves the Secret cert-manager wrote; the API server trusts it through the injected CA', async () => {
    const secretDir = join(dir, 'tls');
    await projectSecret(
      secretDir,
      await core.readNamespacedSecret({ name: INJECTOR_TLS_SECRET_NAME, namespace: NS }),
    );
    await core.createNamespace({
      body: { metadata: { name: 'shop', labels: { [MONITORED_BY_LABEL]: 'blue' } } },
    });
    running = await startInstalledInjector(h, {
      meshName: 'blue',
      fsmNamespace: NS,
      certDir: secretDir,
      certReloadIntervalMs: 60_000, // the directory watch must be what notices the swap
    });
    // Reached at 127.0.0.1; the certificate is checked for fsm-injector.blue-system.svc, as kube-apiserver does.
    const informer = running.informer;
    while (informer.get('shop') === undefined) await sleep(20);
    expect(await createPod('before-rotation')).toContain(SIDECAR_CONTAINER_NAME);
  });

  it('after cert-manager re-issues the CA and the serving certificate, pods are still admitted', async () => {
    const before = (await admission.readMutatingWebhookConfiguration({ name: WEBHOOK })).webhooks?.[0]
      ?.clientConfig.caBundle;
    const done = await reconcileCertManager(h.kc, NS, { reissue: true });
    expect(done.injected).toEqual([WEBHOOK]);
    const after = (await admission.readMutatingWebhookConfiguration({ name: WEBHOOK })).webhooks?.[0]
      ?.clientConfig.caBundle;
    expect(after).not.toBe(before);
    // kubelet's atomic swap of the projected Secret; the injector reloads without a restart.
    await projectSecret(
      join(dir, 'tls'),
      await core.readNamespacedSecret({ name: INJECTOR_TLS_SECRET_NAME, namespace: NS }),
    );
    const names = await eventually('an admission with the re-issued certificate', () =>
      createPod(`after-rotation-${Date.now()}`),
    );
    expect(names).toContain(SIDECAR_CONTAINER_NAME);
  });

  it('switching to the self-managed certificate removes the cert-manager objects and annotation', async () => {
    const caBundle = (await admission.readMutatingWebhookConfiguration({ name: WEBHOOK })).webhooks?.[0]
      ?.clientConfig.caBundle;
    const r = await fsm(h, 'install', ...MESH);
    expect(r.code).toBe(0);
    for (const line of [
      `Certificate ${NS}/fsm-injector-serving deleted`,
      `Issuer ${NS}/fsm-injector-ca deleted`,
      `Certificate ${NS}/fsm-injector-ca deleted`,
      `Issuer ${NS}/fsm-injector-selfsigned deleted`,
      `Secret ${NS}/fsm-injector-ca deleted`,
      // The Role exists in both modes (the mesh CA); it gains the webhook TLS Secret rule here.
      `Role ${NS}/${INJECTOR_APP} configured`,
      `MutatingWebhookConfiguration ${WEBHOOK} configured`,
    ]) {
      expect(lines(r)).toContain(line);
    }
    expect(r.stdout).toContain('5 deleted\n');
    for (const o of CM_OBJECTS) expect(await exists(h, o)).toBe(false);
    const hook = await admission.readMutatingWebhookConfiguration({ name: WEBHOOK });
    expect(hook.metadata?.annotations?.[CERT_MANAGER_INJECT_CA_FROM_ANNOTATION]).toBeUndefined();
    // The certificate cert-manager left in the Secret is still valid: reused, the caBundle unchanged.
    expect(hook.webhooks?.[0]?.clientConfig.caBundle).toBe(caBundle);
    expect(await createPod(`self-managed-${Date.now()}`)).toContain(SIDECAR_CONTAINER_NAME);
  });

  it('and back: the injector’s Role loses the webhook TLS Secret rule, the issuers and certificates return', async () => {
    const r = await fsm(h, 'install', ...MESH, '--cert-manager');
    expect(r.code).toBe(0);
    expect(lines(r)).toContain(`Role ${NS}/${INJECTOR_APP} configured`);
    expect(lines(r)).toContain(`RoleBinding ${NS}/${INJECTOR_APP} unchanged`);
    expect(r.stdout).toContain('4 created, 4 configured, 14 unchanged, 0 skipped, 0 deleted');
    for (const o of CM_OBJECTS) expect(await exists(h, o)).toBe(true);
    // Kept for the mesh CA, without the webhook TLS Secret rule.
    expect(await injectorRoleRules(h)).toEqual(CA_ONLY_RULES);
  });

  it('--cert-manager-issuer: a missing issuer is refused; an existing one replaces the bootstrap chain', async () => {
    const missing = await fsm(h, 'install', ...MESH, '--cert-manager-issuer', 'ClusterIssuer/corp-ca');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('--cert-manager-issuer: ClusterIssuer corp-ca not found');
    const bad = await fsm(h, 'install', ...MESH, '--cert-manager-issuer', 'corp-ca');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('"corp-ca" is not Issuer/<name> or ClusterIssuer/<name>');

    await KubernetesObjectApi.makeApiClient(h.kc).create({
      apiVersion: 'cert-manager.io/v1',
      kind: 'ClusterIssuer',
      metadata: { name: 'corp-ca' },
      spec: { ca: { secretName: 'corp-ca' } },
    } as KubernetesObject);
    const r = await fsm(h, 'install', ...MESH, '--cert-manager-issuer', 'ClusterIssuer/corp-ca');
    expect(r.code).toBe(0);
    expect(lines(r)).toContain(`Certificate ${NS}/fsm-injector-serving configured`);
    for (const o of CM_OBJECTS.filter((o) => o.metadata?.name !== 'fsm-injector-serving')) {
      expect(lines(r)).toContain(`${o.kind} ${NS}/${o.metadata!.name} deleted`);
    }
    const serving = (await KubernetesObjectApi.makeApiClient(h.kc).read(CM_OBJECTS[3]! as never)) as {
      spec: { issuerRef: unknown };
    };
    expect(serving.spec.issuerRef).toEqual({
      group: 'cert-manager.io',
      kind: 'ClusterIssuer',
      name: 'corp-ca',
    });
  });

  it('an object of the same name that fsm did not create is never pruned', async () => {
    // The user's own Issuer, named like the bootstrap one the issuer mode just pruned: no fsm labels.
    const theirs = { ...CM_OBJECTS[0]!, spec: { selfSigned: {} } } as KubernetesObject;
    await KubernetesObjectApi.makeApiClient(h.kc).create(theirs);
    const r = await fsm(h, 'install', ...MESH, '--cert-manager-issuer', 'ClusterIssuer/corp-ca');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('0 deleted\n');
    expect(await exists(h, CM_OBJECTS[0]!)).toBe(true);
  });

  it('uninstall deletes the objects of both modes; a second run finds nothing', async () => {
    const r = await fsm(h, 'uninstall', ...MESH);
    expect(r.code).toBe(0);
    expect(lines(r)[0]).toBe(`MutatingWebhookConfiguration ${WEBHOOK} deleted`);
    expect(lines(r)).toContain(`Certificate ${NS}/fsm-injector-serving deleted`);
    for (const o of CM_OBJECTS) expect(await exists(h, o)).toBe(false);
    const again = await fsm(h, 'uninstall', ...MESH);
    expect(again.stdout).toContain('0 deleted, 24 not found'); // + the controller's Role and RoleBinding (mesh CA)
  });
});
