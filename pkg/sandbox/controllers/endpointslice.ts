/**
 * The EndpointSlice controller (discovery.k8s.io/v1): for each Service with a selector, the pods it
 * selects that have an address, grouped by the ports their targetPorts resolve to (a named
 * targetPort resolves per pod), one slice per group, labelled kubernetes.io/service-name and owned
 * by the Service. `ready` is the pod's Ready condition; a pod being deleted is `terminating`. The
 * API server's service proxy and webhook calls, and the node agent's ADS address, resolve Services
 * through these slices.
 */
import {
  DiscoveryV1Api,
  type KubeConfig,
  type V1Endpoint,
  type DiscoveryV1EndpointPort,
  type V1EndpointSlice,
  type V1Pod,
  type V1Service,
} from '@kubernetes/client-node';
import { ENDPOINTSLICE_SERVICE_LABEL } from '../../constants/index.js';
import { WorkQueue, cacheKey, type ResourceInformer } from '../../k8s/index.js';
import type { Logger } from '../../logger/index.js';
import { controllerRef, controlledBy, podReady } from './owners.js';

export const SERVICE_NAME_LABEL = ENDPOINTSLICE_SERVICE_LABEL;
export const MANAGED_BY_LABEL = 'endpointslice.kubernetes.io/managed-by';
export const ENDPOINTSLICE_CONTROLLER = 'endpointslice-controller.k8s.io';

export interface EndpointSliceControllerOptions {
  kc: KubeConfig;
  logger: Logger;
  services: ResourceInformer<V1Service>;
  pods: ResourceInformer<V1Pod>;
  endpointslices: ResourceInformer<V1EndpointSlice>;
}

/** The Service's ports as they resolve for one pod; undefined entries are ports the pod lacks. */
export function resolvePorts(svc: V1Service, pod: V1Pod): DiscoveryV1EndpointPort[] {
  const out: DiscoveryV1EndpointPort[] = [];
  for (const sp of svc.spec?.ports ?? []) {
    const protocol = sp.protocol ?? 'TCP';
    const target = (sp.targetPort ?? sp.port) as number | string;
    let port: number | undefined;
    if (typeof target === 'number' || /^\d+$/.test(String(target))) port = Number(target);
    else {
      for (const c of pod.spec?.containers ?? []) {
        const hit = c.ports?.find((p) => p.name === target && (p.protocol ?? 'TCP') === protocol);
        if (hit) port = hit.containerPort;
      }
    }
    if (port === undefined) continue;
    out.push({
      ...(sp.name ? { name: sp.name } : {}),
      port,
      protocol,
      ...(sp.appProtocol ? { appProtocol: sp.appProtocol } : {}),
    });
  }
  return out;
}

/** The slices a Service should have: ports → endpoints, in a stable order. */
export function desiredSlices(
  svc: V1Service,
  pods: readonly V1Pod[],
): { ports: DiscoveryV1EndpointPort[]; endpoints: V1Endpoint[] }[] {
  const groups = new Map<string, { ports: DiscoveryV1EndpointPort[]; endpoints: V1Endpoint[] }>();
  const sorted = [...pods].sort((a, b) => String(a.metadata?.name).localeCompare(String(b.metadata?.name)));
  for (const pod of sorted) {
    const ip = pod.status?.podIP;
    if (!ip) continue;
    const ports = resolvePorts(svc, pod);
    const sig = JSON.stringify(ports);
    let g = groups.get(sig);
    if (!g) {
      g = { ports, endpoints: [] };
      groups.set(sig, g);
    }
    const ready = podReady(pod) && !pod.metadata?.deletionTimestamp;
    g.endpoints.push({
      addresses: [ip],
      conditions: { ready, serving: podReady(pod), terminating: Boolean(pod.metadata?.deletionTimestamp) },
      targetRef: {
        kind: 'Pod',
        namespace: pod.metadata?.namespace,
        name: pod.metadata?.name,
        uid: pod.metadata?.uid,
      },
      ...(pod.spec?.nodeName ? { nodeName: pod.spec.nodeName } : {}),
    });
  }
  return [...groups.values()];
}

