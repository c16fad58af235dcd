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
 *   listener tells TLS from plain HTTP). A passthrough port serves one TLS target only (kubelet sends
 *   no SNI to a pod IP): the first HTTPS probe of a type passes its TLS through; every other HTTPS
 *   probe of the type is called over plain HTTP at its own path and the proxy originates the TLS to
 *   the app (recorded with `tls: "originate"`). No HTTPS probe loses its meaning.
 * - tcpSocket and grpc probes go to fsm-healthcheck.
 * - exec, undefined/null probes, probes with no handler: untouched. Nothing is ever added.
 * - Named ports resolve against the container's own ports; a port that does not resolve (or is out
 *   of 1-65535) leaves the probe exactly as it was, with a warning naming pod, container, probe, port.
 * - httpGet/tcpSocket with an explicit `host` target another machine: left as is, with a warning.
 * - Paths, header names and values and gRPC services that cannot travel in HTTP: left as is, with a
 *   warning.
 * - A second admission pass (the webhook is reinvoked after other webhooks changed the pod) passes the
 *   record of the first: recorded probes are left exactly as they are, only the others are rewritten,
 *   and the result is the merged record — running it again changes nothing.
 */
import type { V1Container, V1Probe } from '@kubernetes/client-node';
import { PROBE_TYPE_INFO, PROBE_TYPES, type ProbeType } from '../constants/index.js';
import {
  effectiveTimeoutSeconds,
  hasControlChar,
  isHeaderName,
  passesTlsThrough,
  recordProbe,
  resolveProbePort,
  rewriteProbe,
  type OriginalHandler,
  type OriginalProbesByContainer,
} from '../probes/index.js';

export interface ProbeRewriteResult {
  /** The containers, in the same order, with rewritten probes (fresh objects; input untouched). */
  containers: V1Container[];
  /** Original targets of every rewritten probe, by container then probe type (recorded ones included). */
  originals: OriginalProbesByContainer;
  /** Probes rewritten by this call (not counting those already recorded). */
  rewritten: number;
  /** Human-readable admission warnings (unresolvable ports, explicit hosts, ...). */
  warnings: string[];
  /** Probe types served by a proxy listener (1590x): the sidecar exposes a port for each. */
  proxyProbeTypes: ProbeType[];
  /** Original ports fsm-healthcheck must be allowed to dial (sorted, unique); empty → no container. */
  healthcheckPorts: number[];
}

/** What the rewrite does with one probe: keep it, or rewrite it from its original handler. */
export type Plan = { action: 'keep' } | { action: 'rewrite'; original: OriginalHandler };

interface Planned {
  container: V1Container;
  type: ProbeType;
  probe: V1Probe;
  plan: Plan;
}

function isPort(n: unknown): n is number {
  return typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= 65535;
}

/**
 * An httpGet handler (a probe's or a lifecycle hook's): rewritten from its original target, or kept
 * with a warning naming `where` when it cannot travel through the proxy.
 */
export function planHttpGet(
  where: string,
  http: NonNullable<V1Probe['httpGet']>,
  container: V1Container,
  warnings: string[],
): Plan {
  if (http.host) {
    warnings.push(`${where}: httpGet.host ${JSON.stringify(http.host)} targets another host; left unchanged`);
    return { action: 'keep' };
  }
  const port = resolveProbePort(http.port, container);
  if (port === undefined) {
    warnings.push(
      `${where}: port ${JSON.stringify(http.port)} does not resolve to a port (1-65535) of the container; left unchanged`,
    );
    return { action: 'keep' };
  }
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
  if (probe.httpGet) return planHttpGet(where, probe.httpGet, container, warnings);
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
 * `enabled: false` (the probe-rewrite opt-out) returns the containers unchanged. `recorded`: the
 * record of an earlier pass (a reinvocation): those probes are kept as they are, and counted when
 * the new ones get their paths and TLS handling.
 */
export function rewriteProbes(
  podRef: string,
  containers: readonly V1Container[],
  enabled = true,
  recorded: OriginalProbesByContainer = {},
): ProbeRewriteResult {
  const warnings: string[] = [];
  const planned: Planned[] = [];
  if (enabled) {
    for (const container of containers) {
      for (const type of PROBE_TYPES) {
        const probe = container[PROBE_TYPE_INFO[type].field];
        if (probe === undefined || probe === null) continue;
        if (recorded[container.name]?.[type] !== undefined) continue; // rewritten by an earlier pass
        planned.push({ container, type, probe, plan: plan(podRef, container, type, probe, warnings) });
      }
    }
  }
  const earlier = Object.values(recorded).flatMap((byType) =>
    PROBE_TYPES.flatMap((type) => (byType[type] ? [{ type, probe: byType[type] }] : [])),
  );

  // A passthrough port carries one TLS target (kubelet sends no SNI to a pod IP): the first HTTPS probe
  // of a type passes through; the proxy originates the TLS of every other HTTPS probe of that type.
  const httpCount: Partial<Record<ProbeType, number>> = {};
  const originate = new Set<Planned>();
  for (const type of PROBE_TYPES) {
    const ofType = planned.filter((p) => p.type === type);
    let passthrough = earlier.some((e) => e.type === type && passesTlsThrough(e.probe));
    for (const p of ofType) {
      if (p.plan.action !== 'rewrite' || p.plan.original.kind !== 'https') continue;
      if (passthrough) originate.add(p);
      passthrough = true;
    }
    httpCount[type] =
      ofType.filter((p) => kindOf(p) === 'http').length +
      earlier.filter((e) => e.type === type && e.probe.kind === 'http').length;
  }

  const originals: OriginalProbesByContainer =
    // A first pass records nothing yet: skip the copy (structuredClone costs µs even of `{}`).
    Object.keys(recorded).length === 0 ? {} : structuredClone(recorded);
  const hcPorts = new Set<number>();
  const replaced = new Map<V1Container, Partial<Record<ProbeType, V1Probe>>>();
  let rewritten = 0;

  for (const p of planned) {
    const { container, type, probe, plan: pl } = p;
    if (pl.action === 'keep') continue;
    const slot = {
      type,
      container: container.name,
      perContainerPath: httpCount[type]! > 1,
      ...(originate.has(p) ? { tls: 'originate' as const } : {}),
    };
    const original = recordProbe(pl.original, slot, effectiveTimeoutSeconds(probe.timeoutSeconds));
    (originals[container.name] ??= {})[type] = original;
    const r = replaced.get(container) ?? {};
    r[type] = rewriteProbe(probe, original);
    replaced.set(container, r);
    rewritten++;
  }
  const proxyTypes = new Set<ProbeType>();
  for (const byType of Object.values(originals)) {
    for (const type of PROBE_TYPES) {
      const o = byType[type];
      if (o === undefined) continue;
      if (o.kind === 'http' || o.kind === 'https') proxyTypes.add(type);
      else hcPorts.add(o.port);
    }
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
    rewritten,
    warnings,
    proxyProbeTypes: PROBE_TYPES.filter((t) => proxyTypes.has(t)),
    healthcheckPorts: [...hcPorts].sort((a, b) => a - b),
  };
}
