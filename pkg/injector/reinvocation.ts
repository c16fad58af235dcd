/**
 * The second admission pass over an already injected pod. The webhook is registered with
 * `reinvocationPolicy: IfNeeded`: when another webhook changes the pod after fsm's (adds a container
 * with probes, a probe, a hook — istio/istio#56102), the API server calls fsm again. Only what the
 * record does not hold yet is rewritten; what fsm rewrote before is left exactly as it is. The result
 * is idempotent: a third pass finds nothing new and changes nothing. Pure.
 *
 * What changes with something new: the new probes and hooks (rewritten against the record, so paths
 * and TLS handling never clash with the earlier ones), the record, the sidecar's probe ports, and
 * fsm-healthcheck (added, or its allowed ports widened). The injection stamp keeps saying who injected
 * the pod: the sidecar's bootstrap is still the first pass's.
 *
 * Nothing is done for a pod whose record cannot be read (its probes cannot be told apart from new
 * ones), nor for one that opted out of the probe rewrite.
 */
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import {
  HEALTHCHECK_ALLOWED_PORTS_ENV,
  HEALTHCHECK_CONTAINER_NAME,
  INIT_CONTAINER_NAME,
  ORIGINAL_PROBES_ANNOTATION,
  PROBE_REWRITE_ANNOTATION,
  PROBE_TYPE_INFO,
  SIDECAR_CONTAINER_NAME,
} from '../constants/index.js';
import { formatOriginalProbes, parseOriginalProbes, replaceControlChars } from '../probes/index.js';
import { healthcheckContainer } from './containers.js';
import { parseSwitch } from './decision.js';
import { rewriteHooks } from './hooks.js';
import type { InjectorConfig, MutationResult } from './mutate.js';
import { isNativeSidecar } from './native-sidecar.js';
import { sharedPatch } from './patch.js';
import { sidecarProbeTypes } from './pod-marks.js';
import { rewriteProbes } from './probes.js';
import { validatePod } from './validate.js';

const INJECTED = new Set([SIDECAR_CONTAINER_NAME, HEALTHCHECK_CONTAINER_NAME, INIT_CONTAINER_NAME]);

function unchanged(reason: string, warnings: string[] = []): MutationResult {
  return { outcome: 'already-injected', reason, patch: [], warnings };
}

/** The sidecar with a port for each of `types` it did not declare yet. */
function withProbePorts(sidecar: V1Container, types: ReturnType<typeof sidecarProbeTypes>): V1Container {
  const ports = [...(sidecar.ports ?? [])];
  for (const t of types) {
    const info = PROBE_TYPE_INFO[t];
    if (!ports.some((p) => p.containerPort === info.port)) {
      ports.push({ name: info.portName, containerPort: info.port, protocol: 'TCP' });
    }
  }
  return ports.length === (sidecar.ports ?? []).length ? sidecar : { ...sidecar, ports };
}

/** fsm-healthcheck allowed to dial `ports` (an existing one keeps everything else as it is). */
function withHealthcheck(containers: V1Container[], ports: number[], image: string): V1Container[] {
  if (ports.length === 0) return containers;
  const i = containers.findIndex((c) => c.name === HEALTHCHECK_CONTAINER_NAME);
  if (i < 0) return [...containers, healthcheckContainer(image, ports)];
  const hc = containers[i]!;
  const current = hc.env?.find((e) => e.name === HEALTHCHECK_ALLOWED_PORTS_ENV)?.value ?? '';
  const have = current.split(',').filter(Boolean).map(Number);
  const all = [...new Set([...have, ...ports])].sort((a, b) => a - b);
  if (all.length === have.length) return containers;
  const env = [
    ...(hc.env ?? []).filter((e) => e.name !== HEALTHCHECK_ALLOWED_PORTS_ENV),
    { name: HEALTHCHECK_ALLOWED_PORTS_ENV, value: all.join(',') },
  ];
  return containers.map((c, j) => (j === i ? { ...c, env } : c));
}

export function reinvokePod(object: unknown, namespace: string, config: InjectorConfig): MutationResult {
  const checked = validatePod(object);
  if ('error' in checked) return unchanged('pod is already injected');
  const pod = checked.pod;
  const annotations = pod.metadata?.annotations ?? {};
  const optOut = annotations[PROBE_REWRITE_ANNOTATION];
  if (optOut !== undefined && parseSwitch(optOut) === false) return unchanged('pod is already injected');
  const ref = replaceControlChars(
    `${namespace}/${pod.metadata?.name || pod.metadata?.generateName || ''}`,
    '?',
  );
  const record = parseOriginalProbes(annotations[ORIGINAL_PROBES_ANNOTATION], ref);
  if (record.status !== 'valid') return unchanged('pod is already injected');

  const spec = pod.spec!;
  const app = spec.containers.filter((c) => !INJECTED.has(c.name));
  const probes = rewriteProbes(ref, app, true, record.containers);
  const hooks = rewriteHooks(ref, probes.containers, true, record.hooks ?? {});
  if (probes.rewritten + hooks.rewritten === 0) {
    return unchanged('pod is already injected; nothing added since', [...probes.warnings, ...hooks.warnings]);
  }
  const rewrittenApp = new Map(hooks.containers.map((c) => [c.name, c]));
  const types = sidecarProbeTypes(probes.proxyProbeTypes, hooks.hooks);
  const sidecarOf = (c: V1Container): V1Container =>
    c.name === SIDECAR_CONTAINER_NAME ? withProbePorts(c, types) : c;
  let containers = spec.containers.map((c) => rewrittenApp.get(c.name) ?? sidecarOf(c));
  containers = withHealthcheck(containers, probes.healthcheckPorts, config.healthcheckImage);
  const initContainers = spec.initContainers?.map((c) =>
    c.name === SIDECAR_CONTAINER_NAME && isNativeSidecar(c) ? sidecarOf(c) : c,
  );
  const desired: V1Pod = {
    ...pod,
    metadata: {
      ...pod.metadata,
      annotations: {
        ...annotations,
        [ORIGINAL_PROBES_ANNOTATION]: formatOriginalProbes(probes.originals, hooks.hooks),
      },
    },
    spec: { ...spec, containers, ...(initContainers ? { initContainers } : {}) },
  };
  const n = probes.rewritten + hooks.rewritten;
  return {
    outcome: 'reinvoked',
    reason: `second pass: rewrote ${n} probe${n === 1 ? '' : 's'} or hook${n === 1 ? '' : 's'} added after the first`,
    patch: sharedPatch(pod, desired),
    warnings: [...probes.warnings, ...hooks.warnings],
    desired,
  };
}
