/**
 * One pod admission, as a pure function: decide, rewrite probes and lifecycle hooks, add the
 * containers (the sidecar as a native or classic sidecar), stamp the pod with the injection format,
 * and compute the RFC 6902 patch from what changed (./patch.ts: the desired pod shares every untouched
 * part of the received one, so only the changes are walked and nothing is copied). The proxy UUID comes from a caller-supplied generator so the function stays deterministic
 * under test. An already injected pod gets a second pass (./reinvocation.ts): only what was added
 * since is rewritten.
 */
import type { V1Container, V1Namespace, V1Pod } from '@kubernetes/client-node';
import type { Operation } from 'fast-json-patch';
import {
  BOOTSTRAP_VOLUME_NAME,
  DEFAULT_FSM_NAMESPACE,
  DEFAULT_HEALTHCHECK_IMAGE,
  DEFAULT_INIT_IMAGE,
  DEFAULT_MESH_NAME,
  DEFAULT_SIDECAR_IMAGE,
  HEALTHCHECK_CONTAINER_NAME,
  INIT_CONTAINER_NAME,
  ORIGINAL_PROBES_ANNOTATION,
  PROBE_REWRITE_ANNOTATION,
  PROBE_BYPASS_PORTS,
  PROXY_ADMIN_PORT,
  PROXY_INBOUND_PORT,
  PROXY_OUTBOUND_PORT,
  PROXY_STATS_PORT,
  PROXY_UUID_LABEL,
  SIDECAR_CONTAINER_NAME,
} from '../constants/index.js';
import { bootstrapSecretName } from '../identity/index.js';
import { fsmVersion } from '../binary/index.js';
import { formatOriginalProbes, replaceControlChars } from '../probes/index.js';
import { bootstrapVolume, healthcheckContainer, initContainer, sidecarContainer } from './containers.js';
import { decideInjection, parseSwitch } from './decision.js';
import { classicPreStopWarnings, rewriteHooks } from './hooks.js';
import { asNativeSidecar } from './native-sidecar.js';
import { sharedPatch } from './patch.js';
import { rewriteProbes } from './probes.js';
import { reinvokePod } from './reinvocation.js';
import { decideSidecarMode, type ServerSupport } from './sidecar-mode.js';
import { injectionAnnotations, sidecarProbeTypes } from './pod-marks.js';
import { showValue, validatePod } from './validate.js';

export interface InjectorConfig {
  meshName: string;
  fsmNamespace: string;
  sidecarImage: string;
  initImage: string;
  healthcheckImage: string;
  /** Envoy --log-level of injected sidecars. */
  proxyLogLevel: string;
  /** fsm version written in each pod's injection stamp. */
  injectorVersion: string;
}

export function defaultInjectorConfig(overrides: Partial<InjectorConfig> = {}): InjectorConfig {
  return {
    meshName: DEFAULT_MESH_NAME,
    fsmNamespace: DEFAULT_FSM_NAMESPACE,
    sidecarImage: DEFAULT_SIDECAR_IMAGE,
    initImage: DEFAULT_INIT_IMAGE,
    healthcheckImage: DEFAULT_HEALTHCHECK_IMAGE,
    proxyLogLevel: 'info',
    injectorVersion: fsmVersion(),
    ...overrides,
  };
}

/** `reinvoked`: a second pass over an injected pod rewrote probes or hooks added since the first. */
export type MutationOutcome = 'injected' | 'reinvoked' | 'skipped' | 'already-injected' | 'denied';

export interface MutationResult {
  outcome: MutationOutcome;
  /** Why (for logs, and the admission message when denied). */
  reason: string;
  /** Empty unless injected. */
  patch: Operation[];
  warnings: string[];
  /** The pod after the patch (injected only). */
  desired?: V1Pod;
  proxyUuid?: string;
  /** Injected only: who the bootstrap credential is for (its Secret is `bootstrapSecret`). */
  namespace?: string;
  serviceAccount?: string;
  bootstrapSecret?: string;
}

