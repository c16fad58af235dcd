/**
 * Pod fixtures for the catalog, controller, sandbox tests and benchmarks: pods as a user writes
 * them, and as fsm-injector leaves them (proxy UUID label, original-probes annotation, rewritten
 * probes, sidecar/init/healthcheck containers). The rewrite here follows the contract of
 * pkg/probes (the probe contract) and issue 3 so these fixtures do not depend on the injector's code.
 */
import { createHash } from 'node:crypto';
import type { V1Container, V1ContainerPort, V1Pod, V1Probe } from '@kubernetes/client-node';
import {
  DEFAULT_PROBE_TIMEOUT_SECONDS,
  HEALTHCHECK_CONTAINER_NAME,
  HEALTHCHECK_PATH,
  HEALTHCHECK_PORT,
  INIT_CONTAINER_NAME,
  INJECTION_STAMP_ANNOTATION,
  ORIGINAL_GRPC_PORT_HEADER,
  ORIGINAL_GRPC_SERVICE_HEADER,
  ORIGINAL_PROBES_ANNOTATION,
  ORIGINAL_TCP_PORT_HEADER,
  PROBE_TYPES,
  PROBE_TYPE_INFO,
  PROXY_ADMIN_PORT,
  PROXY_UUID_LABEL,
  SIDECAR_CONTAINER_NAME,
} from '../../pkg/constants/index.js';
import type { ProbeType } from '../../pkg/constants/index.js';
import { formatInjectionStamp, injectionStamp } from '../../pkg/probes/index.js';
import type {
  OriginalProbe,
  OriginalProbesAnnotation,
  OriginalProbesByContainer,
} from '../../pkg/probes/index.js';

export interface ProbeSpec {
  kind: 'http' | 'https' | 'tcp' | 'grpc' | 'exec';
  /** Target port (exec: ignored). */
  port?: number;
  path?: string;
  headers?: { name: string; value: string }[];
  timeoutSeconds?: number;
  grpcService?: string;
}

export interface ContainerSpec {
  name: string;
  /** Declared container ports: numbers (TCP) or full objects. */
  ports?: (number | V1ContainerPort)[];
  liveness?: ProbeSpec;
  readiness?: ProbeSpec;
  startup?: ProbeSpec;
}

export interface PodOptions {
  name: string;
  namespace?: string;
  serviceAccount?: string;
  uid?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  containers: ContainerSpec[];
}

/** Shorthands for probe specs. */
export const http = (port: number, path = '/healthz', more: Partial<ProbeSpec> = {}): ProbeSpec => ({
  kind: 'http',
  port,
  path,
  ...more,
});
export const https = (port: number, path = '/healthz', more: Partial<ProbeSpec> = {}): ProbeSpec => ({
  kind: 'https',
  port,
  path,
  ...more,
});
export const tcp = (port: number, more: Partial<ProbeSpec> = {}): ProbeSpec => ({
  kind: 'tcp',
  port,
  ...more,
});
export const grpc = (port: number, service?: string, more: Partial<ProbeSpec> = {}): ProbeSpec => ({
  kind: 'grpc',
  port,
  ...(service === undefined ? {} : { grpcService: service }),
  ...more,
});

