/**
 * The "Probes" view of a proxy: per probe type, per container, what kubelet now calls (the
 * rewritten httpGet) and the original target. JSON for the controller's debug endpoint and the CLI.
 */
import {
  HEALTHCHECK_PATH,
  HEALTHCHECK_PORT,
  ORIGINAL_GRPC_PORT_HEADER,
  ORIGINAL_GRPC_SERVICE_HEADER,
  ORIGINAL_TCP_PORT_HEADER,
} from '../constants/index.js';
import type { OriginalProbeKind, ProbeType } from '../constants/index.js';
import type { PlannedProbe } from './probe-plan.js';

export interface HttpHeader {
  name: string;
  value: string;
}

export interface HttpGetAction {
  path: string;
  port: number;
  scheme: 'HTTP' | 'HTTPS';
  httpHeaders?: HttpHeader[];
}

export interface ProbeViewEntry {
  container: string;
  kind: OriginalProbeKind;
  /** What kubelet now sends (the rewritten probe). */
  httpGet: HttpGetAction;
  /** The target before the rewrite, as a Kubernetes probe handler. */
  original: {
    httpGet?: HttpGetAction;
    tcpSocket?: { port: number };
    grpc?: { port: number; service?: string };
  };
  timeoutSeconds: number;
  servedBy: 'proxy' | 'fsm-healthcheck' | 'none';
  /** servedBy proxy: the Envoy listener and cluster, and the route timeout (max(1, timeoutSeconds)). */
  listener?: string;
  cluster?: string;
  proxyTimeoutSeconds?: number;
  problem?: string;
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

function entry(p: PlannedProbe): ProbeViewEntry {
  const { probe } = p;
  let httpGet: HttpGetAction;
  let original: ProbeViewEntry['original'];
  if (probe.kind === 'http' || probe.kind === 'https') {
    const scheme = probe.kind === 'https' ? 'HTTPS' : 'HTTP';
    const headers =
      probe.headers && probe.headers.length > 0 ? { httpHeaders: probe.headers.map((h) => ({ ...h })) } : {};
    httpGet = { path: probe.rewritten.path, port: probe.rewritten.port, scheme, ...headers };
    original = { httpGet: { path: probe.path ?? '', port: probe.port, scheme, ...headers } };
  } else if (probe.kind === 'tcp') {
    httpGet = {
      path: HEALTHCHECK_PATH,
      port: HEALTHCHECK_PORT,
      scheme: 'HTTP',
      httpHeaders: [{ name: ORIGINAL_TCP_PORT_HEADER, value: String(probe.port) }],
    };
    original = { tcpSocket: { port: probe.port } };
  } else {
    const httpHeaders = [{ name: ORIGINAL_GRPC_PORT_HEADER, value: String(probe.port) }];
    if (probe.grpcService !== undefined)
      httpHeaders.push({ name: ORIGINAL_GRPC_SERVICE_HEADER, value: probe.grpcService });
    httpGet = { path: HEALTHCHECK_PATH, port: HEALTHCHECK_PORT, scheme: 'HTTP', httpHeaders };
    original = {
      grpc:
        probe.grpcService !== undefined
          ? { port: probe.port, service: probe.grpcService }
          : { port: probe.port },
    };
  }
  const out: ProbeViewEntry = {
    container: p.container,
    kind: probe.kind,
    httpGet,
    original,
    timeoutSeconds: probe.timeoutSeconds,
    servedBy: p.servedBy,
  };
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