export interface MutationInput {
  /** request.object as received: not trusted. */
  object: unknown;
  /** request.namespace (falls back to the pod's metadata.namespace). */
  namespace?: string;
  namespaceObject: V1Namespace | undefined;
  config: InjectorConfig;
  newProxyUuid: () => string;
  /** What the API server supports (native sidecars); default: not known yet (classic). */
  server?: ServerSupport;
}

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function namesOf(list: unknown): string[] {
  if (!Array.isArray(list)) return [];
  return list.map((c: unknown) => (isObject(c) && typeof c['name'] === 'string' ? c['name'] : ''));
}

/**
 * True when the injector has already mutated this pod (e.g. a `kubectl debug` copy): it carries the
 * original-probes annotation, or our sidecar container (classic, or native among the init
 * containers) together with the proxy UUID label.
 */
export function isAlreadyInjected(obj: Json): boolean {
  const meta = isObject(obj['metadata']) ? obj['metadata'] : {};
  const annotations = isObject(meta['annotations']) ? meta['annotations'] : {};
  const labels = isObject(meta['labels']) ? meta['labels'] : {};
  if (annotations[ORIGINAL_PROBES_ANNOTATION] !== undefined) return true;
  const spec = isObject(obj['spec']) ? obj['spec'] : {};
  const sidecar =
    namesOf(spec['containers']).includes(SIDECAR_CONTAINER_NAME) ||
    namesOf(spec['initContainers']).includes(SIDECAR_CONTAINER_NAME); // a native sidecar
  return sidecar && labels[PROXY_UUID_LABEL] !== undefined;
}

/** Ports the sidecar and fsm-healthcheck listen on inside the pod's network namespace. */
const RESERVED_PORTS: ReadonlySet<number> = new Set([
  PROXY_ADMIN_PORT,
  PROXY_OUTBOUND_PORT,
  PROXY_INBOUND_PORT,
  PROXY_STATS_PORT,
  ...PROBE_BYPASS_PORTS,
]);

function reservedPortWarnings(ref: string, containers: readonly V1Container[]): string[] {
  const out: string[] = [];
  for (const c of containers) {
    for (const p of c.ports ?? []) {
      if (RESERVED_PORTS.has(p.containerPort)) {
        out.push(`pod ${ref}: container ${c.name} port ${p.containerPort} is reserved by the fsm sidecar`);
      }
    }
  }
  return out;
}

function podRef(namespace: string, pod: V1Pod): string {
  const m = pod.metadata ?? {};
  const name = m.name || (m.generateName ? `${m.generateName}*` : '<unnamed>');
  // Warnings travel as HTTP headers: no control characters (names are validated later by the API server).
  return replaceControlChars(`${namespace}/${name}`, '?');
}

function reservedNameError(pod: V1Pod): string | undefined {
  const reserved = [SIDECAR_CONTAINER_NAME, HEALTHCHECK_CONTAINER_NAME, INIT_CONTAINER_NAME];
  for (const field of ['containers', 'initContainers'] as const) {
    const list: V1Container[] = pod.spec?.[field] ?? [];
    const i = list.findIndex((c) => reserved.includes(c.name));
    if (i >= 0) {
      return `spec.${field}[${i}].name ${showValue(list[i]!.name)} is reserved for a container fsm injects`;
    }
  }
  return undefined;
}

