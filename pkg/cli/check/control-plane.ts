/** Check 6: the control plane's own namespace is not in a mesh and its pods carry no sidecar. */
import {
  APP_LABEL,
  CONTROLLER_APP,
  IGNORE_LABEL,
  INJECTOR_APP,
  MONITORED_BY_LABEL,
  PROXY_UUID_LABEL,
  SIDECAR_CONTAINER_NAME,
  SIDECAR_INJECTION_ANNOTATION,
} from '../../constants/index.js';
import { parseSwitch } from '../../injector/index.js';
import type { Check } from './types.js';

export const controlPlaneCheck: Check = {
  id: 'control-plane',
  title: ({ input }) => `Control plane not injected (namespace ${input.fsmNamespace})`,
  run({ input: inp }) {
    const fsmNs = inp.fsmNamespace;
    const obj = inp.fsmNamespaceObject;
    if (!obj) {
      return {
        status: 'fail',
        details: [`control-plane namespace ${fsmNs} not found`],
        fix: "pass --fsm-namespace with the mesh's namespace (fsm mesh list shows it)",
      };
    }
    const details: string[] = [];
    const labels = obj.metadata?.labels ?? {};
    const mesh = labels[MONITORED_BY_LABEL];
    const value = obj.metadata?.annotations?.[SIDECAR_INJECTION_ANNOTATION];
    let meshProblem = false;
    if (mesh === undefined) details.push(`namespace ${fsmNs} is not in any mesh`);
    else if (labels[IGNORE_LABEL] !== undefined)
      details.push(`namespace ${fsmNs} is in mesh [${mesh}] but ignored (${IGNORE_LABEL})`);
    else if (value !== undefined && parseSwitch(value) === false) {
      details.push(`namespace ${fsmNs} is in mesh [${mesh}] with sidecar injection ${value}`);
    } else {
      meshProblem = true;
      details.push(
        `namespace ${fsmNs} is in mesh [${mesh}] with sidecar injection ${value ?? 'enabled (no annotation)'}`,
      );
    }
    const injected = inp.controlPlanePods.filter(
      (p) =>
        p.metadata?.labels?.[PROXY_UUID_LABEL] !== undefined ||
        [...(p.spec?.containers ?? []), ...(p.spec?.initContainers ?? [])].some(
          (c) => c.name === SIDECAR_CONTAINER_NAME,
        ),
    );
    for (const p of injected) details.push(`pod ${fsmNs}/${p.metadata?.name ?? '?'} has a sidecar`);
    if (!meshProblem && injected.length === 0) {
      details.push(`no ${CONTROLLER_APP}/${INJECTOR_APP} pod has a sidecar`);
      return { status: 'pass', details };
    }
    const steps: string[] = [];
    if (mesh !== undefined && meshProblem) steps.push(`fsm namespace remove ${fsmNs} --mesh-name ${mesh}`);
    if (injected.length > 0) {
      steps.push(
        `kubectl -n ${fsmNs} rollout restart deployment -l '${APP_LABEL} in (${CONTROLLER_APP},${INJECTOR_APP})'`,
      );
    }
    return {
      status: 'fail',
      details,
      fix: `take the control plane out of the mesh: ${steps.join('; then ')}`,
    };
  },
};
