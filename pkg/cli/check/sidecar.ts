/** Check 1: the pod runs the proxy sidecar; if not, why fsm-injector left it out and how to fix that. */
import type { V1Pod } from '@kubernetes/client-node';
import {
  APP_LABEL,
  IGNORE_LABEL,
  INJECTOR_APP,
  MONITORED_BY_LABEL,
  SIDECAR_CONTAINER_NAME,
  SIDECAR_INJECTION_ANNOTATION,
} from '../../constants/index.js';
import { hasNativeSidecar, podInjection, proxyIdentity } from '../../catalog/index.js';
import type { InjectionInfo } from '../../probes/index.js';
import { decideInjection } from '../../injector/index.js';
import { recreateFix } from './describe.js';
import type { Check } from './types.js';

/** The pod carries a proxy identity and runs the sidecar container (classic, or native as an init container). */
export function isInjected(pod: V1Pod): boolean {
  return (
    proxyIdentity(pod).isProxy &&
    ((pod.spec?.containers ?? []).some((c) => c.name === SIDECAR_CONTAINER_NAME) ||
      hasNativeSidecar(pod, SIDECAR_CONTAINER_NAME))
  );
}

function isInjectionInfo(v: unknown): v is InjectionInfo {
  const o = v as Partial<InjectionInfo> | null;
  return typeof o === 'object' && o !== null && Array.isArray(o.outdated) && typeof o.format === 'number';
}

/**
 * How the pod was injected, judged by the running control plane when the controller answered (it
 * knows the formats it writes), else by this CLI's own.
 */
function injectionOf(config: unknown, pod: V1Pod): InjectionInfo {
  const fromController = (config as { injection?: unknown } | null)?.injection;
  return isInjectionInfo(fromController) ? fromController : podInjection(pod);
}

export const sidecarCheck: Check = {
  id: 'sidecar',
  title: () => 'Sidecar injected',
  run({ input: inp, namespace: ns, pod: name, injected }) {
    const id = proxyIdentity(inp.pod);
    if (injected && id.isProxy) {
      const where = hasNativeSidecar(inp.pod, SIDECAR_CONTAINER_NAME)
        ? `native sidecar: init container ${SIDECAR_CONTAINER_NAME}, restartPolicy Always`
        : `container ${SIDECAR_CONTAINER_NAME}`;
      const injection = injectionOf('config' in inp.controller ? inp.controller.config : undefined, inp.pod);
      const warnings = injection.outdated.map(
        (o) => `${o}: still served; recreate the pod to update it (${recreateFix(ns, name)})`,
      );
      if (injection.problem) warnings.push(injection.problem);
      return {
        status: 'pass',
        details: [`proxy ${id.proxy.uuid} (${where})`],
        ...(warnings.length > 0 ? { warnings } : {}),
      };
    }
    const details = [
      id.isProxy ? `pod ${ns}/${name} has no container named ${SIDECAR_CONTAINER_NAME}` : id.reason,
    ];
    const nsMesh = inp.podNamespace?.metadata?.labels?.[MONITORED_BY_LABEL];
    const decision = decideInjection({
      pod: inp.pod,
      namespace: ns,
      namespaceObject: inp.podNamespace,
      meshName: inp.mesh,
      fsmNamespace: inp.fsmNamespace,
    });
    let fix: string;
    if (decision.action === 'inject') {
      details.push(`fsm-injector would inject it now (${decision.reason})`);
      fix = `${recreateFix(ns, name)}; if it stays without a sidecar, check the injector: kubectl -n ${inp.fsmNamespace} get pods -l ${APP_LABEL}=${INJECTOR_APP}`;
    } else {
      details.push(`fsm-injector would not inject it: ${decision.reason}`);
      const podValue = inp.pod.metadata?.annotations?.[SIDECAR_INJECTION_ANNOTATION];
      const nsValue = inp.podNamespace?.metadata?.annotations?.[SIDECAR_INJECTION_ANNOTATION];
      if (nsMesh === undefined || nsMesh !== inp.mesh) {
        fix = `add the namespace to the mesh, then recreate the pod: fsm namespace add ${ns} --mesh-name ${inp.mesh}; kubectl -n ${ns} delete pod ${name}`;
      } else if (inp.podNamespace?.metadata?.labels?.[IGNORE_LABEL] !== undefined) {
        fix = `the namespace is ignored: kubectl label namespace ${ns} ${IGNORE_LABEL}-, then recreate the pod`;
      } else if (podValue !== undefined) {
        fix = `remove the pod's annotation ${SIDECAR_INJECTION_ANNOTATION}=${podValue} (in its template), then recreate the pod`;
      } else if (nsValue !== undefined) {
        fix = `enable injection: kubectl annotate namespace ${ns} ${SIDECAR_INJECTION_ANNOTATION}=enabled --overwrite, then recreate the pod`;
      } else {
        fix = recreateFix(ns, name);
      }
    }
    return { status: 'fail', details, fix };
  },
};
