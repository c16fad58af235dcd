/**
 * The installed webhook configuration drives real admissions: the install rendered by pkg/deploy is
 * applied to our API server, a real Injector serves the certificate from the installed Secret (as the
 * mounted files), and the API server calls it through the fsm-injector Service reference with the
 * installed caBundle. Pods in a monitored namespace are mutated; pods in the control-plane
 * namespace (even when labelled monitored-by) and in unmonitored namespaces are not.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import { Registry } from 'prom-client';
import {
  IGNORE_LABEL,
  INJECTOR_ADMISSIONS_METRIC,
  INJECTOR_TLS_SECRET_NAME,
  MONITORED_BY_LABEL,
  NAMESPACE_NAME_LABEL,
  READINESS_PROBE_PATH,
  READINESS_PROBE_PORT,
  SIDECAR_CONTAINER_NAME,
} from '../../../pkg/constants/index.js';
import {
  applyObjects,
  defaultInstallParams,
  issueInjectorTls,
  renderInstall,
} from '../../../pkg/deploy/index.js';
import { startTestApiServer, type TestApiServer } from '../../support/apiserver.js';
import { startInstalledInjector, type InstalledInjector } from '../../support/installed-injector.js';

const P = defaultInstallParams({ meshName: 'blue', fsmNamespace: 'blue-system' });
let h: TestApiServer;
let core: CoreV1Api;
let dir: string;
const registry = new Registry();
let running: InstalledInjector | undefined;

beforeAll(async () => {
  h = await startTestApiServer();
  core = h.kc.makeApiClient(CoreV1Api);
  // Reached at 127.0.0.1, but checked for fsm-injector.<ns>.svc (as kube-apiserver does): no IP SAN.
  const tls = await issueInjectorTls(P);
  await applyObjects(h.kc, renderInstall(P, tls));

  // What kubelet would mount from the installed Secret.
  const secret = await core.readNamespacedSecret({
    name: INJECTOR_TLS_SECRET_NAME,
    namespace: P.fsmNamespace,
  });
  dir = mkdtempSync(join(tmpdir(), 'fsm-deploy-admission-'));
  for (const key of ['tls.crt', 'tls.key']) {
    writeFileSync(join(dir, key), Buffer.from(secret.data![key]!, 'base64'));
  }
  await core.createNamespace({
    body: { metadata: { name: 'shop', labels: { [MONITORED_BY_LABEL]: 'blue' } } },
  });
  await core.createNamespace({ body: { metadata: { name: 'plain' } } });
  // Even labelled into the mesh and without the ignore label the install gave it, the control-plane
  // namespace stays out: the selector's kubernetes.io/metadata.name NotIn is what keeps it out then.
  const escape = (label: string): string => label.replace('/', '~1');
  await core.patchNamespace({
    name: P.fsmNamespace,
    body: [
      { op: 'add', path: `/metadata/labels/${escape(MONITORED_BY_LABEL)}`, value: 'blue' },
      { op: 'remove', path: `/metadata/labels/${escape(IGNORE_LABEL)}` },
    ],
  });

  running = await startInstalledInjector(h, {
    meshName: P.meshName,
    fsmNamespace: P.fsmNamespace,
    certDir: dir,
    registry,
  });
  const informer = running.informer;
  // The injector decides from its namespace cache: wait until it holds the namespaces created above.
  while (!informer.hasSynced() || informer.get('shop') === undefined || informer.get('plain') === undefined) {
    await sleep(20);
  }
});

afterAll(async () => {
  await running?.stop();
  await h.stop();
  rmSync(dir, { recursive: true, force: true });
});

function pod(namespace: string): V1Pod {
  return {
    metadata: { name: 'app', namespace },
    spec: {
      containers: [
        {
          name: 'app',
          image: 'example/app:1',
          ports: [{ containerPort: 8080 }],
          readinessProbe: { httpGet: { path: '/ready', port: 8080 } },
        },
      ],
    },
  };
}

it('a pod in a monitored namespace is mutated through the installed configuration', async () => {
  const created = await core.createNamespacedPod({ namespace: 'shop', body: pod('shop') });
  const names = created.spec!.containers.map((c) => c.name);
  expect(names).toContain(SIDECAR_CONTAINER_NAME);
  const app = created.spec!.containers.find((c) => c.name === 'app')!;
  expect(app.readinessProbe?.httpGet).toEqual(
    expect.objectContaining({ path: READINESS_PROBE_PATH, port: READINESS_PROBE_PORT }),
  );
});

/** Admissions the injector answered (any result). */
async function admissions(): Promise<number> {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === INJECTOR_ADMISSIONS_METRIC);
  return (metric?.values ?? []).reduce((sum, v) => sum + v.value, 0);
}

it('the control-plane namespace is labelled into the mesh and no longer ignored', async () => {
  const ns = await core.readNamespace({ name: P.fsmNamespace });
  expect(ns.metadata!.labels).toEqual(
    expect.objectContaining({ [MONITORED_BY_LABEL]: 'blue', [NAMESPACE_NAME_LABEL]: P.fsmNamespace }),
  );
  expect(ns.metadata!.labels![IGNORE_LABEL]).toBeUndefined();
});

it.each([P.fsmNamespace, 'plain'])('a pod in %s is not sent to the webhook', async (namespace) => {
  const before = await admissions();
  expect(before).toBeGreaterThan(0);
  const created = await core.createNamespacedPod({ namespace, body: pod(namespace) });
  expect(created.spec!.containers.map((c) => c.name)).toEqual(['app']);
  expect(created.spec!.containers[0]!.readinessProbe?.httpGet).toEqual(
    expect.objectContaining({ path: '/ready', port: 8080 }),
  );
  expect(await admissions()).toBe(before);
});
