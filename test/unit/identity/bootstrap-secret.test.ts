/** The bootstrap Secret's shape and the sweep's decisions (delete, renew, re-bundle, keep). */
import { X509Certificate } from 'node:crypto';
import type { V1Secret } from '@kubernetes/client-node';
import {
  MeshAuthority,
  bootstrapSecret,
  decodeSecretData,
  newMeshCaData,
  newRoot,
  readMeshCa,
  rotateMeshCa,
  sweepBootstrapSecrets,
  type SweepInput,
} from '../../../pkg/identity/index.js';
import { decodeMessage, SECRET_TYPE_URL } from '../../../pkg/envoy/index.js';

const NOW = Date.now();
const HOUR = 3600_000;

async function authorityOf(data: Record<string, string>): Promise<MeshAuthority> {
  const r = readMeshCa(data, 'test');
  if (!r.ok) throw new Error(r.problem);
  return MeshAuthority.load(r.material);
}

let mesh: MeshAuthority;
let caData: Record<string, string>;
beforeAll(async () => {
  caData = await newMeshCaData('fsm');
  mesh = await authorityOf(caData);
});

async function secret(
  uuid: string,
  opts: { ns?: string; sa?: string; ageMs?: number; validityMs?: number; by?: MeshAuthority } = {},
): Promise<V1Secret> {
  const by = opts.by ?? mesh;
  const ns = opts.ns ?? 'app';
  const pair = await by.bootstrap(
    { proxyUuid: uuid, namespace: ns, serviceAccount: opts.sa ?? 'sa' },
    opts.validityMs,
  );
  const s = bootstrapSecret({
    proxyUuid: uuid,
    namespace: ns,
    meshName: 'fsm',
    pair,
    bundlePem: by.bundlePem,
  });
  s.metadata!.creationTimestamp = new Date(NOW - (opts.ageMs ?? 24 * HOUR)) as unknown as Date;
  return s;
}

function input(
  secrets: V1Secret[],
  pods: Record<string, string>,
  over: Partial<SweepInput> = {},
): SweepInput {
  return {
    secrets,
    pod: (ns, uuid) =>
      pods[`${ns}/${uuid}`] !== undefined ? { serviceAccount: pods[`${ns}/${uuid}`]! } : undefined,
    roots: mesh.material.roots,
    signing: mesh.material.signingCert,
    bundlePem: mesh.bundlePem,
    now: NOW,
    graceMs: 10 * 60_000,
    renewBeforeMs: 10 * 24 * HOUR,
    ...over,
  };
}

it('the Secret: name, labels, type, PEM pair, bundle and the SDS files Envoy reads', async () => {
  const s = await secret('abc');
  expect(s.metadata).toMatchObject({
    name: 'fsm-bootstrap-abc',
    namespace: 'app',
    labels: {
      'app.kubernetes.io/managed-by': 'fsm',
      meshName: 'fsm',
      'flomesh.io/identity': 'bootstrap',
      'flomesh.io/proxy-uuid': 'abc',
    },
  });
  expect(s.type).toBe('kubernetes.io/tls');
  const d = decodeSecretData(s.data);
  expect(Object.keys(d).sort()).toEqual(['ca.crt', 'sds-ca.json', 'sds-cert.json', 'tls.crt', 'tls.key']);
  expect(new X509Certificate(d['tls.crt']!).checkPrivateKey).toBeDefined();
  for (const f of ['sds-cert.json', 'sds-ca.json']) {
    const doc = JSON.parse(d[f]!) as { resources: { '@type': string }[] };
    expect(doc.resources).toHaveLength(1);
    expect(doc.resources[0]!['@type']).toBe(SECRET_TYPE_URL);
  }
  const cert = JSON.parse(d['sds-cert.json']!).resources[0];
  expect(cert.name).toBe('fsm-bootstrap-cert');
  expect(cert.tls_certificate.certificate_chain.inline_string).toBe(d['tls.crt']);
  const ca = JSON.parse(d['sds-ca.json']!).resources[0];
  expect(ca.validation_context.trusted_ca.inline_string).toBe(mesh.bundlePem);
  // Both documents are Secrets Envoy decodes: through fsm's proto root, nothing dropped.
  const { '@type': _t, ...fields } = cert;
  expect(
    decodeMessage(
      SECRET_TYPE_URL,
      (await import('../../../pkg/envoy/index.js')).encodeMessage(SECRET_TYPE_URL, fields),
    ),
  ).toMatchObject({ name: 'fsm-bootstrap-cert' });
});

