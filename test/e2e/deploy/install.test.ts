/**
 * `fsm install` / `fsm uninstall` against our API server (in-process CLI): objects created, a second
 * run changes nothing, a changed parameter patches, a certificate near expiry is rotated together
 * with the caBundle, uninstall removes everything (webhook configuration first), --dry-run touches
 * nothing. (Kinds an API server does not serve, and the cert-manager path: install-cert-manager.test.ts.)
 */
import {
  AdmissionregistrationV1Api,
  AppsV1Api,
  CoreV1Api,
  PatchStrategy,
  setHeaderOptions,
} from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { fsmVersion } from '../../../pkg/binary/index.js';
import { runCli, type CliDeps } from '../../../pkg/cli/index.js';
import { installCommand, uninstallCommand } from '../../../pkg/cli/index.js';
import { meshCommand } from '../../../pkg/cli/index.js';
import {
  APP_VERSION_LABEL,
  CONTROLLER_APP,
  INJECTOR_APP,
  INJECTOR_TLS_SECRET_NAME,
} from '../../../pkg/constants/index.js';
import { silentLogger } from '../../../pkg/logger/index.js';
import { createCA } from '../../../pkg/tls/index.js';
import { startTestApiServer, type TestApiServer } from '../../support/apiserver.js';

let h: TestApiServer;
let core: CoreV1Api;
let apps: AppsV1Api;
let admission: AdmissionregistrationV1Api;

beforeAll(async () => {
  h = await startTestApiServer();
  core = h.kc.makeApiClient(CoreV1Api);
  apps = h.kc.makeApiClient(AppsV1Api);
  admission = h.kc.makeApiClient(AdmissionregistrationV1Api);
});
afterAll(async () => {
  await h.stop();
});

async function fsm(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const deps: CliDeps = {
    io: { out: (t) => void out.push(t), err: (t) => void err.push(t) },
    logger: silentLogger(),
    kubeConfig: () => h.kc,
    groups: [installCommand, uninstallCommand, meshCommand],
  };
  const code = await runCli(['node', 'fsm', ...args], deps);
  return { code, out: out.join(''), err: err.join('') };
}

const WEBHOOK = 'fsm-injector-blue';
const NS = 'blue-system';
const MESH = ['--mesh-name', 'blue', '--fsm-namespace', NS];

async function exists(read: () => Promise<unknown>): Promise<boolean> {
  try {
    await read();
    return true;
  } catch (e) {
    if ((e as { code?: number }).code === 404) return false;
    throw e;
  }
}

