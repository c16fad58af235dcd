/**
 * ADS stream authorization as a pure function: every refusal of issue 13 with its own status and
 * reason, and the one way in (a bootstrap certificate of the mesh, node.id = its proxy UUID, a live
 * pod with that UUID in that namespace running as that service account).
 */
import { X509Certificate } from 'node:crypto';
import {
  MeshAuthority,
  authorizeProxy,
  newMeshCaData,
  readMeshCa,
  type ProxyPod,
  type ProxyPodLookup,
} from '../../../pkg/identity/index.js';

const A = '11111111-1111-4111-8111-111111111111';
const B = '22222222-2222-4222-8222-222222222222';

async function authority(name: string): Promise<MeshAuthority> {
  const r = readMeshCa(await newMeshCaData(name), 'test');
  if (!r.ok) throw new Error(r.problem);
  return MeshAuthority.load(r.material);
}

function pods(list: Record<string, ProxyPod[]>, synced = true): ProxyPodLookup {
  return { synced: () => synced, byProxyUuid: (u) => list[u] ?? [] };
}

const podA: ProxyPod = { namespace: 'bookstore', name: 'a', serviceAccount: 'bookbuyer', deleting: false };
const podB: ProxyPod = { namespace: 'bookstore', name: 'b', serviceAccount: 'bookbuyer', deleting: false };

let mesh: MeshAuthority;
let certA: Buffer;
let certAShort: { der: Buffer; notAfter: number; notBefore: number };
let foreign: Buffer;
beforeAll(async () => {
  mesh = await authority('fsm');
  const other = await authority('other');
  certA = new X509Certificate(
    (await mesh.bootstrap({ proxyUuid: A, namespace: 'bookstore', serviceAccount: 'bookbuyer' })).certPem,
  ).raw;
  const s = await mesh.bootstrap(
    { proxyUuid: A, namespace: 'bookstore', serviceAccount: 'bookbuyer' },
    60_000,
  );
  certAShort = { der: new X509Certificate(s.certPem).raw, notAfter: s.notAfter, notBefore: s.notBefore };
  foreign = new X509Certificate(
    (await other.bootstrap({ proxyUuid: A, namespace: 'bookstore', serviceAccount: 'bookbuyer' })).certPem,
  ).raw;
});

const base = () => ({
  certificate: certA,
  nodeId: A,
  roots: mesh.material.roots,
  pods: pods({ [A]: [podA], [B]: [podB] }),
  now: Date.now(),
});

it('the sidecar of pod A with its own credential is authorized as pod A', () => {
  expect(authorizeProxy(base())).toEqual({
    ok: true,
    proxy: expect.objectContaining({
      proxyUuid: A,
      namespace: 'bookstore',
      serviceAccount: 'bookbuyer',
      pod: 'bookstore/a',
    }),
  });
});

it.each<[string, () => Parameters<typeof authorizeProxy>[0], string, RegExp]>([
  [
    'no client certificate (anonymous)',
    () => ({ ...base(), certificate: undefined }),
    'UNAUTHENTICATED',
    /no client certificate was presented/,
  ],
  [
    'expired',
    () => ({ ...base(), certificate: certAShort.der, now: certAShort.notAfter + 1000 }),
    'UNAUTHENTICATED',
    /expired at/,
  ],
  [
    'not yet valid',
    () => ({ ...base(), certificate: certAShort.der, now: certAShort.notBefore - 1000 }),
    'UNAUTHENTICATED',
    /is not valid before/,
  ],
  [
    'wrong CA',
    () => ({ ...base(), certificate: foreign }),
    'UNAUTHENTICATED',
    /not signed by a root of the mesh trust bundle/,
  ],
  [
    "mismatched: pod A's certificate, node.id of pod B",
    () => ({ ...base(), nodeId: B }),
    'PERMISSION_DENIED',
    new RegExp(`node.id "${B}" is not the proxy UUID of the client certificate \\(CN=${A}`),
  ],
  [
    'revoked by deletion (pod gone)',
    () => ({ ...base(), pods: pods({ [B]: [podB] }) }),
    'PERMISSION_DENIED',
    new RegExp(`no pod with proxy UUID ${A} in namespace bookstore`),
  ],
  [
    'pod being deleted',
    () => ({ ...base(), pods: pods({ [A]: [{ ...podA, deleting: true }] }) }),
    'PERMISSION_DENIED',
    /pod bookstore\/a is being deleted/,
  ],
  [
    'same UUID in another namespace only',
    () => ({ ...base(), pods: pods({ [A]: [{ ...podA, namespace: 'other' }] }) }),
    'PERMISSION_DENIED',
    /no pod with proxy UUID .* in namespace bookstore/,
  ],
  [
    'pod runs as another service account',
    () => ({ ...base(), pods: pods({ [A]: [{ ...podA, serviceAccount: 'admin' }] }) }),
    'PERMISSION_DENIED',
    /runs as service account admin, the client certificate names bookbuyer/,
  ],
  [
    'pods not listed yet (controller restart)',
    () => ({ ...base(), pods: pods({}, false) }),
    'UNAVAILABLE',
    /has not listed the pods yet/,
  ],
  [
    'no CA loaded',
    () => ({ ...base(), roots: [], caProblem: 'Secret fsm-system/fsm-mesh-ca is missing' }),
    'UNAVAILABLE',
    /mesh CA is not available: Secret fsm-system\/fsm-mesh-ca is missing/,
  ],
])('%s → %s', (_n, input, status, reason) => {
  const r = authorizeProxy(input());
  expect(r).toEqual({
    ok: false,
    status,
    reason: expect.stringMatching(reason),
    ...('presented' in r ? { presented: r.presented } : {}),
  });
});
