/**
 * `fsm check probes <pod>`: the probe troubleshooting list, automated. Each check passes (✓), fails
 * (✗, with the fix) or does not apply (-). Gathering (API server, controller) is separate from
 * judging: {@link evaluateProbeChecks} is pure and table-tested.
 */
import { Command, Option } from 'commander';
import type { CoreV1Event, V1Container, V1Namespace, V1Pod, V1Probe } from '@kubernetes/client-node';
import { parseDuration } from '../binary/index.js';
import {
  APP_LABEL,
  CONTROLLER_APP,
  CONTROLLER_HEALTH_PORT,
  DEBUG_PROXIES_PATH,
  HEALTHCHECK_CONTAINER_NAME,
  HEALTHCHECK_PORT,
  IGNORE_LABEL,
  INJECTOR_APP,
  MONITORED_BY_LABEL,
  ORIGINAL_PROBES_ANNOTATION,
  PROBE_BYPASS_PORTS,
  PROBE_REWRITE_ANNOTATION,
  PROBE_REWRITE_DISABLED_VALUE,
  PROBE_TYPE_INFO,
  PROBE_TYPES,
  PROXY_UUID_LABEL,
  SIDECAR_CONTAINER_NAME,
  SIDECAR_INJECTION_ANNOTATION,
  type ProbeType,
} from '../constants/index.js';
import { compareProbe } from '../probes/index.js';
import type { OriginalProbe } from '../probes/index.js';
import { appContainers, desiredProxy, podOriginalProbes, podRef, proxyIdentity } from '../catalog/index.js';
import type { ProbeViewEntry } from '../catalog/index.js';
import { decideInjection, parseSwitch, rewriteProbes } from '../injector/index.js';
import { errorMessage } from '../logger/index.js';
import { CliError, type CliContext, type KubeClients } from './context.js';
import {
  ControllerError,
  controllerAtUrl,
  controllerViaServiceProxy,
  listenerNames,
  proxyDebugPath,
} from './controller.js';
import type { ControllerClient } from './controller.js';
import { controllerUrlOption, fsmNamespaceOption, meshNameOption, podNamespaceOption } from './flags.js';
import { apiErrorMessage, isNotFound } from './kube-errors.js';
import { readPod } from './pods.js';
import { outputOption, render } from './output.js';
import type { OutputFormat } from './output.js';

export type CheckStatus = 'pass' | 'fail' | 'skip';

export interface CheckResult {
  id: 'sidecar' | 'probes-rewritten' | 'proxy-listeners' | 'healthcheck' | 'events' | 'control-plane';
  title: string;
  status: CheckStatus;
  /** What was found, one line each. */
  details: string[];
  /** How to fix it (failed checks). */
  fix?: string;
}

export interface ProbeCheckReport {
  namespace: string;
  pod: string;
  mesh: string;
  checks: CheckResult[];
  failed: number;
}

/** Events that mean kubelet's probes fail. */
export const PROBE_EVENT_REASONS: readonly string[] = ['Unhealthy', 'Killing'];
export const DEFAULT_EVENTS_SINCE = '1h';
/** Most event lines shown. */
export const MAX_EVENT_LINES = 10;

/** What the controller said about the pod's proxy: its config, or why there is none. */
export type ControllerAnswer =
  | { config: unknown }
  | { error: string; status?: number; apiServer?: boolean; where: string }
  | { notAsked: string };

export interface ProbeCheckInput {
  pod: V1Pod;
  /** The pod's namespace object (undefined: not found). */
  podNamespace: V1Namespace | undefined;
  mesh: string;
  fsmNamespace: string;
  fsmNamespaceObject: V1Namespace | undefined;
  /** Pods of the fsm namespace labelled app=fsm-controller or app=fsm-injector. */
  controlPlanePods: readonly V1Pod[];
  /** Events of the pod's namespace about the pod. */
  events: readonly CoreV1Event[];
  controller: ControllerAnswer;
  now: Date;
  /** Events older than this are not "recent". */
  eventsSinceMs: number;
  /** As typed (for messages), e.g. `1h`. */
  eventsSince: string;
}

// ---------------------------------------------------------------------------------------------
// Describing probes