describe('fsm install / uninstall', () => {
  it('install creates the whole control plane, RBAC and PodDisruptionBudgets included', async () => {
    const r = await fsm('install', ...MESH);
    expect(r.code).toBe(0);
    for (const line of [
      `Namespace ${NS} created`,
      `ServiceAccount ${NS}/${CONTROLLER_APP} created`,
      `ServiceAccount ${NS}/${INJECTOR_APP} created`,
      `Secret ${NS}/${INJECTOR_TLS_SECRET_NAME} created`,
      `Service ${NS}/${CONTROLLER_APP} created`,
      `Service ${NS}/${INJECTOR_APP} created`,
      `Deployment ${NS}/${CONTROLLER_APP} created`,
      `Deployment ${NS}/${INJECTOR_APP} created`,
      `MutatingWebhookConfiguration ${WEBHOOK} created`,
      `ClusterRole fsm-controller-blue created`,
      `ClusterRoleBinding fsm-injector-blue created`,
      `Role ${NS}/${INJECTOR_APP} created`,
      `RoleBinding ${NS}/${INJECTOR_APP} created`,
      `PodDisruptionBudget ${NS}/${CONTROLLER_APP} created`,
    ]) {
      expect(r.out).toContain(line + '\n');
    }
    expect(r.err).toBe('');
    expect(r.out).toContain(
      'fsm mesh [blue] in namespace [blue-system]: 19 created, 0 configured, 0 unchanged, 0 skipped, 0 deleted',
    );

    const d = await apps.readNamespacedDeployment({ name: CONTROLLER_APP, namespace: NS });
    expect(d.metadata?.labels?.[APP_VERSION_LABEL]).toBe(fsmVersion());
    const hook = await admission.readMutatingWebhookConfiguration({ name: WEBHOOK });
    const secret = await core.readNamespacedSecret({ name: INJECTOR_TLS_SECRET_NAME, namespace: NS });
    expect(hook.webhooks?.[0]?.clientConfig.caBundle).toBe(secret.data?.['ca.crt']);
  });

  it('`fsm mesh list` finds the installed mesh and its version', async () => {
    const r = await fsm('mesh', 'list', '-o', 'json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toContainEqual(
      expect.objectContaining({ name: 'blue', namespace: NS, version: fsmVersion() }),
    );
  });

  it('a second install changes nothing', async () => {
    const before = await apps.readNamespacedDeployment({ name: INJECTOR_APP, namespace: NS });
    const r = await fsm('install', ...MESH);
    expect(r.code).toBe(0);
    expect(r.out).toContain('0 created, 0 configured, 19 unchanged, 0 skipped, 0 deleted');
    expect(r.out).not.toMatch(/ (created|configured)\n/);
    const after = await apps.readNamespacedDeployment({ name: INJECTOR_APP, namespace: NS });
    expect(after.metadata?.resourceVersion).toBe(before.metadata?.resourceVersion);
  });

  it('a changed parameter patches only what it changes', async () => {
    const r = await fsm('install', ...MESH, '--controller-replicas', '2');
    expect(r.code).toBe(0);
    expect(r.out).toContain(`Deployment ${NS}/${CONTROLLER_APP} configured\n`);
    expect(r.out).toContain('0 created, 1 configured, 18 unchanged');
    const d = await apps.readNamespacedDeployment({ name: CONTROLLER_APP, namespace: NS });
    expect(d.spec?.replicas).toBe(2);
  });

  it('a certificate about to expire is rotated with the caBundle', async () => {
    const ca = await createCA('short-lived', 1);
    const serving = await ca.issue({ commonName: `fsm-injector.${NS}.svc`, validityDays: 1 });
    const b64 = (s: string): string => Buffer.from(s).toString('base64');
    await core.patchNamespacedSecret(
      {
        name: INJECTOR_TLS_SECRET_NAME,
        namespace: NS,
        body: {
          data: {
            'tls.crt': b64(serving.certPem),
            'tls.key': b64(serving.keyPem),
            'ca.crt': b64(ca.certPem),
          },
        },
      },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    const r = await fsm('install', ...MESH, '--controller-replicas', '2');
    expect(r.code).toBe(0);
    expect(r.out).toContain(`Secret ${NS}/${INJECTOR_TLS_SECRET_NAME} configured\n`);
    expect(r.out).toContain(`MutatingWebhookConfiguration ${WEBHOOK} configured\n`);
    const secret = await core.readNamespacedSecret({ name: INJECTOR_TLS_SECRET_NAME, namespace: NS });
    expect(secret.data?.['ca.crt']).not.toBe(b64(ca.certPem));
    const hook = await admission.readMutatingWebhookConfiguration({ name: WEBHOOK });
    expect(hook.webhooks?.[0]?.clientConfig.caBundle).toBe(secret.data?.['ca.crt']);
  });

  it('bad parameters exit 2 naming the flag or field', async () => {
    const r = await fsm('install', ...MESH, '--controller-image', 'Not An Image');
    expect(r.code).toBe(2);
    expect(r.err).toContain('controllerImage "Not An Image" is not an image reference');
    const replicas = await fsm('install', ...MESH, '--injector-replicas', '0');
    expect(replicas.code).toBe(2);
    expect(replicas.err).toContain('--injector-replicas');
  });

  it('uninstall deletes the webhook configuration first, then everything else; a second run finds nothing', async () => {
    const r = await fsm('uninstall', ...MESH);
    expect(r.code).toBe(0);
    const deleted = r.out.split('\n').filter((l) => l.endsWith(' deleted'));
    expect(deleted[0]).toBe(`MutatingWebhookConfiguration ${WEBHOOK} deleted`);
    expect(deleted.at(-1)).toBe(`Namespace ${NS} deleted`);
    expect(r.out).toContain('19 deleted, 5 not found'); // cert-manager's kinds: not served here
    expect(await exists(() => admission.readMutatingWebhookConfiguration({ name: WEBHOOK }))).toBe(false);
    expect(await exists(() => apps.readNamespacedDeployment({ name: CONTROLLER_APP, namespace: NS }))).toBe(
      false,
    );
    expect(
      await exists(() => core.readNamespacedSecret({ name: INJECTOR_TLS_SECRET_NAME, namespace: NS })),
    ).toBe(false);
    const again = await fsm('uninstall', ...MESH);
    expect(again.code).toBe(0);
    expect(again.out).toContain('0 deleted, 24 not found');
  });

  it('--dry-run prints multi-document YAML and creates nothing', async () => {
    const r = await fsm('install', '--mesh-name', 'green', '--fsm-namespace', 'green-system', '--dry-run');
    expect(r.code).toBe(0);
    const docs = parseAllDocuments(r.out).map((d) => d.toJS() as { kind: string });
    expect(docs).toHaveLength(19); // + the controller's Role and RoleBinding (mesh CA)
    expect(docs[0]!.kind).toBe('Namespace');
    expect(docs.at(-1)!.kind).toBe('MutatingWebhookConfiguration');
    expect(await exists(() => core.readNamespace({ name: 'green-system' }))).toBe(false);
  });
});