export function mutatePod(input: MutationInput): MutationResult {
  const { object, config } = input;
  const none = (outcome: MutationOutcome, reason: string): MutationResult => ({
    outcome,
    reason,
    patch: [],
    warnings: [],
  });
  if (!isObject(object))
    return none('denied', `request.object: must be a Pod object, got ${showValue(object)}`);
  const metaNs = isObject(object['metadata']) ? object['metadata']['namespace'] : undefined;
  const namespace = input.namespace || (typeof metaNs === 'string' ? metaNs : '') || 'default';
  if (isAlreadyInjected(object)) return reinvokePod(object, namespace, config);

  const decision = decideInjection({
    pod: object as V1Pod,
    namespace,
    namespaceObject: input.namespaceObject,
    meshName: config.meshName,
    fsmNamespace: config.fsmNamespace,
  });
  if (decision.action === 'skip') return none('skipped', decision.reason);
  if (decision.action === 'deny') return none('denied', decision.reason);

  const checked = validatePod(object);
  if ('error' in checked) return none('denied', checked.error);
  const pod = checked.pod;
  const reserved = reservedNameError(pod);
  if (reserved) return none('denied', reserved);
  const volumeIndex = (pod.spec!.volumes ?? []).findIndex((v) => v.name === BOOTSTRAP_VOLUME_NAME);
  if (volumeIndex >= 0) {
    return none(
      'denied',
      `spec.volumes[${volumeIndex}].name ${showValue(BOOTSTRAP_VOLUME_NAME)} is reserved for the volume fsm injects`,
    );
  }

  const annotations = pod.metadata?.annotations ?? {};
  const rewriteValue = annotations[PROBE_REWRITE_ANNOTATION];
  let rewrite = true;
  if (rewriteValue !== undefined) {
    const on = parseSwitch(rewriteValue);
    if (on === undefined) {
      return none(
        'denied',
        `pod annotation ${PROBE_REWRITE_ANNOTATION}=${JSON.stringify(rewriteValue)} is invalid: ` +
          'expected enabled|yes|true or disabled|no|false',
      );
    }
    rewrite = on;
  }

  const mode = decideSidecarMode(
    pod,
    input.namespaceObject,
    input.server ?? { nativeSidecars: undefined, version: 'unknown' },
  );
  if ('deny' in mode) return none('denied', mode.deny);

  const ref = podRef(namespace, pod);
  const probes = rewriteProbes(ref, pod.spec!.containers, rewrite);
  const hooks = rewriteHooks(ref, probes.containers, rewrite);
  const native = mode.mode === 'native';
  const proxyUuid = input.newProxyUuid();
  const serviceAccount = pod.spec!.serviceAccountName || 'default';
  const secretName = bootstrapSecretName(proxyUuid);

  let sidecar = sidecarContainer({
    image: config.sidecarImage,
    proxyProbeTypes: sidecarProbeTypes(probes.proxyProbeTypes, hooks.hooks),
    proxyUuid,
    namespace,
    serviceAccount,
    fsmNamespace: config.fsmNamespace,
    logLevel: config.proxyLogLevel,
  });
  if (native) sidecar = asNativeSidecar(sidecar);
  // Native: fsm-init sets up the redirect, then the sidecar starts and app containers wait for it.
  const containers: V1Container[] = native ? [...hooks.containers] : [...hooks.containers, sidecar];
  if (probes.healthcheckPorts.length > 0) {
    containers.push(healthcheckContainer(config.healthcheckImage, probes.healthcheckPorts));
  }
  const initContainers = [...(pod.spec!.initContainers ?? []), initContainer(config.initImage)];
  if (native) initContainers.push(sidecar);
  const desired: V1Pod = {
    ...pod,
    metadata: {
      ...pod.metadata,
      labels: { ...pod.metadata?.labels, [PROXY_UUID_LABEL]: proxyUuid },
      annotations: {
        ...annotations,
        [ORIGINAL_PROBES_ANNOTATION]: formatOriginalProbes(probes.originals, hooks.hooks),
        ...injectionAnnotations(config.injectorVersion),
      },
    },
    spec: {
      ...pod.spec!,
      containers,
      initContainers,
      volumes: [...(pod.spec!.volumes ?? []), bootstrapVolume(secretName)],
    },
  };
  const patch = sharedPatch(pod, desired);
  return {
    outcome: 'injected',
    reason: `${decision.reason}; ${mode.mode} sidecar: ${mode.reason}`,
    patch,
    warnings: [
      ...probes.warnings,
      ...hooks.warnings,
      ...(mode.warning !== undefined ? [mode.warning] : []),
      ...(native ? [] : classicPreStopWarnings(ref, hooks.hooks)),
      ...reservedPortWarnings(ref, pod.spec!.containers),
    ],
    desired,
    proxyUuid,
    namespace,
    serviceAccount,
    bootstrapSecret: secretName,
  };
}