function describeHeaders(h: readonly { name: string; value: string }[] | undefined): string {
  return h && h.length > 0 ? ' ' + h.map((x) => `${x.name}: ${x.value}`).join(', ') : '';
}

/** One probe handler as a short line: `httpGet :15901/fsm-liveness-probe`, `tcpSocket :5432`. */
export function describeProbe(p: V1Probe | undefined): string {
  if (!p) return 'nothing';
  if (p.httpGet) {
    const scheme = p.httpGet.scheme === 'HTTPS' ? 'httpGet HTTPS' : 'httpGet';
    return `${scheme} :${String(p.httpGet.port)}${p.httpGet.path ?? ''}${describeHeaders(p.httpGet.httpHeaders)}`;
  }
  if (p.tcpSocket) return `tcpSocket :${String(p.tcpSocket.port)}`;
  if (p.grpc) return `grpc :${p.grpc.port}${p.grpc.service ? ` service ${p.grpc.service}` : ''}`;
  if (p.exec) return 'exec';
  return 'no handler';
}

/** The original target recorded by the injector. */
function describeOriginal(o: OriginalProbe): string {
  switch (o.kind) {
    case 'http':
      return `httpGet :${o.port}${o.path ?? ''}`;
    case 'https':
      return `httpGet HTTPS :${o.port}${o.path ?? ''}`;
    case 'tcp':
      return `tcpSocket :${o.port}`;
    case 'grpc':
      return `grpc :${o.port}${o.grpcService ? ` service ${o.grpcService}` : ''}`;
  }
}

function pointsAtMesh(p: V1Probe): boolean {
  const port = p.httpGet?.port;
  return typeof port === 'number' && PROBE_BYPASS_PORTS.includes(port);
}

function probeLabel(type: ProbeType, container: string): string {
  return `${type} probe of container ${container}`;
}

// ---------------------------------------------------------------------------------------------
// The checks

function recreateFix(ns: string, pod: string): string {
  return `recreate the pod so fsm-injector handles it again: kubectl -n ${ns} delete pod ${pod} (its Deployment re-creates it)`;
}