it('a proxy UUID that cannot name a Secret is refused', async () => {
  const pair = await mesh.bootstrap({ proxyUuid: 'ABC', namespace: 'app', serviceAccount: 'sa' });
  expect(() =>
    bootstrapSecret({ proxyUuid: 'ABC', namespace: 'app', meshName: 'fsm', pair, bundlePem: '' }),
  ).toThrow(/proxy UUID "ABC" cannot name a Secret/);
});

it('sweep: delete orphans past the grace, keep young ones and live pods', async () => {
  const live = await secret('live');
  const orphan = await secret('orphan');
  const young = await secret('young', { ageMs: 60_000 });
  const otherNs = await secret('moved', { ns: 'b' });
  const plan = sweepBootstrapSecrets(
    input([live, orphan, young, otherNs], { 'app/live': 'sa', 'a/moved': 'sa' }),
  );
  expect(plan.remove.map((r) => r.name).sort()).toEqual(['fsm-bootstrap-moved', 'fsm-bootstrap-orphan']);
  expect(plan.remove[0]!.reason).toMatch(/no pod with proxy UUID .* for \d+s/);
  expect(plan.renew).toEqual([]);
});

it('sweep: renew near expiry, after a root activation, on a service account change; re-bundle after stage', async () => {
  const soon = await secret('soon', { validityMs: 2 * HOUR });
  const sa = await secret('sa-changed');
  const staged = rotateMeshCa(caData, 'stage', 'test', await newRoot('fsm'));
  if (!staged.ok) throw new Error(staged.error);
  const s1 = await authorityOf(staged.data);
  const activated = rotateMeshCa(staged.data, 'activate', 'test');
  if (!activated.ok) throw new Error(activated.error);
  const s2 = await authorityOf(activated.data);
  const pods = { 'app/soon': 'sa', 'app/sa-changed': 'other', 'app/old-root': 'sa', 'app/fine': 'sa' };
  const oldRoot = await secret('old-root');
  const fine = await secret('fine');

  const afterStage = sweepBootstrapSecrets(
    input([soon, sa, oldRoot, fine], pods, {
      roots: s1.material.roots,
      signing: s1.material.signingCert,
      bundlePem: s1.bundlePem,
    }),
  );
  expect(Object.fromEntries(afterStage.renew.map((r) => [r.name.slice(14), [r.reissue, r.reason]]))).toEqual({
    soon: [true, expect.stringMatching(/certificate expires at/)],
    'sa-changed': [true, expect.stringMatching(/the pod is sa-changed\.other/)],
    'old-root': [false, 'trust bundle changed'],
    fine: [false, 'trust bundle changed'],
  });
  const afterActivate = sweepBootstrapSecrets(
    input([oldRoot], pods, {
      roots: s2.material.roots,
      signing: s2.material.signingCert,
      bundlePem: s2.bundlePem,
    }),
  );
  expect(afterActivate.renew).toEqual([
    expect.objectContaining({
      reissue: true,
      reason: 'certificate not signed by the active root',
      identity: { proxyUuid: 'old-root', namespace: 'app', serviceAccount: 'sa' },
    }),
  ]);
  expect(sweepBootstrapSecrets(input([fine], pods))).toEqual({ remove: [], renew: [] });
});
