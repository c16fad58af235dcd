/** Check 4: the fsm-healthcheck container exists and runs when kubelet's probes call :15904. */
import type { V1Container } from '@kubernetes/client-node';
import {
  HEALTHCHECK_CONTAINER_NAME,
  HEALTHCHECK_PORT,
  PROBE_TYPE_INFO,
  PROBE_TYPES,
} from '../../constants/index.js';
import { appContainers, podOriginalProbes } from '../../catalog/index.js';
import { probeLabel, recreateFix } from './describe.js';
import type { Check } from './types.js';

export const healthcheckCheck: Check = {
  id: 'healthcheck',
  title: () => 'fsm-healthcheck container present and running for TCP and gRPC probes',
  run({ input: inp, namespace: ns, pod: name, injected }) {
    if (!injected)
      return { status: 'skip', details: ['pod has no sidecar: kubelet probes the app directly'] };
    const needs: string[] = [];
    const ann = podOriginalProbes(inp.pod);
    const containers = appContainers(inp.pod) as V1Container[];
    for (const c of containers) {
      for (const t of PROBE_TYPES) {
        const rec = ann.status === 'invalid' ? undefined : ann.containers[c.name]?.[t];
        const live = c[PROBE_TYPE_INFO[t].field];
        if (rec && (rec.kind === 'tcp' || rec.kind === 'grpc')) {
          needs.push(`${rec.kind === 'tcp' ? 'TCP' : 'gRPC'} ${probeLabel(t, c.name)} (port ${rec.port})`);
        } else if (live?.httpGet?.port === HEALTHCHECK_PORT) {
          needs.push(`${probeLabel(t, c.name)} (calls :${HEALTHCHECK_PORT})`);
        }
      }
    }
    if (needs.length === 0) return { status: 'pass', details: ['not needed: no TCP or gRPC probe'] };
    const present = (inp.pod.spec?.containers ?? []).some((c) => c.name === HEALTHCHECK_CONTAINER_NAME);
    if (!present) {
      return {
        status: 'fail',
        details: [
          `no ${HEALTHCHECK_CONTAINER_NAME} container, but kubelet's probes to :${HEALTHCHECK_PORT} need it: ${needs.join('; ')}`,
        ],
        fix: `${recreateFix(ns, name)}; fsm-injector adds ${HEALTHCHECK_CONTAINER_NAME} when a TCP or gRPC probe exists`,
      };
    }
    const st = inp.pod.status?.containerStatuses?.find((s) => s.name === HEALTHCHECK_CONTAINER_NAME);
    const fix = `kubectl -n ${ns} logs ${name} -c ${HEALTHCHECK_CONTAINER_NAME}; kubectl -n ${ns} describe pod ${name}`;
    if (!st) {
      return {
        status: 'fail',
        details: [`container ${HEALTHCHECK_CONTAINER_NAME} has not started (no container status)`, ...needs],
        fix,
      };
    }
    if (st.state?.running) {
      return {
        status: 'pass',
        details: [`container ${HEALTHCHECK_CONTAINER_NAME} is running; serves ${needs.join('; ')}`],
      };
    }
    const why = st.state?.waiting
      ? `waiting (${st.state.waiting.reason ?? 'no reason'}${st.state.waiting.message ? `: ${st.state.waiting.message}` : ''})`
      : st.state?.terminated
        ? `terminated (${st.state.terminated.reason ?? 'no reason'}, exit code ${st.state.terminated.exitCode})`
        : 'not running';
    return {
      status: 'fail',
      details: [`container ${HEALTHCHECK_CONTAINER_NAME} is ${why}; restarts: ${st.restartCount}`, ...needs],
      fix,
    };
  },
};
