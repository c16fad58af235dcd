/** Install parameters: defaults from pkg/binary and pkg/constants; bad values name field and value. */
import { fsmVersion } from '../../../pkg/binary/index.js';
import { DEFAULT_FSM_NAMESPACE, DEFAULT_MESH_NAME } from '../../../pkg/constants/index.js';
import {
  defaultInstallParams,
  parseIssuerRef,
  validateInstallParams,
  type InstallParams,
} from '../../../pkg/deploy/index.js';

it('defaults: mesh fsm in fsm-system, images tagged with the fsm version', () => {
  const p = defaultInstallParams();
  expect(p.meshName).toBe(DEFAULT_MESH_NAME);
  expect(p.fsmNamespace).toBe(DEFAULT_FSM_NAMESPACE);
  expect(p.version).toBe(fsmVersion());
  expect(p.controllerImage).toBe(`flomesh/fsm-controller:v${fsmVersion()}`);
  expect(p.injectorImage).toBe(`flomesh/fsm-injector:v${fsmVersion()}`);
  expect(validateInstallParams(p)).toBe(p);
});

const BAD: [Partial<InstallParams>, RegExp][] = [
  [{ meshName: 'Blue' }, /meshName "Blue"/],
  [{ meshName: '' }, /meshName ""/],
  [{ meshName: 'a'.repeat(64) }, /meshName/],
  [{ fsmNamespace: 'fsm_system' }, /fsmNamespace "fsm_system"/],
  [{ version: 'v1 beta' }, /version "v1 beta"/],
  [{ version: '' }, /version ""/],
  [{ controllerImage: 'has space:1' }, /controllerImage "has space:1"/],
  [{ injectorImage: '' }, /injectorImage ""/],
  [{ sidecarImage: 'envoy:' }, /sidecarImage "envoy:"/],
  [{ controllerReplicas: 0 }, /controllerReplicas 0/],
  [{ injectorReplicas: 1.5 }, /injectorReplicas 1.5/],
  [{ controllerReplicas: 101 }, /controllerReplicas 101/],
  [{ logLevel: 'loud' as never }, /logLevel "loud"/],
  [{ imagePullPolicy: 'Sometimes' as never }, /imagePullPolicy "Sometimes"/],
  [
    { certManagerIssuer: { kind: 'ClusterIssuer', name: 'corp-ca' } },
    /certManagerIssuer ClusterIssuer\/corp-ca needs certManager: true/,
  ],
  [
    { certManager: true, certManagerIssuer: { kind: 'Vault' as never, name: 'x' } },
    /certManagerIssuer kind "Vault" must be Issuer or ClusterIssuer/,
  ],
  [
    { certManager: true, certManagerIssuer: { kind: 'Issuer', name: 'Corp_CA' } },
    /certManagerIssuer name "Corp_CA"/,
  ],
];

it.each(BAD)('rejects %j', (overrides, message) => {
  expect(() => validateInstallParams(defaultInstallParams(overrides))).toThrow(message);
});

const GOOD: Partial<InstallParams>[] = [
  { meshName: 'a' },
  { meshName: 'mesh-2', fsmNamespace: 'x' },
  { version: '1.2.3-rc.1' },
  { controllerImage: 'localhost:5000/fsm-controller:dev' },
  { controllerImage: 'fsm-controller' },
  { injectorImage: `ghcr.io/o/fsm-injector@sha256:${'0'.repeat(64)}` },
  { controllerReplicas: 100, injectorReplicas: 1 },
  { logLevel: 'trace' },
  { certManager: true },
  { certManager: true, certManagerIssuer: { kind: 'ClusterIssuer', name: 'letsencrypt.internal-ca' } },
];

it.each(GOOD)('accepts %j', (overrides) => {
  expect(() => validateInstallParams(defaultInstallParams(overrides))).not.toThrow();
});

it.each([
  ['Issuer/corp-ca', { kind: 'Issuer', name: 'corp-ca' }],
  ['ClusterIssuer/corp.ca-1', { kind: 'ClusterIssuer', name: 'corp.ca-1' }],
])('parseIssuerRef(%s)', (value, ref) => {
  expect(parseIssuerRef(value)).toEqual(ref);
});

it.each([
  ['corp-ca', /"corp-ca" is not Issuer\/<name> or ClusterIssuer\/<name>/],
  ['issuer/corp-ca', /"issuer\/corp-ca" is not Issuer/],
  ['Issuer/', /"Issuer\/" is not Issuer/],
  ['ClusterIssuer/Corp', /certManagerIssuer name "Corp" must be a DNS-1123 subdomain/],
  ['Issuer/a/b', /certManagerIssuer name "a\/b"/],
])('parseIssuerRef(%s) throws naming the value', (value, message) => {
  expect(() => parseIssuerRef(value)).toThrow(message);
});

describe('controllerOutOfSyncThreshold', () => {
  it('renders --out-of-sync-threshold only when set, and refuses what is not a duration', async () => {
    const { renderInstall } = await import('../../../pkg/deploy/render.js');
    const tls = { caPem: '', certPem: '', keyPem: '' };
    const args = (p: ReturnType<typeof defaultInstallParams>): string[] =>
      (
        renderInstall(p, tls).find(
          (o) => o.kind === 'Deployment' && o.metadata?.name === 'fsm-controller',
        ) as {
          spec: { template: { spec: { containers: { args: string[] }[] } } };
        }
      ).spec.template.spec.containers[0]!.args;
    expect(args(defaultInstallParams()).some((a) => a.startsWith('--out-of-sync-threshold'))).toBe(false);
    expect(args(defaultInstallParams({ controllerOutOfSyncThreshold: '5s' }))).toContain(
      '--out-of-sync-threshold=5s',
    );
    expect(() =>
      validateInstallParams(defaultInstallParams({ controllerOutOfSyncThreshold: 'soon' })),
    ).toThrow('controllerOutOfSyncThreshold "soon" must be a duration such as 5s, 500ms or 2m');
  });
});
