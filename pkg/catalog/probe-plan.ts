/**
 * From the validated original probes and hooks and the pod spec: which probe the proxy serves, which
 * fsm-healthcheck serves, and which cannot be served — plus the builder inputs for the first kind.
 * HTTPS probes whose TLS the proxy originates and lifecycle hooks are HTTP routes like the HTTP
 * probes (their clusters speak TLS when needed); a native sidecar's startup listener answers its
 * proxy-ready path. Every probe listener routes a followed same-host redirect back to the app.
 */
import {
  HOOK_TYPES,
  HOOK_TYPE_INFO,
  PROBE_TYPES,
  PROBE_TYPE_INFO,
  hookClusterName,
  probeClusterName,
} from '../constants/index.js';
import type { HookType, ProbeType } from '../constants/index.js';
import type { HttpProbeRoute, ProbeListenerInput } from '../envoy/builders/index.js';
import { compareHook, compareProbe } from '../probes/index.js';
import type {
  OriginalHook,
  OriginalHooksByContainer,
  OriginalProbe,
  OriginalProbesByContainer,
} from '../probes/index.js';
import type { PodLike } from './pod.js';
import { podRef } from './pod.js';
import { appContainers } from './ports.js';

export interface PlannedProbe {
  container: string;
  type: ProbeType;
  probe: OriginalProbe;
  servedBy: 'proxy' | 'fsm-healthcheck' | 'none';
  /** Proxy-served probes: the listener and cluster that carry it. */
  listener?: string;
  cluster?: string;
  /** servedBy 'none': why; or a difference between the pod's probe and the recorded rewrite. */
  problem?: string;
}

/** A rewritten lifecycle hook: always served by the proxy (startup listener) unless it cannot be. */
export interface PlannedHook {
  container: string;
  hook: HookType;
  record: OriginalHook;
  servedBy: 'proxy' | 'none';
  listener?: string;
  cluster?: string;
  problem?: string;
}

export interface ProbePlan {
  /** One entry per probe type with something for the proxy (types in PROBE_TYPES order). */
  inputs: ProbeListenerInput[];
  /** Every probe of the annotation whose container is in the pod, by type then pod container order. */
  probes: PlannedProbe[];
  /** Every hook of the annotation whose container is in the pod, by container then hook. */
  hooks: PlannedHook[];
  warnings: string[];
}

export interface PlanOptions {
  /** The record's lifecycle hooks. */
  hooks?: OriginalHooksByContainer;
  /** The sidecar is a native sidecar: its startup probe calls the startup listener's proxy-ready path. */
  nativeSidecar?: boolean;
}

function routeOf(container: string, probe: OriginalProbe & { kind: 'http' | 'https' }): HttpProbeRoute {
  return {
    container,
    matchPath: probe.rewritten.path,
    originalPath: probe.path ?? '',
    port: probe.port,
    headers: probe.headers ?? [],
    timeoutSeconds: probe.timeoutSeconds,
    ...(probe.kind === 'https' ? { tls: true } : {}),
  };
}

export function planProbes(
  pod: PodLike,
  original: OriginalProbesByContainer,
  options: PlanOptions = {},
): ProbePlan {
  const hookRecord = options.hooks ?? {};
  const ref = podRef(pod);
  const warnings: string[] = [];
  const app = appContainers(pod);
  const inPod = app.map((c) => c.name);
  const specOf = new Map(app.map((c) => [c.name, c]));
  const present = new Set(inPod);
  for (const name of [...new Set([...Object.keys(original), ...Object.keys(hookRecord)])].sort()) {
    if (!present.has(name)) {
      warnings.push(
        `pod ${ref}: annotation names container ${name}, which the pod does not run; its probes are ignored`,
      );
    }
  }
  const containers = inPod.filter((name) => Object.hasOwn(original, name));
  const inputs: ProbeListenerInput[] = [];
  const probes: PlannedProbe[] = [];
  const hooks: PlannedHook[] = [];
  for (const type of PROBE_TYPES) {
    const info = PROBE_TYPE_INFO[type];
    const http: HttpProbeRoute[] = [];
    const paths = new Map<string, string>();
    let https: ProbeListenerInput['https'];
    for (const container of containers) {
      const probe = original[container]![type];
      if (probe === undefined) continue;
      const planned: PlannedProbe = { container, type, probe, servedBy: 'proxy' };
      probes.push(planned);
      // Kubelet must still call what the record says: a difference (the annotation or the probe was
      // edited after injection) means it does not reach what fsm serves for it.
      const drift = compareProbe(specOf.get(container)!, type, probe);
      if (drift !== undefined) {
        planned.problem = drift.message;
        warnings.push(`pod ${ref}: ${drift.message}`);
      }
      if (probe.kind === 'tcp' || probe.kind === 'grpc') {
        planned.servedBy = 'fsm-healthcheck';
        continue;
      }
      let problem: string | undefined;
      if (probe.kind === 'http' || probe.tls === 'originate') {
        const owner = paths.get(probe.rewritten.path);
        if (owner === undefined) {
          paths.set(probe.rewritten.path, container);
          http.push(routeOf(container, probe));
        } else {
          problem = `${type} probes of containers ${owner} and ${container} both use path ${probe.rewritten.path}; only ${owner}'s is routed`;
        }
      } else if (https === undefined) {
        https = { container, port: probe.port, timeoutSeconds: probe.timeoutSeconds };
      } else {
        problem = `${type} probes of containers ${https.container} and ${container} are both HTTPS; port ${info.port} passes TLS through to one target only (${https.container})`;
      }
      if (problem === undefined) {
        planned.listener = info.listenerName;
        planned.cluster = probeClusterName(container, type);
      } else {
        planned.servedBy = 'none';
        planned.problem = planned.problem === undefined ? problem : `${planned.problem}; ${problem}`;
        warnings.push(`pod ${ref}: ${problem}`);
      }
    }
    if (type === 'startup') {
      for (const container of inPod.filter((name) => Object.hasOwn(hookRecord, name))) {
        for (const hook of HOOK_TYPES) {
          const record = hookRecord[container]![hook];
          if (record === undefined) continue;
          const planned: PlannedHook = { container, hook, record, servedBy: 'proxy' };
          hooks.push(planned);
          const drift = compareHook(specOf.get(container)!, hook, record);
          if (drift !== undefined) {
            planned.problem = drift.message;
            warnings.push(`pod ${ref}: ${drift.message}`);
          }
          const owner = paths.get(record.rewritten.path);
          if (owner !== undefined) {
            const problem = `the ${hook} hook of container ${container} uses path ${record.rewritten.path}, already routed for container ${owner}`;
            planned.servedBy = 'none';
            planned.problem = planned.problem === undefined ? problem : `${planned.problem}; ${problem}`;
            warnings.push(`pod ${ref}: ${problem}`);
            continue;
          }
          paths.set(record.rewritten.path, container);
          http.push({ ...routeOf(container, record), hook });
          planned.listener = HOOK_TYPE_INFO[hook].listenerName;
          planned.cluster = hookClusterName(container, hook);
        }
      }
    }
    const proxyReady = type === 'startup' && options.nativeSidecar === true;
    if (http.length > 0 || https !== undefined || proxyReady) {
      inputs.push({
        type,
        http,
        ...(https ? { https } : {}),
        ...(proxyReady ? { proxyReady: true } : {}),
        redirectLanding: true,
      });
    }
  }
  return { inputs, probes, hooks, warnings };
}