function selects(svc: V1Service, pod: V1Pod): boolean {
  const sel = svc.spec?.selector;
  if (!sel || Object.keys(sel).length === 0) return false;
  return Object.entries(sel).every(([k, v]) => pod.metadata?.labels?.[k] === v);
}

export class EndpointSliceController {
  private readonly api: DiscoveryV1Api;
  private readonly queue: WorkQueue;

  constructor(private readonly o: EndpointSliceControllerOptions) {
    this.api = o.kc.makeApiClient(DiscoveryV1Api);
    this.queue = new WorkQueue({
      reconcile: (k) => this.reconcile(k),
      concurrency: 2,
      resyncMs: 30_000,
      resyncKeys: () => o.services.list().map((s) => cacheKey(s.metadata!.name!, s.metadata!.namespace)),
      retryBackoff: { initialMs: 100, maxMs: 5000 },
      logger: o.logger,
    });
  }

  start(): void {
    const onSvc = (s: V1Service): void => this.queue.add(cacheKey(s.metadata!.name!, s.metadata!.namespace));
    this.o.services.on('add', onSvc);
    this.o.services.on('update', onSvc);
    const onPod = (p: V1Pod, old?: V1Pod): void => {
      for (const s of this.o.services.list(p.metadata?.namespace)) {
        if (selects(s, p) || (old && selects(s, old))) onSvc(s);
      }
    };
    this.o.pods.on('add', (p) => onPod(p));
    this.o.pods.on('update', (p, old) => onPod(p, old));
    this.o.pods.on('delete', (p) => onPod(p));
    this.queue.start();
    for (const s of this.o.services.list()) onSvc(s);
  }

  stop(): Promise<void> {
    return this.queue.stop();
  }

  private async reconcile(k: string): Promise<void> {
    const [namespace, name] = k.split('/') as [string, string];
    const svc = this.o.services.get(name, namespace);
    if (!svc || !svc.spec?.selector || Object.keys(svc.spec.selector).length === 0) return;
    const pods = this.o.pods.list(namespace).filter((p) => selects(svc, p));
    const want = desiredSlices(svc, pods);
    // A Service without endpoints keeps one empty slice, as kube's controller does.
    if (want.length === 0) want.push({ ports: [], endpoints: [] });
    const have = this.o.endpointslices
      .list(namespace)
      .filter(
        (s) =>
          controlledBy(s, svc.metadata?.uid) &&
          s.metadata?.labels?.[MANAGED_BY_LABEL] === ENDPOINTSLICE_CONTROLLER,
      );
    const labels = { [SERVICE_NAME_LABEL]: name, [MANAGED_BY_LABEL]: ENDPOINTSLICE_CONTROLLER };
    const unused = [...have];
    for (const w of want) {
      const sig = JSON.stringify(w.ports);
      const i = unused.findIndex((s) => JSON.stringify(s.ports ?? []) === sig);
      const cur = i >= 0 ? unused.splice(i, 1)[0]! : undefined;
      if (cur) {
        if (JSON.stringify(cur.endpoints ?? []) === JSON.stringify(w.endpoints)) continue;
        await this.api.replaceNamespacedEndpointSlice({
          name: cur.metadata!.name!,
          namespace,
          body: { ...cur, endpoints: w.endpoints, ports: w.ports },
        });
      } else {
        await this.api.createNamespacedEndpointSlice({
          namespace,
          body: {
            metadata: {
              generateName: `${name}-`,
              namespace,
              labels,
              ownerReferences: [controllerRef(svc, 'v1', 'Service')],
            },
            addressType: 'IPv4',
            endpoints: w.endpoints,
            ports: w.ports,
          },
        });
      }
    }
    for (const s of unused) {
      try {
        await this.api.deleteNamespacedEndpointSlice({ name: s.metadata!.name!, namespace });
      } catch (e) {
        if ((e as { code?: number }).code !== 404) throw e;
      }
    }
  }
}
