/**
 * The probe rewrite of a pod: a pure function from a pod's containers to the same containers with their
 * liveness/readiness/startup probes pointed at the sidecar (httpGet → 1590x) or at fsm-healthcheck
 * (tcpSocket/grpc → :15904 /fsm-healthcheck), plus the record of the original targets that the
 * controller builds each proxy's config from. No I/O, no clock.
 *
 * This file decides which probes are rewritten and the pod-level policy; where kubelet is sent (ports,
 * paths, headers) and the record come from the probe contract, pkg/probes (recordProbe, rewriteProbe).
 * - httpGet HTTP (or no scheme) and HTTPS probes go through the proxy; when several containers' HTTP
 *   probes of one type do, each gets its own path. HTTP and one HTTPS probe can share a type (the probe
 *   listener tells TLS from plain HTTP). A passthrough port serves one target only: a second HTTPS
 *   probe of the same type in the pod is degraded to a TCP check via fsm-healthcheck (recorded as kind
 *   `tcp`) and a warning says so.
 * - tcpSocket and grpc probes go to fsm-healthcheck.
 * - exec, undefined/null probes, probes with no handler: untouched. Nothing is ever added.
 * - Named ports resolve against the container's own ports; a port that does not resolve (or is out
 *   of 1-65535) leaves the probe exactly as it was, with a warning naming pod, container, probe, port.
 * - httpGet/tcpSocket with an explicit `host` target another machine: left as is, with a warning.
 * - Paths, header names and values and gRPC services that cannot travel in HTTP: left as is, with a
 *   warning.
 */
import type { V1Container, V1Probe } from '@kubernetes/client-node';
import { PROBE_TYPE_INFO, PROBE_TYPES, type ProbeType } from '../constants/index.js';
import {
  effectiveTimeoutSeconds,
  hasControlChar,
  isHeaderName,
  recordProbe,
  resolveProbePort,
  rewriteProbe,
  type OriginalHandler,
  type OriginalProbesByContainer,
} from '../probes/index.js';

export interface ProbeRewriteResult {
  /** The containers, in the same order, with rewritten probes (fresh objects; input untouched). */
  containers: V1Container[];
  /** Original targets of every rewritten probe, by container then probe type. */
  originals: OriginalProbesByContainer;
  /** Human-readable admission warnings (unresolvable ports, degraded HTTPS probes, ...). */
  warnings: string[];
  /** Probe types served by a proxy listener (1590x): the sidecar exposes a port for each. */
  proxyProbeTypes: ProbeType[];
  /** Original ports fsm-healthcheck must be allowed to dial (sorted, unique); empty → no container. */
  healthcheckPorts: number[];
}

/** What the rewrite does with one probe: keep it, or rewrite it from its original handler. */
type Plan = { action: 'keep' } | { action: 'rewrite'; original: OriginalHandler };

interface Planned {
  container: V1Container;
  type: ProbeType;
  probe: V1Probe;
  plan: Plan;
}

function isPort(n: unknown): n is number {
  return typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= 65535;
}

function plan(
  podRef: string,
  container: V1Container,
  type: ProbeType,
  probe: V1Probe,
  warnings: string[],
): Plan {
  const where = `pod ${podRef}: container ${container.name} ${type} probe`;
  const handlers = (['httpGet', 'tcpSocket', 'grpc', 'exec'] as const).filter(
    (h) => probe[h] !== undefined && probe[h] !== null,
  );
  if (handlers.length === 0 || handlers[0] === 'exec') return { action: 'keep' };
  if (handlers.length > 1) {
    warnings.push(`${where}: has several handlers (${handlers.join(', ')}); left unchanged`);
    return { action: 'keep' };
  }
  const unresolved = (port: unknown): Plan => {
    warnings.push(
      `${where}: port ${JSON.stringify(port)} does not resolve to a port (1-65535) of the container; left unchanged`,
    );
    return { action: 'keep' };
  };
  if (probe.httpGet) {
    const http = probe.httpGet;
    if (http.host) {
      warnings.push(
        `${where}: httpGet.host ${JSON.stringify(http.host)} targets another host; left unchanged`,
      );
      return { action: 'keep' };
    }
    const port = resolveProbePort(http.port, container);
    if (port === undefined) return unresolved(http.port);
    // Control characters cannot travel in a request line or header (the proxy config would be
    // refused); the injector is stricter than HTTP here and refuses a tab in a header value too.
    const texts = [http.path ?? '', ...(http.httpHeaders ?? []).map((h) => h.value)];
    if (texts.some(hasControlChar) || !(http.httpHeaders ?? []).every((h) => isHeaderName(h.name))) {
      warnings.push(`${where}: httpGet path or headers are not valid HTTP; left unchanged`);
      return { action: 'keep' };
    }
    const scheme = http.scheme ?? '';
    const headers = http.httpHeaders ?? [];
    if (scheme === '' || scheme === 'HTTP' || scheme === 'HTTPS') {
      const kind = scheme === 'HTTPS' ? 'https' : 'http';
      return { action: 'rewrite', original: { kind, port, path: http.path ?? '', headers } };
    }
    warnings.push(`${where}: httpGet.scheme ${JSON.stringify(scheme)} is not HTTP or HTTPS; left unchanged`);
    return { action: 'keep' };
  }
  if (probe.tcpSocket) {
    if (probe.tcpSocket.host) {
      warnings.push(
        `${where}: tcpSocket.host ${JSON.stringify(probe.tcpSocket.host)} targets another host; left unchanged`,
      );
      return { action: 'keep' };
    }
    const port = resolveProbePort(probe.tcpSocket.port, container);
    if (port === undefined) return unresolved(probe.tcpSocket.port);
    return { action: 'rewrite', original: { kind: 'tcp', port } };
  }
  const grpc = probe.grpc!;
  if (!isPort(grpc.port)) return unresolved(grpc.port);
  if (grpc.service && hasControlChar(grpc.service)) {
    warnings.push(`${where}: grpc.service contains control characters; left unchanged`);
    return { action: 'keep' };
  }
  return {
    action: 'rewrite',
    original: grpc.service
      ? { kind: 'grpc', port: grpc.port, service: grpc.service }
      : { kind: 'grpc', port: grpc.port },
  };
}

