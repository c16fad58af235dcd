/**
 * Parameters of an fsm install and the labels every rendered object carries. Validation names the
 * field and the value (they come from CLI flags a user typed).
 */
import { fsmVersion } from '../binary/index.js';
import {
  APP_INSTANCE_LABEL,
  APP_LABEL,
  APP_NAME_LABEL,
  APP_VERSION_LABEL,
  DEFAULT_FSM_NAMESPACE,
  DEFAULT_HEALTHCHECK_IMAGE,
  DEFAULT_IMAGE_REGISTRY,
  DEFAULT_INIT_IMAGE,
  DEFAULT_LOG_LEVEL,
  DEFAULT_MESH_NAME,
  DEFAULT_SIDECAR_IMAGE,
  DEFAULT_TRUST_DOMAIN,
  LOG_LEVELS,
  MANAGED_BY_LABEL,
  MANAGED_BY_VALUE,
  MESH_NAME_LABEL,
  type LogLevel,
} from '../constants/index.js';

export interface InstallParams {
  meshName: string;
  fsmNamespace: string;
  /** Version written to app.kubernetes.io/version (what `fsm mesh list` shows). */
  version: string;
  controllerImage: string;
  injectorImage: string;
  /** Images the injector puts into meshed pods. */
  sidecarImage: string;
  initImage: string;
  healthcheckImage: string;
  controllerReplicas: number;
  injectorReplicas: number;
  logLevel: LogLevel;
  imagePullPolicy: 'Always' | 'IfNotPresent' | 'Never';
  /**
   * Webhook TLS from cert-manager instead of the injector's own (--manage-webhook-cert): the install
   * renders Certificates (and, without `certManagerIssuer`, a self-signed CA chain) and the
   * cert-manager.io/inject-ca-from annotation; the injector mounts the Secret cert-manager writes.
   */
  certManager: boolean;
  /** An existing cert-manager issuer to sign the serving certificate (implies certManager). */
  certManagerIssuer?: IssuerRef;
  /** SPIFFE trust domain of the mesh's workload certificates (controller --trust-domain). */
  trustDomain: string;
  /**
   * The controller's --out-of-sync-threshold (a duration: 5s, 500ms, 2m): how long an informer may
   * be without its watch before /health/ready answers 503. Unset: the binary's default (30s).
   */
  controllerOutOfSyncThreshold?: string;
}

/** A cert-manager issuer: an Issuer in the fsm namespace or a ClusterIssuer. */
export interface IssuerRef {
  kind: 'Issuer' | 'ClusterIssuer';
  name: string;
}

/** Defaults: images `<registry>/fsm-<binary>:v<fsm version>`, one replica each, log level info. */
export function defaultInstallParams(overrides: Partial<InstallParams> = {}): InstallParams {
  const version = overrides.version ?? fsmVersion();
  return {
    meshName: DEFAULT_MESH_NAME,
    fsmNamespace: DEFAULT_FSM_NAMESPACE,
    version,
    controllerImage: `${DEFAULT_IMAGE_REGISTRY}/fsm-controller:v${version}`,
    injectorImage: `${DEFAULT_IMAGE_REGISTRY}/fsm-injector:v${version}`,
    sidecarImage: DEFAULT_SIDECAR_IMAGE,
    initImage: DEFAULT_INIT_IMAGE,
    healthcheckImage: DEFAULT_HEALTHCHECK_IMAGE,
    controllerReplicas: 1,
    injectorReplicas: 1,
    logLevel: DEFAULT_LOG_LEVEL,
    imagePullPolicy: 'IfNotPresent',
    certManager: false,
    trustDomain: DEFAULT_TRUST_DOMAIN,
    ...overrides,
  };
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
/** A label value: ≤ 63 characters, alphanumeric at both ends, `-_.` inside. */
const LABEL_VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/;
/** `[host[:port]/]path[:tag][@sha256:digest]` (the reference grammar of the distribution spec, lower-case path). */
const IMAGE =
  /^(?:[A-Za-z0-9.-]+(?::\d+)?\/)?[a-z0-9]+(?:[._-]+[a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-]+[a-z0-9]+)*)*(?::\w[\w.-]{0,127})?(?:@sha256:[0-9a-f]{64})?$/;