function sidecarCheck(inp: ProbeCheckInput, ns: string, name: string): CheckResult {
  const title = 'Sidecar injected';
  const id = proxyIdentity(inp.pod);
  const hasSidecar = (inp.pod.spec?.containers ?? []).some((c) => c.name === SIDECAR_CONTAINER_NAME);
  if (id.isProxy && hasSidecar) {
    return {
      id: 'sidecar',
      title,
      status: 'pass',
      details: [`proxy ${id.proxy.uuid} (container ${SIDECAR_CONTAINER_NAME})`],
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
  return { id: 'sidecar', title, status: 'fail', details, fix };
}

/**
 * Every probe kubelet runs calls what the injector's record says (compareProbe: the same comparison the
 * controller uses); a probe with no record either was not rewritten (and what the rewrite would make of
 * it) or cannot be (and why).
 */
function rewriteCheck(inp: ProbeCheckInput, ns: string, name: string, injected: boolean): CheckResult {
  const title = 'Probes rewritten to the proxy (15901-15903) and fsm-healthcheck (15904) ports';
  const base = { id: 'probes-rewritten' as const, title };
  if (!injected) {
    return { ...base, status: 'skip', details: ['pod has no sidecar: kubelet probes the app directly'] };
  }
  const containers = appContainers(inp.pod) as V1Container[];
  const ann = podOriginalProbes(inp.pod);
  const recorded = ann.status === 'invalid' ? {} : ann.containers;
  // Every probe the pod runs, and every probe the record has for a container of the pod.
  const slots = containers
    .flatMap((c) =>
      PROBE_TYPES.map((t) => ({
        c,
        t,
        live: c[PROBE_TYPE_INFO[t].field] || undefined,
        rec: recorded[c.name]?.[t],
      })),
    )
    .filter((s) => s.live !== undefined || s.rec !== undefined);
  if (slots.length === 0) {
    return { ...base, status: 'pass', details: ['the pod defines no liveness, readiness or startup probe'] };
  }
  if (ann.status === 'invalid') {
    return { ...base, status: 'fail', details: [ann.error], fix: recreateFix(ns, name) };
  }
  const wouldBe = rewriteProbes(podRef(inp.pod), containers);
  const details: string[] = [];
  let failed = false;
  for (const { c, t, live, rec } of slots) {
    const label = probeLabel(t, c.name);
    if (rec) {
      const drift = compareProbe(c, t, rec);
      if (drift === undefined) {
        details.push(`${label}: ${describeProbe(live)} → ${describeOriginal(rec)}`);
      } else {
        failed = true;
        details.push(
          `${label}: kubelet calls ${describeProbe(live)}, but ${ORIGINAL_PROBES_ANNOTATION} expects ` +
            `${describeProbe({ httpGet: drift.expected })} (original ${describeOriginal(rec)})`,
        );
      }
      continue;
    }
    // No record: `live` is defined (slots hold a live probe or a record).
    const probe = live!;
    if (probe.exec) {
      details.push(`${label}: exec, runs in the container (not rewritten)`);
      continue;
    }
    failed = true;
    if (pointsAtMesh(probe)) {
      details.push(
        `${label}: kubelet calls ${describeProbe(probe)}, but ${ORIGINAL_PROBES_ANNOTATION} records no original target for it`,
      );
      continue;
    }
    const expected = wouldBe.containers.find((x) => x.name === c.name)?.[PROBE_TYPE_INFO[t].field];
    if (expected && describeProbe(expected) !== describeProbe(probe)) {
      details.push(
        `${label}: not rewritten: kubelet calls ${describeProbe(probe)}, expected ${describeProbe(expected)}`,
      );
    } else {
      const why = wouldBe.warnings.find((w) => w.includes(`container ${c.name} ${t} probe`));
      details.push(
        `${label}: ${describeProbe(probe)} cannot be rewritten${why ? `: ${why.replace(/^pod [^:]+: /, '')}` : ''}`,
      );
    }
  }
  if (!failed) return { ...base, status: 'pass', details };
  const optOut = inp.pod.metadata?.annotations?.[PROBE_REWRITE_ANNOTATION];
  const fix =
    optOut?.toLowerCase() === PROBE_REWRITE_DISABLED_VALUE
      ? `the pod opts out with ${PROBE_REWRITE_ANNOTATION}=${optOut}: remove the annotation (in its template), then ${recreateFix(ns, name)}`
      : recreateFix(ns, name);
  return { ...base, status: 'fail', details, fix };
}

function entries(view: {
  LivenessProbes: ProbeViewEntry[];
  ReadinessProbes: ProbeViewEntry[];
  StartupProbes: ProbeViewEntry[];
}): { type: ProbeType; e: ProbeViewEntry }[] {
  return [
    ...view.LivenessProbes.map((e) => ({ type: 'liveness' as const, e })),
    ...view.ReadinessProbes.map((e) => ({ type: 'readiness' as const, e })),
    ...view.StartupProbes.map((e) => ({ type: 'startup' as const, e })),
  ];
}

function listenerCheck(inp: ProbeCheckInput, ns: string, name: string, injected: boolean): CheckResult {
  const title = 'Proxy config has a listener for each rewritten probe';
  const base = { id: 'proxy-listeners' as const, title };
  const d = desiredProxy(inp.pod);
  if (!injected || !d.isProxy)
    return { ...base, status: 'skip', details: ['pod has no sidecar: no proxy config'] };
  if (d.annotation === 'invalid') {
    return {
      ...base,
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
    return {
      ...base,
      status: 'pass',
      details: ['no probe goes through the proxy (none rewritten to 15901-15903)'],
    };
  }
  const port = (listener: string): string => {
    const t = PROBE_TYPES.find((x) => PROBE_TYPE_INFO[x].listenerName === listener);
    return t ? ` (:${PROBE_TYPE_INFO[t].port})` : '';
  };
  const c = inp.controller;
  const controllerFix =
    `check that the controller runs and serves ${DEBUG_PROXIES_PATH}: kubectl -n ${inp.fsmNamespace} get pods -l ${APP_LABEL}=${CONTROLLER_APP}` +
    `; or reach it directly with --controller-url http://<controller>:${CONTROLLER_HEALTH_PORT}`;
  if ('notAsked' in c)
    return { ...base, status: 'fail', details: [c.notAsked, ...problems], fix: controllerFix };
  if ('error' in c) {
    if (c.status === 404 && !c.apiServer) {
      return {
        ...base,
        status: 'fail',
        details: [`the controller has no config for proxy ${ns}/${name} (${c.error})`, ...problems],
        fix: `the controller builds configs for pods of namespaces in mesh [${inp.mesh}]: check fsm namespace list --mesh-name ${inp.mesh} and the controller's logs (kubectl -n ${inp.fsmNamespace} logs -l ${APP_LABEL}=${CONTROLLER_APP})`,
      };
    }
    return {
      ...base,
      status: 'fail',
      details: [`cannot read the proxy config from the controller: ${c.error}`, ...problems],
      fix: controllerFix,
    };
  }
  const names = listenerNames(c.config);
  if (names === undefined) {
    return {
      ...base,
      status: 'fail',
      details: ['the controller answered without a listener list (resources.listeners)', ...problems],
      fix: controllerFix,
    };
  }
  const have = new Set(names);
  const details: string[] = [];
  let missing = false;
  for (const [listener, probes] of [...wanted].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    if (have.has(listener)) details.push(`${listener}${port(listener)}: ${probes.join(', ')}`);
    else {
      missing = true;
      details.push(`${listener}${port(listener)} is missing: needed by ${probes.join(', ')}`);
    }
  }
  details.push(...problems);
  if (!missing && problems.length === 0) return { ...base, status: 'pass', details };
  return {
    ...base,
    status: 'fail',
    details,
    fix: missing
      ? `the controller has not pushed this pod's probe listeners: check its logs for pod ${ns}/${name} (kubectl -n ${inp.fsmNamespace} logs -l ${APP_LABEL}=${CONTROLLER_APP})`
      : 'give each container its own probe path, or probe one HTTPS container per probe type; then recreate the pod',
  };
}

function healthcheckCheck(inp: ProbeCheckInput, ns: string, name: string, injected: boolean): CheckResult {
  const title = 'fsm-healthcheck container present and running for TCP and gRPC probes';
  const base = { id: 'healthcheck' as const, title };
  if (!injected)
    return { ...base, status: 'skip', details: ['pod has no sidecar: kubelet probes the app directly'] };
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
  if (needs.length === 0) return { ...base, status: 'pass', details: ['not needed: no TCP or gRPC probe'] };
  const present = (inp.pod.spec?.containers ?? []).some((c) => c.name === HEALTHCHECK_CONTAINER_NAME);
  if (!present) {
    return {
      ...base,
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
      ...base,
      status: 'fail',
      details: [`container ${HEALTHCHECK_CONTAINER_NAME} has not started (no container status)`, ...needs],
      fix,
    };
  }
  if (st.state?.running) {
    return {
      ...base,
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
    ...base,
    status: 'fail',
    details: [`container ${HEALTHCHECK_CONTAINER_NAME} is ${why}; restarts: ${st.restartCount}`, ...needs],
    fix,
  };
}

function eventTime(e: CoreV1Event): number | undefined {
  const t = e.lastTimestamp ?? e.eventTime ?? e.firstTimestamp ?? e.metadata?.creationTimestamp;
  if (t === undefined || t === null) return undefined;
  const ms = t instanceof Date ? t.getTime() : Date.parse(String(t));
  return Number.isNaN(ms) ? undefined : ms;
}

function eventsCheck(inp: ProbeCheckInput, ns: string, name: string): CheckResult {
  const title = `No recent Unhealthy or Killing events (last ${inp.eventsSince})`;
  const base = { id: 'events' as const, title };
  const since = inp.now.getTime() - inp.eventsSinceMs;
  const uid = inp.pod.metadata?.uid;
  const recent = inp.events
    .filter((e) => (e.involvedObject.kind ?? 'Pod') === 'Pod' && e.involvedObject.name === name)
    .filter((e) => !uid || !e.involvedObject.uid || e.involvedObject.uid === uid)
    .filter((e) => PROBE_EVENT_REASONS.includes(e.reason ?? ''))
    .map((e) => ({ e, t: eventTime(e) }))
    .filter((x) => x.t === undefined || x.t >= since)
    .sort((a, b) => (a.t ?? 0) - (b.t ?? 0));
  if (recent.length === 0) return { ...base, status: 'pass', details: ['none'] };
  const shown = recent.slice(-MAX_EVENT_LINES);
  const details = shown.map(({ e }) => {
    const count = e.count && e.count > 1 ? ` (x${e.count})` : '';
    return `${e.type ?? 'Warning'} ${e.reason}${count}: ${(e.message ?? '').trim()}`;
  });
  if (recent.length > shown.length) details.unshift(`${recent.length - shown.length} older events not shown`);
  const killed = recent.some((x) => x.e.reason === 'Killing');
  return {
    ...base,
    status: 'fail',
    details,
    fix:
      `kubelet's probes fail${killed ? ' and containers were restarted' : ''}: check the probe targets above ` +
      `answer inside the pod; kubectl -n ${ns} describe pod ${name} shows the history`,
  };
}

function controlPlaneCheck(inp: ProbeCheckInput): CheckResult {
  const fsmNs = inp.fsmNamespace;
  const title = `Control plane not injected (namespace ${fsmNs})`;
  const base = { id: 'control-plane' as const, title };
  const obj = inp.fsmNamespaceObject;
  if (!obj) {
    return {
      ...base,
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
      (p.spec?.containers ?? []).some((c) => c.name === SIDECAR_CONTAINER_NAME),
  );
  for (const p of injected) details.push(`pod ${fsmNs}/${p.metadata?.name ?? '?'} has a sidecar`);
  if (!meshProblem && injected.length === 0) {
    details.push(`no ${CONTROLLER_APP}/${INJECTOR_APP} pod has a sidecar`);
    return { ...base, status: 'pass', details };
  }
  const steps: string[] = [];
  if (mesh !== undefined && meshProblem) steps.push(`fsm namespace remove ${fsmNs} --mesh-name ${mesh}`);
  if (injected.length > 0) {
    steps.push(
      `kubectl -n ${fsmNs} rollout restart deployment -l '${APP_LABEL} in (${CONTROLLER_APP},${INJECTOR_APP})'`,
    );
  }
  return {
    ...base,
    status: 'fail',
    details,
    fix: `take the control plane out of the mesh: ${steps.join('; then ')}`,
  };
}

/** Judges the gathered facts. Pure: same input, same report. */
export function evaluateProbeChecks(inp: ProbeCheckInput): ProbeCheckReport {
  const ns = inp.pod.metadata?.namespace ?? '';
  const name = inp.pod.metadata?.name ?? '';
  const sidecar = sidecarCheck(inp, ns, name);
  const injected = sidecar.status === 'pass';
  const checks = [
    sidecar,
    rewriteCheck(inp, ns, name, injected),
    listenerCheck(inp, ns, name, injected),
    healthcheckCheck(inp, ns, name, injected),
    eventsCheck(inp, ns, name),
    controlPlaneCheck(inp),
  ];
  return {
    namespace: ns,
    pod: name,
    mesh: inp.mesh,
    checks,
    failed: checks.filter((c) => c.status === 'fail').length,
  };
}

// ---------------------------------------------------------------------------------------------
// Gathering

export interface CheckProbesOptions {
  namespace: string;
  pod: string;
  mesh: string;
  fsmNamespace: string;
  /** Talks to the controller; undefined → through the API server's service proxy. */
  controller?: ControllerClient;
  eventsSince?: string;
  now?: Date;
}

/** Reads the pod, its namespace, events, the control plane and the controller's config; judges them. */
export async function checkProbes(clients: KubeClients, opts: CheckProbesOptions): Promise<ProbeCheckReport> {
  const { namespace, pod: name } = opts;
  const pod = await readPod(clients, namespace, name);
  const readNs = async (n: string): Promise<V1Namespace | undefined> => {
    try {
      return await clients.core.readNamespace({ name: n });
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw new CliError(`cannot read namespace ${n}: ${apiErrorMessage(e)}`);
    }
  };
  const sinceText = opts.eventsSince ?? DEFAULT_EVENTS_SINCE;
  const [podNamespace, fsmNamespaceObject, events, controlPlanePods] = await Promise.all([
    readNs(namespace),
    readNs(opts.fsmNamespace),
    clients.core
      .listNamespacedEvent({ namespace, fieldSelector: `involvedObject.name=${name}` })
      .then((l) => l.items)
      .catch((e: unknown) => {
        throw new CliError(`cannot list events of pod ${namespace}/${name}: ${apiErrorMessage(e)}`);
      }),
    clients.core
      .listNamespacedPod({
        namespace: opts.fsmNamespace,
        labelSelector: `${APP_LABEL} in (${CONTROLLER_APP},${INJECTOR_APP})`,
      })
      .then((l) => l.items)
      .catch((e: unknown) => {
        throw new CliError(
          `cannot list control-plane pods in namespace ${opts.fsmNamespace}: ${apiErrorMessage(e)}`,
        );
      }),
  ]);
  const id = proxyIdentity(pod);
  let controller: ControllerAnswer;
  if (!id.isProxy) controller = { notAsked: 'pod has no sidecar' };
  else {
    const client = opts.controller ?? controllerViaServiceProxy(clients.kc, opts.fsmNamespace);
    try {
      controller = { config: await client.getJson(proxyDebugPath(namespace, name)) };
    } catch (e) {
      controller =
        e instanceof ControllerError
          ? {
              error: e.message,
              where: client.where,
              ...(e.status !== undefined ? { status: e.status } : {}),
              ...(e.apiServer ? { apiServer: true } : {}),
            }
          : { error: errorMessage(e), where: client.where };
    }
  }
  return evaluateProbeChecks({
    pod,
    podNamespace,
    mesh: opts.mesh,
    fsmNamespace: opts.fsmNamespace,
    fsmNamespaceObject,
    controlPlanePods,
    events,
    controller,
    now: opts.now ?? new Date(),
    eventsSinceMs: parseDuration(sinceText),
    eventsSince: sinceText,
  });
}

const MARK: Record<CheckStatus, string> = { pass: '✓', fail: '✗', skip: '-' };

export function probeCheckText(r: ProbeCheckReport): string {
  const lines = [`Probe checks for pod ${r.namespace}/${r.pod} (mesh [${r.mesh}])`, ''];
  for (const c of r.checks) {
    lines.push(`${MARK[c.status]} ${c.title}`);
    for (const d of c.details) lines.push(`    ${d}`);
    if (c.status === 'fail' && c.fix) lines.push(`    fix: ${c.fix}`);
  }
  lines.push('');
  const ran = r.checks.filter((c) => c.status !== 'skip').length;
  lines.push(r.failed === 0 ? `All ${ran} checks passed` : `${r.failed} of ${ran} checks failed`);
  return lines.join('\n') + '\n';
}

export function checkCommand(ctx: CliContext): Command {
  const check = new Command('check').description('diagnose a pod in the mesh');
  check
    .command('probes')
    .description("check a pod's probes: rewrite, proxy listeners, fsm-healthcheck, events, control plane")
    .argument('<pod>', 'pod name')
    .addOption(podNamespaceOption())
    .addOption(meshNameOption())
    .addOption(fsmNamespaceOption())
    .addOption(controllerUrlOption())
    .addOption(
      new Option('--events-since <duration>', 'how far back events count as recent (e.g. 30m, 2h)')
        .argParser((v: string) => {
          parseDuration(v);
          return v;
        })
        .default(DEFAULT_EVENTS_SINCE),
    )
    .addOption(outputOption(['table', 'json', 'yaml'], 'table'))
    .action(
      async (
        pod: string,
        opts: {
          namespace: string;
          meshName: string;
          fsmNamespace: string;
          controllerUrl?: string;
          eventsSince: string;
          output: OutputFormat;
        },
      ) => {
        const report = await checkProbes(ctx.clients(), {
          namespace: opts.namespace,
          pod,
          mesh: opts.meshName,
          fsmNamespace: opts.fsmNamespace,
          ...(opts.controllerUrl ? { controller: controllerAtUrl(opts.controllerUrl) } : {}),
          eventsSince: opts.eventsSince,
          now: ctx.now(),
        });
        ctx.io.out(render(opts.output, report, () => probeCheckText(report)));
        if (report.failed > 0) throw new CliError('', 1);
      },
    );
  return check;
}
