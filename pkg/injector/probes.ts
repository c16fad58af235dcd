/**
 * The probe rewrite: a pure function from a pod's containers to the same containers with their
 * liveness/readiness/startup probes pointed at the sidecar (httpGet → 1590x) or at fsm-healthcheck
 * (tcpSocket/grpc → :15904 /fsm-healthcheck), plus the record of the original targets that the
 * controller builds each proxy's config from. No I/O, no clock.
 *
 * Rules (see ARCHITECTURE.md and pkg/constants/probes.ts):
 * - httpGet HTTP (or no scheme): port → 1590x, path → /fsm-<type>-probe; when several containers'
 *   probes of one type go through the proxy, each gets /fsm-<type>-probe/<container>.
 * - httpGet HTTPS: port → 1590x, path and scheme unchanged (TLS passes through the proxy; the probe
 *   listener tells TLS from plain HTTP, so HTTP and one HTTPS probe can share a type). A passthrough
 *   port serves one target only: a second HTTPS probe of the same type in the pod is degraded to a TCP
 *   check via fsm-healthcheck (recorded as kind `tcp`) and a warning says so.
 * - tcpSocket → httpGet :15904 /fsm-healthcheck with Original-Tcp-Port; grpc → the same with
 *   Original-Grpc-Port (and Original-Grpc-Service when set).
 * - exec, undefined/null probes, probes with no handler: untouched. Nothing is ever added.
 * - Named ports resolve against the container's own ports; a port that does not resolve (or is out
 *   of 1-65535) leaves the probe exactly as it was, with a warning naming pod, container, probe, port.
 * - httpGet/tcpSocket with an explicit `host` target another machine: left as is, with a warning.
 */
import type { V1Container, V1HTTPGetAction, V1Probe } from '@kubernetes/client-node';
import {
  DEFAULT_PROBE_TIMEOUT_SECONDS,
  HEALTHCHECK_PATH,
  HEALTHCHECK_PORT,
  ORIGINAL_GRPC_PORT_HEADER,
  ORIGINAL_GRPC_SERVICE_HEADER,
  ORIGINAL_TCP_PORT_HEADER,
  PROBE_TYPE_INFO,
  PROBE_TYPES,
  type OriginalProbe,
  type OriginalProbesByContainer,
  type ProbeType,
} from '../constants/index.js';

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

/** What the rewrite does with one probe. */
type Plan =
  | { action: 'keep' }
  | { action: 'http'; port: number; http: V1HTTPGetAction }
  | { action: 'https'; port: number; http: V1HTTPGetAction }
  | { action: 'tcp'; port: number; degradedFrom?: 'https' }
  | { action: 'grpc'; port: number; service?: string };

interface Planned {
  container: V1Container;
  type: ProbeType;
  probe: V1Probe;
  plan: Plan;
}

// Control characters cannot travel in an HTTP header or request line (the proxy config and the
// Original-Grpc-Service header would be refused): such probes are left as they are.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

function hasControlChar(s: string): boolean {
  return CONTROL.test(s);
}

function isPort(n: unknown): n is number {
  return typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= 65535;
}

/**
 * Resolves a probe's port against its container, as kubelet does: a number is taken as is; a string
 * is a container port name, or failing that a decimal number. Undefined when it does not resolve to
 * 1-65535.
 */
export function resolveProbePort(port: unknown, container: V1Container): number | undefined {
  if (typeof port === 'number') return isPort(port) ? port : undefined;
  if (typeof port !== 'string' || port === '') return undefined;
  const named = (container.ports ?? []).find((p) => p.name === port);
  if (named) return isPort(named.containerPort) ? named.containerPort : undefined;
  if (/^[0-9]+$/.test(port)) {
    const n = Number(port);
    return isPort(n) ? n : undefined;
  }
  return undefined;
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
    const texts = [http.path ?? '', ...(http.httpHeaders ?? []).map((h) => h.value)];
    if (texts.some(hasControlChar) || !(http.httpHeaders ?? []).every((h) => HEADER_NAME.test(h.name))) {
      warnings.push(`${where}: httpGet path or headers are not valid HTTP; left unchanged`);
      return { action: 'keep' };
    }
    const scheme = http.scheme ?? '';
    if (scheme === '' || scheme === 'HTTP') return { action: 'http', port, http };
    if (scheme === 'HTTPS') return { action: 'https', port, http };
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
    return { action: 'tcp', port };
  }
  const grpc = probe.grpc!;
  if (!isPort(grpc.port)) return unresolved(grpc.port);
  if (grpc.service && hasControlChar(grpc.service)) {
    warnings.push(`${where}: grpc.service contains control characters; left unchanged`);
    return { action: 'keep' };
  }
  return grpc.service
    ? { action: 'grpc', port: grpc.port, service: grpc.service }
    : { action: 'grpc', port: grpc.port };
}