/** Throws an Error naming the field and the value when a parameter is not usable. */
export function validateInstallParams(p: InstallParams): InstallParams {
  const dnsLabel = (field: string, v: string): void => {
    if (v.length > 63 || !DNS_LABEL.test(v))
      throw new Error(`${field} "${v}" must be a DNS-1123 label (lower case, digits, '-', ≤ 63 characters)`);
  };
  dnsLabel('meshName', p.meshName);
  dnsLabel('fsmNamespace', p.fsmNamespace);
  if (p.version.length > 63 || !LABEL_VALUE.test(p.version) || p.version === '')
    throw new Error(`version "${p.version}" must be a label value (≤ 63 characters, [A-Za-z0-9-_.])`);
  for (const field of [
    'controllerImage',
    'injectorImage',
    'sidecarImage',
    'initImage',
    'healthcheckImage',
  ] as const) {
    if (!IMAGE.test(p[field])) throw new Error(`${field} "${p[field]}" is not an image reference`);
  }
  for (const field of ['controllerReplicas', 'injectorReplicas'] as const) {
    const v = p[field];
    if (!Number.isInteger(v) || v < 1 || v > 100)
      throw new Error(`${field} ${String(v)} must be an integer from 1 to 100`);
  }
  if (!/^[a-z0-9._-]+$/.test(p.trustDomain) || p.trustDomain.length > 255)
    throw new Error(
      `trustDomain "${p.trustDomain}" must be a SPIFFE trust domain (lower case, digits, '.', '-', '_')`,
    );
  if (!(LOG_LEVELS as readonly string[]).includes(p.logLevel))
    throw new Error(`logLevel "${p.logLevel}" must be one of ${LOG_LEVELS.join(', ')}`);
  if (!['Always', 'IfNotPresent', 'Never'].includes(p.imagePullPolicy))
    throw new Error(`imagePullPolicy "${p.imagePullPolicy}" must be Always, IfNotPresent or Never`);
  if (
    p.controllerOutOfSyncThreshold !== undefined &&
    !/^[0-9]+(\.[0-9]+)?(ms|s|m|h)$/.test(p.controllerOutOfSyncThreshold)
  )
    throw new Error(
      `controllerOutOfSyncThreshold "${p.controllerOutOfSyncThreshold}" must be a duration such as 5s, 500ms or 2m`,
    );
  if (p.certManagerIssuer !== undefined) {
    if (!p.certManager)
      throw new Error(
        `certManagerIssuer ${p.certManagerIssuer.kind}/${p.certManagerIssuer.name} needs certManager: true`,
      );
    if (!['Issuer', 'ClusterIssuer'].includes(p.certManagerIssuer.kind))
      throw new Error(`certManagerIssuer kind "${p.certManagerIssuer.kind}" must be Issuer or ClusterIssuer`);
    checkIssuerName(p.certManagerIssuer);
  }
  return p;
}

/** `Issuer/<name>` or `ClusterIssuer/<name>` (as `--cert-manager-issuer` takes it). */
export function parseIssuerRef(value: string): IssuerRef {
  const m = /^(Issuer|ClusterIssuer)\/(.+)$/.exec(value);
  if (!m) throw new Error(`"${value}" is not Issuer/<name> or ClusterIssuer/<name>`);
  const ref: IssuerRef = { kind: m[1] as IssuerRef['kind'], name: m[2]! };
  checkIssuerName(ref);
  return ref;
}

function checkIssuerName(ref: IssuerRef): void {
  if (ref.name.length > 253 || !DNS_SUBDOMAIN.test(ref.name))
    throw new Error(`certManagerIssuer name "${ref.name}" must be a DNS-1123 subdomain`);
}

/** Labels of every object of the install (`component`: the app it belongs to, or the mesh itself). */
export function commonLabels(p: InstallParams, component?: string): Record<string, string> {
  return {
    ...(component !== undefined ? { [APP_LABEL]: component, [APP_NAME_LABEL]: component } : {}),
    [MESH_NAME_LABEL]: p.meshName,
    [APP_INSTANCE_LABEL]: p.meshName,
    [APP_VERSION_LABEL]: p.version,
    [MANAGED_BY_LABEL]: MANAGED_BY_VALUE,
  };
}

/** Labels that mark an object as created by this mesh's install (what may be pruned). */
export function ownerLabels(p: InstallParams): Record<string, string> {
  return { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE, [MESH_NAME_LABEL]: p.meshName };
}

/** Pod selector of one app of one mesh (stable across versions: no version label). */
export function selectorLabels(p: InstallParams, component: string): Record<string, string> {
  return { [APP_LABEL]: component, [MESH_NAME_LABEL]: p.meshName };
}
