/** Fixtures shared by the injector's tests and benchmark: namespaces, pods, AdmissionReviews. */
import type { V1Container, V1Namespace, V1Pod } from '@kubernetes/client-node';
import type { NamespaceSource } from '../../pkg/injector/index.js';
import {
  ADMISSION_REVIEW_API_VERSION,
  ADMISSION_REVIEW_KIND,
  IGNORE_LABEL,
  MONITORED_BY_LABEL,
  SIDECAR_INJECTION_ANNOTATION,
} from '../../pkg/constants/index.js';

/** An in-memory NamespaceSource (a real implementation of the interface, fed by the test). */
export class MemoryNamespaces implements NamespaceSource {
  private readonly items = new Map<string, V1Namespace>();
  private synced: boolean;
  constructor(namespaces: V1Namespace[] = [], synced = true) {
    for (const ns of namespaces) this.set(ns);
    this.synced = synced;
  }
  set(ns: V1Namespace): void {
    this.items.set(ns.metadata!.name!, ns);
  }
  delete(name: string): void {
    this.items.delete(name);
  }
  markSynced(): void {
    this.synced = true;
  }
  get(name: string): V1Namespace | undefined {
    return this.items.get(name);
  }
  hasSynced(): boolean {
    return this.synced;
  }
}

export interface NamespaceFixture {
  mesh?: string;
  ignore?: boolean;
  injection?: string;
}

export function namespace(name: string, opts: NamespaceFixture = {}): V1Namespace {
  const labels: Record<string, string> = {};
  if (opts.mesh !== undefined) labels[MONITORED_BY_LABEL] = opts.mesh;
  if (opts.ignore) labels[IGNORE_LABEL] = 'true';
  const annotations: Record<string, string> = {};
  if (opts.injection !== undefined) annotations[SIDECAR_INJECTION_ANNOTATION] = opts.injection;
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels, annotations } };
}

export function pod(
  name: string,
  containers: V1Container[],
  extra: { namespace?: string; annotations?: Record<string, string>; hostNetwork?: boolean } = {},
): V1Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: extra.namespace ?? 'app',
      labels: { app: name },
      ...(extra.annotations ? { annotations: extra.annotations } : {}),
    },
    spec: { containers, ...(extra.hostNetwork !== undefined ? { hostNetwork: extra.hostNetwork } : {}) },
  };
}

/** A realistic pod: 3 containers, 6 probes (HTTP, HTTPS, TCP, gRPC, named ports, headers). */
export function realisticPod(name = 'shop-7d9f'): V1Pod {
  return pod(name, [
    {
      name: 'web',
      image: 'example/web:1.4.2',
      ports: [
        { name: 'http', containerPort: 8080 },
        { name: 'admin', containerPort: 8081 },
      ],
      env: [{ name: 'MODE', value: 'production' }],
      resources: { requests: { cpu: '100m', memory: '128Mi' } },
      livenessProbe: {
        httpGet: { path: '/healthz', port: 'http', httpHeaders: [{ name: 'X-Probe', value: 'live' }] },
        periodSeconds: 10,
        timeoutSeconds: 2,
        failureThreshold: 3,
      },
      readinessProbe: { httpGet: { path: '/ready', port: 8081, scheme: 'HTTP' }, periodSeconds: 5 },
      startupProbe: { tcpSocket: { port: 'http' }, failureThreshold: 30, periodSeconds: 2 },
    },
    {
      name: 'api',
      image: 'example/api:2.0.0',
      ports: [{ name: 'grpc', containerPort: 9000 }],
      livenessProbe: { grpc: { port: 9000, service: 'api.v1.Health' }, periodSeconds: 10 },
      readinessProbe: { httpGet: { path: '/ready', port: 9443, scheme: 'HTTPS' } },
    },
    {
      name: 'cache',
      image: 'example/cache:7',
      ports: [{ containerPort: 6379 }],
      livenessProbe: { tcpSocket: { port: 6379 }, initialDelaySeconds: 5 },
    },
  ]);
}

export interface ReviewOptions {
  uid?: string;
  operation?: string;
  namespace?: string;
  kind?: { group: string; version: string; kind: string };
  dryRun?: boolean;
}

/** An AdmissionReview as kube-apiserver sends it for a pod. */
export function admissionReview(object: unknown, opts: ReviewOptions = {}): Record<string, unknown> {
  const kind = opts.kind ?? { group: '', version: 'v1', kind: 'Pod' };
  return {
    apiVersion: ADMISSION_REVIEW_API_VERSION,
    kind: ADMISSION_REVIEW_KIND,
    request: {
      uid: opts.uid ?? '705ab4f5-6393-11e8-b7cc-42010a800002',
      kind,
      resource: { group: kind.group, version: kind.version, resource: kind.kind.toLowerCase() + 's' },
      requestKind: kind,
      requestResource: { group: kind.group, version: kind.version, resource: kind.kind.toLowerCase() + 's' },
      namespace: opts.namespace ?? 'app',
      operation: opts.operation ?? 'CREATE',
      userInfo: { username: 'system:serviceaccount:kube-system:replicaset-controller', groups: [] },
      object,
      oldObject: null,
      dryRun: opts.dryRun ?? false,
      options: { apiVersion: 'meta.k8s.io/v1', kind: 'CreateOptions' },
    },
  };
}

/** A deterministic proxy UUID generator for tests. */
export function sequentialUuids(prefix = '00000000-0000-4000-8000-'): () => string {
  let n = 0;
  return () => `${prefix}${String(++n).padStart(12, '0')}`;
}
