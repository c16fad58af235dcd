/**
 * The bootstrap credential at admission: an injected pod gets the volume of its own Secret mounted
 * read-only into the sidecar only; a real admission creates the Secret first (a failure refuses the
 * pod naming the error); a dryRun admission gets the same patch and creates nothing.
 */
import type { V1Pod } from '@kubernetes/client-node';
import jsonpatch from 'fast-json-patch';
import type { BootstrapCredentials, BootstrapRequest } from '../../../pkg/identity/index.js';
import {
  defaultInjectorConfig,
  handleAdmission,
  mutatePod,
  withBootstrapCredential,
} from '../../../pkg/injector/index.js';
import { admissionReview, namespace, pod, realisticPod, sequentialUuids } from '../../support/injector.js';

const config = defaultInjectorConfig();
const monitored = namespace('app', { mesh: 'fsm' });
const UUID1 = '00000000-0000-4000-8000-000000000001';

function ctx() {
  return { config, namespace: () => monitored, newProxyUuid: sequentialUuids() };
}

class Recorder implements BootstrapCredentials {
  calls: BootstrapRequest[] = [];
  constructor(private readonly fail?: string) {}
  async provision(req: BootstrapRequest) {
    this.calls.push(req);
    if (this.fail) throw new Error(this.fail);
    return { secretName: `fsm-bootstrap-${req.proxyUuid}` };
  }
}

function responseOf(body: string): any {
  return JSON.parse(body).response;
}

it('the pod mounts its own bootstrap Secret, read-only, in the sidecar only', () => {
  const original = realisticPod();
  const r = mutatePod({
    object: original,
    namespace: 'app',
    namespaceObject: monitored,
    config,
    newProxyUuid: sequentialUuids(),
  });
  const out = jsonpatch.applyPatch(jsonpatch.deepClone(original), r.patch, true).newDocument as V1Pod;
  expect(out.spec!.volumes).toContainEqual({
    name: 'fsm-bootstrap',
    secret: { secretName: `fsm-bootstrap-${UUID1}`, defaultMode: 0o444 },
  });
  const mounts = out.spec!.containers.map((c) => [c.name, c.volumeMounts ?? []] as const);
  for (const [name, m] of mounts) {
    const has = m.some((v) => v.name === 'fsm-bootstrap');
    expect([name, has]).toEqual([name, name === 'sidecar']);
  }
  expect(out.spec!.containers.find((c) => c.name === 'sidecar')!.volumeMounts).toEqual([
    { name: 'fsm-bootstrap', mountPath: '/etc/fsm/bootstrap', readOnly: true },
  ]);
  expect(r).toMatchObject({
    proxyUuid: UUID1,
    namespace: 'app',
    serviceAccount: 'default',
    bootstrapSecret: `fsm-bootstrap-${UUID1}`,
  });
});

it('a pod that already has a volume named fsm-bootstrap is refused naming it', () => {
  const p = pod('p', [{ name: 'a' }]);
  p.spec!.volumes = [
    { name: 'data', emptyDir: {} },
    { name: 'fsm-bootstrap', emptyDir: {} },
  ];
  const r = mutatePod({
    object: p,
    namespace: 'app',
    namespaceObject: monitored,
    config,
    newProxyUuid: sequentialUuids(),
  });
  expect(r).toMatchObject({
    outcome: 'denied',
    reason: 'spec.volumes[1].name "fsm-bootstrap" is reserved for the volume fsm injects',
  });
});

it('a real admission creates the credential for the pod’s UUID, namespace and service account', async () => {
  const p = realisticPod();
  p.spec!.serviceAccountName = 'bookbuyer';
  const rec = new Recorder();
  const h = await withBootstrapCredential(handleAdmission(JSON.stringify(admissionReview(p)), ctx()), rec);
  expect(rec.calls).toEqual([{ proxyUuid: UUID1, namespace: 'app', serviceAccount: 'bookbuyer' }]);
  expect(responseOf(h.body)).toMatchObject({ allowed: true, patchType: 'JSONPatch' });
});

it('a dryRun admission: the same patch, no credential created', async () => {
  const rec = new Recorder();
  const real = handleAdmission(JSON.stringify(admissionReview(realisticPod())), ctx());
  const dry = handleAdmission(JSON.stringify(admissionReview(realisticPod(), { dryRun: true })), ctx());
  expect(dry.credential).toBeUndefined();
  expect(real.credential).toBeDefined();
  const h = await withBootstrapCredential(dry, rec);
  expect(rec.calls).toEqual([]);
  expect(responseOf(h.body).patch).toBe(responseOf(real.body).patch);
});

it('a credential that cannot be created refuses the pod, naming the error', async () => {
  const rec = new Recorder(
    'secrets is forbidden: User "system:serviceaccount:fsm-system:fsm-injector" cannot create',
  );
  const h = await withBootstrapCredential(
    handleAdmission(JSON.stringify(admissionReview(realisticPod())), ctx()),
    rec,
  );
  expect(h.result).toBe('denied');
  expect(responseOf(h.body)).toEqual({
    uid: expect.any(String),
    allowed: false,
    status: {
      code: 500,
      reason: 'InternalError',
      message: expect.stringMatching(
        new RegExp(
          `^cannot create the bootstrap credential of proxy ${UUID1} \\(app/default\\): secrets is forbidden`,
        ),
      ),
    },
  });
});

it('pods that are not injected never get a credential', () => {
  const skipped = handleAdmission(JSON.stringify(admissionReview(realisticPod())), {
    ...ctx(),
    namespace: () => namespace('app'),
  });
  expect(skipped.result).toBe('skipped');
  expect(skipped.credential).toBeUndefined();
});