function timeoutOf(probe: V1Probe): number {
  const t = probe.timeoutSeconds;
  return typeof t === 'number' && Number.isInteger(t) && t >= 1 ? t : DEFAULT_PROBE_TIMEOUT_SECONDS;
}

/** The probe with its handler replaced by an httpGet to fsm-healthcheck (other fields kept). */
function healthcheckProbe(probe: V1Probe, headers: { name: string; value: string }[]): V1Probe {
  const rest: V1Probe = { ...probe };
  delete rest.tcpSocket;
  delete rest.grpc;
  delete rest.httpGet;
  return {
    ...rest,
    httpGet: { port: HEALTHCHECK_PORT, path: HEALTHCHECK_PATH, scheme: 'HTTP', httpHeaders: headers },
  };
}

function copyHeaders(http: V1HTTPGetAction): { name: string; value: string }[] | undefined {
  const h = http.httpHeaders;
  return h && h.length > 0 ? h.map((x) => ({ name: x.name, value: x.value })) : undefined;
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
      if (p.plan.action !== 'https') continue;
      if (httpsSeen === undefined) {
        httpsSeen = p.container.name;
        continue;
      }
      warnings.push(
        `pod ${podRef}: container ${p.container.name} ${type} probe: the HTTPS ${type} port already passes ` +
          `through to container ${httpsSeen}; checked as TCP on port ${p.plan.port} by fsm-healthcheck instead`,
      );
      p.plan = { action: 'tcp', port: p.plan.port, degradedFrom: 'https' };
    }
    httpCount[type] = ofType.filter((p) => p.plan.action === 'http').length;
  }

  const originals: OriginalProbesByContainer = {};
  const proxyTypes = new Set<ProbeType>();
  const hcPorts = new Set<number>();
  const replaced = new Map<V1Container, Partial<Record<ProbeType, V1Probe>>>();

  for (const { container, type, probe, plan: pl } of planned) {
    if (pl.action === 'keep') continue;
    const info = PROBE_TYPE_INFO[type];
    const timeoutSeconds = timeoutOf(probe);
    let rewritten: V1Probe;
    let original: OriginalProbe;
    switch (pl.action) {
      case 'http': {
        const path = httpCount[type]! > 1 ? `${info.path}/${container.name}` : info.path;
        rewritten = { ...probe, httpGet: { ...pl.http, port: info.port, path } };
        const headers = copyHeaders(pl.http);
        original = {
          kind: 'http',
          scheme: 'HTTP',
          port: pl.port,
          path: pl.http.path ?? '',
          ...(headers ? { headers } : {}),
          timeoutSeconds,
          rewritten: { port: info.port, path },
        };
        proxyTypes.add(type);
        break;
      }
      case 'https': {
        rewritten = { ...probe, httpGet: { ...pl.http, port: info.port } };
        const headers = copyHeaders(pl.http);
        original = {
          kind: 'https',
          scheme: 'HTTPS',
          port: pl.port,
          path: pl.http.path ?? '',
          ...(headers ? { headers } : {}),
          timeoutSeconds,
          rewritten: { port: info.port, path: pl.http.path || '/' },
        };
        proxyTypes.add(type);
        break;
      }
      case 'tcp':
        rewritten = healthcheckProbe(probe, [{ name: ORIGINAL_TCP_PORT_HEADER, value: String(pl.port) }]);
        original = {
          kind: 'tcp',
          port: pl.port,
          timeoutSeconds,
          rewritten: { port: HEALTHCHECK_PORT, path: HEALTHCHECK_PATH },
        };
        hcPorts.add(pl.port);
        break;
      case 'grpc': {
        const headers = [{ name: ORIGINAL_GRPC_PORT_HEADER, value: String(pl.port) }];
        if (pl.service) headers.push({ name: ORIGINAL_GRPC_SERVICE_HEADER, value: pl.service });
        rewritten = healthcheckProbe(probe, headers);
        original = {
          kind: 'grpc',
          port: pl.port,
          ...(pl.service ? { grpcService: pl.service } : {}),
          timeoutSeconds,
          rewritten: { port: HEALTHCHECK_PORT, path: HEALTHCHECK_PATH },
        };
        hcPorts.add(pl.port);
        break;
      }
    }
    (originals[container.name] ??= {})[type] = original;
    const r = replaced.get(container) ?? {};
    r[type] = rewritten;
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
