/**
 * Whether a pod gets the sidecar: a pure function of the pod, its namespace object and the mesh.
 *
 * In order:
 * 1. hostNetwork pods: never (iptables would redirect the node's traffic).
 * 2. kube-system, kube-public, kube-node-lease and the fsm namespace: never.
 * 3. The namespace must be known, carry `flomesh.io/monitored-by=<mesh>` and not `flomesh.io/ignore`.
 * 4. `flomesh.io/sidecar-injection` on the pod decides when present; else the namespace's annotation;
 *    else a monitored namespace is injected. Values: enabled|yes|true / disabled|no|false
 *    (case-insensitive); any other value denies the admission with a message naming it.
 */
import type { V1Namespace, V1Pod } from '@kubernetes/client-node';
import {
  IGNORE_LABEL,
  INJECTION_DISABLED_VALUES,
  INJECTION_ENABLED_VALUES,
  MONITORED_BY_LABEL,
  SIDECAR_INJECTION_ANNOTATION,
  SYSTEM_NAMESPACES,
} from '../constants/index.js';

export type InjectionDecision =
  | { action: 'inject'; reason: string }
  | { action: 'skip'; reason: string }
  | { action: 'deny'; reason: string };

export interface DecisionInput {
  pod: V1Pod;
  /** The pod's namespace name (from the AdmissionRequest). */
  namespace: string;
  /** The namespace object from the informer; undefined when it is not known. */
  namespaceObject: V1Namespace | undefined;
  meshName: string;
  fsmNamespace: string;
}

/** Parses an enabled/disabled annotation value: true, false, or undefined when not one of them. */
export function parseSwitch(value: string): boolean | undefined {
  const v = value.trim().toLowerCase();
  if (INJECTION_ENABLED_VALUES.includes(v)) return true;
  if (INJECTION_DISABLED_VALUES.includes(v)) return false;
  return undefined;
}

function switchError(where: string, annotation: string, value: string): string {
  return (
    `${where} annotation ${annotation}=${JSON.stringify(value)} is invalid: ` +
    `expected one of ${[...INJECTION_ENABLED_VALUES, ...INJECTION_DISABLED_VALUES].join(', ')}`
  );
}

export function decideInjection(input: DecisionInput): InjectionDecision {
  const { pod, namespace, namespaceObject, meshName, fsmNamespace } = input;
  // The pod has not been shape-checked yet (that only matters once it is injected): read defensively.
  if (pod.spec?.hostNetwork === true) return { action: 'skip', reason: 'pod uses hostNetwork' };
  if (SYSTEM_NAMESPACES.includes(namespace)) {
    return { action: 'skip', reason: `namespace ${namespace} is a system namespace` };
  }
  if (namespace === fsmNamespace) {
    return { action: 'skip', reason: `namespace ${namespace} is the fsm control-plane namespace` };
  }
  if (!namespaceObject) return { action: 'skip', reason: `namespace ${namespace} is not known` };
  const labels = namespaceObject.metadata?.labels ?? {};
  if (labels[IGNORE_LABEL] !== undefined) {
    return { action: 'skip', reason: `namespace ${namespace} carries ${IGNORE_LABEL}` };
  }
  if (labels[MONITORED_BY_LABEL] !== meshName) {
    return { action: 'skip', reason: `namespace ${namespace} is not monitored by mesh ${meshName}` };
  }

  const podValue: unknown = pod.metadata?.annotations?.[SIDECAR_INJECTION_ANNOTATION];
  if (podValue !== undefined && typeof podValue !== 'string') {
    return { action: 'deny', reason: switchError('pod', SIDECAR_INJECTION_ANNOTATION, String(podValue)) };
  }
  if (podValue !== undefined) {
    const on = parseSwitch(podValue);
    if (on === undefined) {
      return { action: 'deny', reason: switchError('pod', SIDECAR_INJECTION_ANNOTATION, podValue) };
    }
    return on
      ? { action: 'inject', reason: `pod annotation ${SIDECAR_INJECTION_ANNOTATION}=${podValue}` }
      : { action: 'skip', reason: `pod annotation ${SIDECAR_INJECTION_ANNOTATION}=${podValue}` };
  }
  const nsValue = namespaceObject.metadata?.annotations?.[SIDECAR_INJECTION_ANNOTATION];
  if (typeof nsValue === 'string') {
    const on = parseSwitch(nsValue);
    if (on === undefined) {
      return {
        action: 'deny',
        reason: switchError(`namespace ${namespace}`, SIDECAR_INJECTION_ANNOTATION, nsValue),
      };
    }
    return on
      ? { action: 'inject', reason: `namespace annotation ${SIDECAR_INJECTION_ANNOTATION}=${nsValue}` }
      : { action: 'skip', reason: `namespace annotation ${SIDECAR_INJECTION_ANNOTATION}=${nsValue}` };
  }
  return { action: 'inject', reason: `namespace ${namespace} is monitored by mesh ${meshName}` };
}