/** A stable UUID-shaped proxy id derived from the pod's namespace and name. */
export function fixtureUuid(namespace: string, name: string): string {
  const h = createHash('sha1').update(`${namespace}/${name}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

function k8sProbe(p: ProbeSpec): V1Probe {
  const base: V1Probe = { periodSeconds: 10, failureThreshold: 3 };
  if (p.timeoutSeconds !== undefined) base.timeoutSeconds = p.timeoutSeconds;
  switch (p.kind) {
    case 'http':
    case 'https':
      return {
        ...base,
        httpGet: {
          port: p.port!,
          ...(p.path === undefined ? {} : { path: p.path }),
          ...(p.kind === 'https' ? { scheme: 'HTTPS' } : {}),
          ...(p.headers ? { httpHeaders: p.headers.map((h) => ({ ...h })) } : {}),
        },
      };
    case 'tcp':
      return { ...base, tcpSocket: { port: p.port! } };
    case 'grpc':
      return {
        ...base,
        grpc: { port: p.port!, ...(p.grpcService === undefined ? {} : { service: p.grpcService }) },
      };
    case 'exec':
      return { ...base, exec: { command: ['true'] } };
  }
}

function k8sPorts(ports: ContainerSpec['ports']): V1ContainerPort[] | undefined {
  if (!ports) return undefined;
  return ports.map((p) => (typeof p === 'number' ? { containerPort: p, protocol: 'TCP' } : { ...p }));
}

function appContainer(c: ContainerSpec): V1Container {
  const out: V1Container = { name: c.name, image: `example/${c.name}:1` };
  const ports = k8sPorts(c.ports);
  if (ports) out.ports = ports;
  for (const type of PROBE_TYPES) {
    const p = c[type];
    if (p) out[PROBE_TYPE_INFO[type].field] = k8sProbe(p);
  }
  return out;
}

/** The pod as written by a user: no label, no annotation, original probes. Not a proxy. */
export function appPod(opts: PodOptions): V1Pod {
  const namespace = opts.namespace ?? 'app';
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: opts.name,
      namespace,
      uid: opts.uid ?? fixtureUuid('uid', `${namespace}/${opts.name}`),
      ...(opts.labels ? { labels: { ...opts.labels } } : {}),
      ...(opts.annotations ? { annotations: { ...opts.annotations } } : {}),
    },
    spec: {
      ...(opts.serviceAccount ? { serviceAccountName: opts.serviceAccount } : {}),
      containers: opts.containers.map(appContainer),
    },
  };
}

function timeoutOf(p: ProbeSpec): number {
  const t = p.timeoutSeconds;
  return typeof t === 'number' && Number.isInteger(t) && t >= 1 ? t : DEFAULT_PROBE_TIMEOUT_SECONDS;
}

/**
 * The original-probes record the injector writes for these containers: HTTP probes move to 1590x
 * with a per-container path when several containers share a type; HTTPS keeps its path; a second
 * HTTPS probe of a type is called over HTTP at a per-container path and the proxy originates its TLS
 * (`tls: 'originate'`); tcp/grpc go to fsm-healthcheck; exec is untouched.
 */
export function originalProbesFor(containers: readonly ContainerSpec[]): OriginalProbesByContainer {
  const out: OriginalProbesByContainer = {};
  for (const type of PROBE_TYPES) {
    const info = PROBE_TYPE_INFO[type];
    const httpCount = containers.filter((c) => c[type]?.kind === 'http').length;
    let httpsSeen = false;
    for (const c of containers) {
      const p = c[type];
      if (!p || p.kind === 'exec') continue;
      let rec: OriginalProbe;
      const timeoutSeconds = timeoutOf(p);
      const headers = p.headers && p.headers.length > 0 ? { headers: p.headers.map((h) => ({ ...h })) } : {};
      if (p.kind === 'http') {
        const path = httpCount > 1 ? `${info.path}/${c.name}` : info.path;
        rec = {
          kind: 'http',
          scheme: 'HTTP',
          port: p.port!,
          path: p.path ?? '',
          ...headers,
          timeoutSeconds,
          rewritten: { port: info.port, path },
        };
      } else if (p.kind === 'https' && !httpsSeen) {
        httpsSeen = true;
        rec = {
          kind: 'https',
          scheme: 'HTTPS',
          port: p.port!,
          path: p.path ?? '',
          ...headers,
          timeoutSeconds,
          rewritten: { port: info.port, path: p.path || '/' },
        };
      } else if (p.kind === 'https') {
        rec = {
          kind: 'https',
          scheme: 'HTTPS',
          port: p.port!,
          path: p.path ?? '',
          ...headers,
          timeoutSeconds,
          tls: 'originate',
          rewritten: { port: info.port, path: `${info.path}/${c.name}` },
        };
      } else if (p.kind === 'grpc') {
        rec = {
          kind: 'grpc',
          port: p.port!,
          ...(p.grpcService ? { grpcService: p.grpcService } : {}),
          timeoutSeconds,
          rewritten: { port: HEALTHCHECK_PORT, path: HEALTHCHECK_PATH },
        };
      } else {
        rec = {
          kind: 'tcp',
          port: p.port!,
          timeoutSeconds,
          rewritten: { port: HEALTHCHECK_PORT, path: HEALTHCHECK_PATH },
        };
      }
      (out[c.name] ??= {})[type] = rec;
    }
  }
  return out;
}

export function annotationValue(containers: OriginalProbesByContainer): string {
  const value: OriginalProbesAnnotation = { v: 1, containers };
  return JSON.stringify(value);
}

function rewrittenProbe(original: V1Probe, rec: OriginalProbe): V1Probe {
  if (original.exec) return original; // exec probes are never rewritten
  const { httpGet, tcpSocket: _t, grpc: _g, ...rest } = original;
  if (rec.kind === 'http' || rec.kind === 'https') {
    return {
      ...rest,
      httpGet: {
        ...httpGet!,
        port: rec.rewritten.port,
        ...(rec.kind === 'http' ? { path: rec.rewritten.path } : {}),
        ...(rec.kind === 'https' && rec.tls === 'originate'
          ? { path: rec.rewritten.path, scheme: 'HTTP' }
          : {}),
      },
    };
  }
  const httpHeaders =
    rec.kind === 'tcp'
      ? [{ name: ORIGINAL_TCP_PORT_HEADER, value: String(rec.port) }]
      : [
          { name: ORIGINAL_GRPC_PORT_HEADER, value: String(rec.port) },
          ...(rec.grpcService ? [{ name: ORIGINAL_GRPC_SERVICE_HEADER, value: rec.grpcService }] : []),
        ];
  return {
    ...rest,
    httpGet: { port: HEALTHCHECK_PORT, path: HEALTHCHECK_PATH, scheme: 'HTTP', httpHeaders },
  };
}

export interface InjectedPodOptions extends PodOptions {
  /** Proxy UUID label value; default fixtureUuid(namespace, name). */
  uuid?: string;
  /**
   * Use this record instead of the one computed from `containers`, for the annotation and for the
   * rewrite of the containers' probes (containers must still define the probes it rewrites).
   */
  record?: OriginalProbesByContainer;
  /** Replace the annotation value (raw string), e.g. to test malformed ones; null removes it. */
  rawAnnotation?: string | null;
  /**
   * The injection stamp annotation's raw value; default: the current formats, as today's injector
   * writes it; null: none (a pod injected by the seed's format 1).
   */
  stamp?: string | null;
}

/** The stamp today's injector writes (injector version `test`). */
export const CURRENT_STAMP = formatInjectionStamp(injectionStamp('test'));

/** The pod as fsm-injector leaves it. */
export function injectedPod(opts: InjectedPodOptions): V1Pod {
  const pod = appPod(opts);
  const namespace = pod.metadata!.namespace!;
  const record = opts.record ?? originalProbesFor(opts.containers);
  pod.metadata!.labels = {
    ...pod.metadata!.labels,
    [PROXY_UUID_LABEL]: opts.uuid ?? fixtureUuid(namespace, opts.name),
  };
  const annotations = { ...pod.metadata!.annotations };
  if (opts.rawAnnotation === undefined) annotations[ORIGINAL_PROBES_ANNOTATION] = annotationValue(record);
  else if (opts.rawAnnotation !== null) annotations[ORIGINAL_PROBES_ANNOTATION] = opts.rawAnnotation;
  if (opts.stamp === undefined) annotations[INJECTION_STAMP_ANNOTATION] = CURRENT_STAMP;
  else if (opts.stamp !== null) annotations[INJECTION_STAMP_ANNOTATION] = opts.stamp;
  pod.metadata!.annotations = annotations;
  const containers = pod.spec!.containers.map((c) => {
    const rec = record[c.name];
    if (!rec) return c;
    const copy: V1Container = { ...c };
    for (const type of PROBE_TYPES) {
      const r = rec[type];
      const field = PROBE_TYPE_INFO[type].field;
      if (r && copy[field]) copy[field] = rewrittenProbe(copy[field], r);
    }
    return copy;
  });
  const proxyTypes = PROBE_TYPES.filter((t: ProbeType) =>
    Object.values(record).some((r) => r[t]?.kind === 'http' || r[t]?.kind === 'https'),
  );
  containers.push({
    name: SIDECAR_CONTAINER_NAME,
    image: 'envoyproxy/envoy:v1.32.3',
    ports: [
      { name: 'admin', containerPort: PROXY_ADMIN_PORT },
      ...proxyTypes.map((t) => ({
        name: PROBE_TYPE_INFO[t].portName,
        containerPort: PROBE_TYPE_INFO[t].port,
      })),
    ],
  });
  const hcPorts = Object.values(record).flatMap((r) =>
    PROBE_TYPES.map((t) => r[t]).filter((p) => p?.kind === 'tcp' || p?.kind === 'grpc'),
  );
  if (hcPorts.length > 0) {
    containers.push({
      name: HEALTHCHECK_CONTAINER_NAME,
      image: 'flomesh/fsm-healthcheck:v0.1.0',
      ports: [{ containerPort: HEALTHCHECK_PORT }],
    });
  }
  pod.spec!.containers = containers;
  pod.spec!.initContainers = [{ name: INIT_CONTAINER_NAME, image: 'flomesh/fsm-init:v0.1.0' }];
  return pod;
}

/** Many injected pods for benchmarks: `count` pods of one realistic shape, names `<prefix>-<i>`. */
export function* manyInjectedPods(count: number, prefix = 'pod', namespace = 'bench'): Generator<V1Pod> {
  for (let i = 0; i < count; i++) {
    yield injectedPod({
      name: `${prefix}-${i}`,
      namespace,
      serviceAccount: 'bench',
      containers: [
        { name: 'app', ports: [8080], liveness: http(8080, '/live'), readiness: http(8080, '/ready') },
        { name: 'metrics', ports: [9100], readiness: tcp(9100) },
      ],
    });
  }
}