function kindOf(p: Planned): OriginalHandler['kind'] | undefined {
  return p.plan.action === 'rewrite' ? p.plan.original.kind : undefined;
}

/**
 * Rewrites the probes of `containers`. `podRef` (e.g. `ns/name`) only appears in warnings.
 * `enabled: false` (the probe-rewrite opt-out) returns the containers unchanged.
 */
export function rewriteProbes(
  podRef: string,
  containers: readonly V1Container[],
  enabled = true,
): ProbeRewriteResult {
  const warnings: string[] = [];
  const planned: Planned[] = [];
  if (enabled) {
    for (const container of containers) {
      for (const type of PROBE_TYPES) {
        const probe = container[PROBE_TYPE_INFO[type].field];
        if (probe === undefined || probe === null) continue;
        planned.push({ container, type, probe, plan: plan(podRef, container, type, probe, warnings) });
      }
    }
  }

  // A passthrough port carries one TLS target (kubelet sends no SNI to a pod IP): the first HTTPS probe
  // of a type passes through; any further HTTPS probe of that type degrades to a TCP check.
  const httpCount: Partial<Record<ProbeType, number>> = {};
  for (const type of PROBE_TYPES) {
    const ofType = planned.filter((p) => p.type === type);
    let httpsSeen: string | undefined;
    for (const p of ofType) {
      if (p.plan.action !== 'rewrite' || p.plan.original.kind !== 'https') continue;
      if (httpsSeen === undefined) {
        httpsSeen = p.container.name;
        continue;
      }
      const port = p.plan.original.port;
      warnings.push(
        `pod ${podRef}: container ${p.container.name} ${type} probe: the HTTPS ${type} port already passes ` +
          `through to container ${httpsSeen}; checked as TCP on port ${port} by fsm-healthcheck instead`,
      );
      p.plan = { action: 'rewrite', original: { kind: 'tcp', port } };
    }
    httpCount[type] = ofType.filter((p) => kindOf(p) === 'http').length;
  }

  const originals: OriginalProbesByContainer = {};
  const proxyTypes = new Set<ProbeType>();
  const hcPorts = new Set<number>();
  const replaced = new Map<V1Container, Partial<Record<ProbeType, V1Probe>>>();

  for (const { container, type, probe, plan: pl } of planned) {
    if (pl.action === 'keep') continue;
    const slot = { type, container: container.name, perContainerPath: httpCount[type]! > 1 };
    const original = recordProbe(pl.original, slot, effectiveTimeoutSeconds(probe.timeoutSeconds));
    if (original.kind === 'http' || original.kind === 'https') proxyTypes.add(type);
    else hcPorts.add(original.port);
    (originals[container.name] ??= {})[type] = original;
    const r = replaced.get(container) ?? {};
    r[type] = rewriteProbe(probe, original);
    replaced.set(container, r);
  }

  const out = containers.map((c) => {
    const r = replaced.get(c);
    if (!r) return c;
    const copy: V1Container = { ...c };
    for (const type of PROBE_TYPES) {
      const p = r[type];
      if (p) copy[PROBE_TYPE_INFO[type].field] = p;
    }
    return copy;
  });

  return {
    containers: out,
    originals,
    warnings,
    proxyProbeTypes: PROBE_TYPES.filter((t) => proxyTypes.has(t)),
    healthcheckPorts: [...hcPorts].sort((a, b) => a - b),
  };
}
