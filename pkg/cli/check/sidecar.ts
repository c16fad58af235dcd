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
import { proxyIdentity } from '../../catalog/index.js';
import { decideInjection } from '../../injector/index.js';
import { recreateFix } from './describe.js';
import type { Check } from './types.js';

/** The pod carries a proxy identity and runs the sidecar container. */
export function isInjected(pod: V1Pod): boolean {
  return (
    proxyIdentity(pod).isProxy && (pod.spec?.containers ?? []).some((c) => c.name === SIDECAR_CONTAINER_NAME)
  );
}

export const sidecarCheck: Check = {
  id: 'sidecar',
  title: () => 'Sidecar injected',
  run({ input: inp, namespace: ns, pod: name, injected }) {
    const id = proxyIdentity(inp.pod);
    if (injected && id.isProxy) {
      return { status: 'pass', details: [`proxy ${id.proxy.uuid} (container ${SIDECAR_CONTAINER_NAME})`] };
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
