/**
 * The "Probes" view of a proxy: per probe type, per container, what kubelet now calls (the
 * rewritten httpGet) and the original target. JSON for the controller's debug endpoint and the CLI.
 */
import type { HookType, ProbeType } from '../constants/index.js';
import { originalHandler, rewrittenHttpGet } from '../probes/index.js';
import type { OriginalHandlerView, OriginalProbe, OriginalProbeKind, ProbeHeader } from '../probes/index.js';
import type { PlannedHook, PlannedProbe } from './probe-plan.js';

export interface HttpGetAction {
  path: string;
  port: number;
  scheme: 'HTTP' | 'HTTPS';
  httpHeaders?: ProbeHeader[];
}

export interface ProbeViewEntry {
  container: string;
  kind: OriginalProbeKind;
  /** What kubelet now sends (the rewritten probe). */
  httpGet: HttpGetAction;
  /** The target before the rewrite, as a Kubernetes probe handler. */
  original: OriginalHandlerView;
  timeoutSeconds: number;
  servedBy: 'proxy' | 'fsm-healthcheck' | 'none';
  /** HTTPS whose TLS the proxy originates (kubelet calls the listener over plain HTTP). */
  tls?: 'originate';
  /** servedBy proxy: the Envoy listener and cluster, and the route timeout (max(1, timeoutSeconds)). */
  listener?: string;
  cluster?: string;
  proxyTimeoutSeconds?: number;
  problem?: string;
}

/** A rewritten lifecycle hook in the view. */
export interface HookViewEntry extends Omit<ProbeViewEntry, 'servedBy'> {
  hook: HookType;
  servedBy: 'proxy' | 'none';
}

export interface ProbesView {
  LivenessProbes: ProbeViewEntry[];
  ReadinessProbes: ProbeViewEntry[];
  StartupProbes: ProbeViewEntry[];
}

const VIEW_KEY: Record<ProbeType, keyof ProbesView> = {
  liveness: 'LivenessProbes',
  readiness: 'ReadinessProbes',
  startup: 'StartupProbes',
};

export function emptyProbesView(): ProbesView {
  return { LivenessProbes: [], ReadinessProbes: [], StartupProbes: [] };
}

function entry(p: {
  container: string;
  probe: OriginalProbe;
  servedBy: ProbeViewEntry['servedBy'];
  listener?: string;
  cluster?: string;
  problem?: string;
}): ProbeViewEntry {
  const { probe } = p;
  const call = rewrittenHttpGet(probe);
  const httpGet: HttpGetAction = {
    path: call.path,
    port: call.port,
    scheme: call.scheme,
    ...(call.httpHeaders ? { httpHeaders: call.httpHeaders } : {}),
  };
  const original = originalHandler(probe);
  const out: ProbeViewEntry = {
    container: p.container,
    kind: probe.kind,
    httpGet,
    original,
    timeoutSeconds: probe.timeoutSeconds,
    servedBy: p.servedBy,
  };
  if (probe.kind === 'https' && probe.tls === 'originate') out.tls = 'originate';
  if (p.listener !== undefined) out.listener = p.listener;
  if (p.cluster !== undefined) out.cluster = p.cluster;
  if (p.servedBy === 'proxy') out.proxyTimeoutSeconds = Math.max(1, probe.timeoutSeconds);
  if (p.problem !== undefined) out.problem = p.problem;
  return out;
}

export function buildProbesView(planned: readonly PlannedProbe[]): ProbesView {
  const view = emptyProbesView();
  for (const p of planned) view[VIEW_KEY[p.type]].push(entry(p));
  return view;
}

/** The rewritten lifecycle hooks, as the probes are shown. */
export function buildHooksView(hooks: readonly PlannedHook[]): HookViewEntry[] {
  return hooks.map((h) => ({ ...entry({ ...h, probe: h.record }), hook: h.hook, servedBy: h.servedBy }));
}
