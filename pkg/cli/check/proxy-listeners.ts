/**
 * Check 3: the controller's config for the pod's proxy has a listener for each probe the proxy serves
 * (what the catalog computes from the pod, compared with what the controller answers).
 */
import {
  APP_LABEL,
  CONTROLLER_APP,
  CONTROLLER_HEALTH_PORT,
  DEBUG_PROXIES_PATH,
  PROBE_TYPE_INFO,
  PROBE_TYPES,
} from '../../constants/index.js';
import type { ProbeType } from '../../constants/index.js';
import { desiredProxy } from '../../catalog/index.js';
import type { DesiredProxy, ProbeViewEntry } from '../../catalog/index.js';
import { listenerNames } from '../controller.js';
import { probeLabel, recreateFix } from './describe.js';
import type { Check } from './types.js';

function entries(view: DesiredProxy['probes']): { type: ProbeType; e: ProbeViewEntry }[] {
  return [
    ...view.LivenessProbes.map((e) => ({ type: 'liveness' as const, e })),
    ...view.ReadinessProbes.map((e) => ({ type: 'readiness' as const, e })),
    ...view.StartupProbes.map((e) => ({ type: 'startup' as const, e })),
  ];
}

/** ` (:15901)` for a probe listener's name. */
function listenerPort(listener: string): string {
  const t = PROBE_TYPES.find((x) => PROBE_TYPE_INFO[x].listenerName === listener);
  return t ? ` (:${PROBE_TYPE_INFO[t].port})` : '';
}

export const proxyListenersCheck: Check = {
  id: 'proxy-listeners',
  title: () => 'Proxy config has a listener for each rewritten probe',
  run({ input: inp, namespace: ns, pod: name, injected }) {
    const d = desiredProxy(inp.pod);
    if (!injected || !d.isProxy) return { status: 'skip', details: ['pod has no sidecar: no proxy config'] };
    if (d.annotation === 'invalid') {
      return {
        status: 'fail',
        details: [`no probe listener can be built: ${d.problems[0] ?? 'invalid annotation'}`],
        fix: recreateFix(ns, name),
      };
    }
    const wanted = new Map<string, string[]>();
    const problems: string[] = [];
    for (const { type, e } of entries(d.probes)) {
      if (e.servedBy === 'proxy' && e.listener) {
        const list = wanted.get(e.listener) ?? [];
        list.push(probeLabel(type, e.container));
        wanted.set(e.listener, list);
      } else if (e.servedBy === 'none') {
        problems.push(`${probeLabel(type, e.container)} cannot be served: ${e.problem ?? 'no reason given'}`);
      }
    }
    if (wanted.size === 0 && problems.length === 0) {
      return { status: 'pass', details: ['no probe goes through the proxy (none rewritten to 15901-15903)'] };
    }
    const c = inp.controller;
    const controllerFix =
      `check that the controller runs and serves ${DEBUG_PROXIES_PATH}: kubectl -n ${inp.fsmNamespace} get pods -l ${APP_LABEL}=${CONTROLLER_APP}` +
      `; or reach it directly with --controller-url http://<controller>:${CONTROLLER_HEALTH_PORT}`;
    if ('notAsked' in c) return { status: 'fail', details: [c.notAsked, ...problems], fix: controllerFix };
    if ('error' in c) {
      if (c.status === 404 && !c.apiServer) {
        return {
          status: 'fail',
          details: [`the controller has no config for proxy ${ns}/${name} (${c.error})`, ...problems],
          fix: `the controller builds configs for pods of namespaces in mesh [${inp.mesh}]: check fsm namespace list --mesh-name ${inp.mesh} and the controller's logs (kubectl -n ${inp.fsmNamespace} logs -l ${APP_LABEL}=${CONTROLLER_APP})`,
        };
      }
      return {
        status: 'fail',
        details: [`cannot read the proxy config from the controller: ${c.error}`, ...problems],
        fix: controllerFix,
      };
    }
    const names = listenerNames(c.config);
    if (names === undefined) {
      return {
        status: 'fail',
        details: ['the controller answered without a listener list (resources.listeners)', ...problems],
        fix: controllerFix,
      };
    }
    const have = new Set(names);
    const details: string[] = [];
    let missing = false;
    for (const [listener, probes] of [...wanted].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
      if (have.has(listener)) details.push(`${listener}${listenerPort(listener)}: ${probes.join(', ')}`);
      else {
        missing = true;
        details.push(`${listener}${listenerPort(listener)} is missing: needed by ${probes.join(', ')}`);
      }
    }
    details.push(...problems);
    if (!missing && problems.length === 0) return { status: 'pass', details };
    return {
      status: 'fail',
      details,
      fix: missing
        ? `the controller has not pushed this pod's probe listeners: check its logs for pod ${ns}/${name} (kubectl -n ${inp.fsmNamespace} logs -l ${APP_LABEL}=${CONTROLLER_APP})`
        : 'give each container its own probe path, or probe one HTTPS container per probe type; then recreate the pod',
    };
  },
};
