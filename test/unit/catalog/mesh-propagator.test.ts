/**
 * MeshServicePropagator: Services, EndpointSlices, pods and namespaces (in-memory informers, as a
 * synced informer's cache) → the resources every proxy shares in the real snapshot cache. Targeted:
 * an endpoint change changes one load assignment, the cluster only when the set of identities does.
 */
import type { V1EndpointSlice, V1Namespace, V1Pod, V1Service } from '@kubernetes/client-node';
import { SnapshotCache } from '../../../pkg/ads/index.js';
import { MeshServicePropagator } from '../../../pkg/catalog/index.js';
import { MONITORED_BY_LABEL } from '../../../pkg/constants/index.js';
import {
  CLUSTER_LOAD_ASSIGNMENT_TYPE_URL,
  CLUSTER_TYPE_URL,
  LISTENER_TYPE_URL,
  decodeMessage,
} from '../../../pkg/envoy/index.js';
import { silentLogger } from '../../../pkg/logger/index.js';
import { MemoryInformer } from '../../support/memory-informer.js';
import { appPod, http, injectedPod } from '../../support/pods.js';
import { probeSnapshotInput } from '../../support/ads-fixtures.js';

const NS = 'shop';

function setup() {
  const services = new MemoryInformer<V1Service>();
  const endpointSlices = new MemoryInformer<V1EndpointSlice>();
  const pods = new MemoryInformer<V1Pod>();
  const namespaces = new MemoryInformer<V1Namespace>();
  namespaces.set({ metadata: { name: NS, labels: { [MONITORED_BY_LABEL]: 'fsm' } } });
  const cache = new SnapshotCache();
  cache.setSnapshot('proxy-1', probeSnapshotInput());
  const outcomes: string[] = [];
  const p = new MeshServicePropagator({
    services,
    endpointSlices,
    pods,
    namespaces,
    cache,
    meshName: 'fsm',
    trustDomain: 'td',
    logger: silentLogger(),
    resyncMs: 0,
    onReconciled: (key, outcome) => outcomes.push(`${key} ${outcome}`),
  });
  p.start();
  return { services, endpointSlices, pods, namespaces, cache, p, outcomes };
}

const service = (name = 'books', clusterIP = '10.96.0.9'): V1Service => ({
  metadata: { name, namespace: NS },
  spec: { clusterIP, ports: [{ name: 'http', port: 80, targetPort: 8080 as never }] },
});

const meshedPod = (name: string, sa = 'books'): V1Pod => {
  const p = injectedPod({
    name,
    namespace: NS,
    containers: [{ name: 'app', ports: [8080], liveness: http(8080, '/l') }],
  });
  p.spec!.serviceAccountName = sa;
  return p;
};

const sliceOf = (
  svc: string,
  eps: { ip: string; pod: string; ready?: boolean }[],
  name = `${svc}-abc`,
): V1EndpointSlice => ({
  metadata: { name, namespace: NS, labels: { 'kubernetes.io/service-name': svc } },
  addressType: 'IPv4',
  ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
  endpoints: eps.map((e) => ({
    addresses: [e.ip],
    conditions: { ready: e.ready ?? true },
    targetRef: { kind: 'Pod', name: e.pod, namespace: NS },
  })),
});

const shared = (cache: SnapshotCache, typeUrl: string) => cache.sharedResources(typeUrl);
const endpointsOf = (cache: SnapshotCache, cluster: string): string[] => {
  const r = shared(cache, CLUSTER_LOAD_ASSIGNMENT_TYPE_URL).get(cluster);
  if (!r) return [];
  const a = decodeMessage<any>(CLUSTER_LOAD_ASSIGNMENT_TYPE_URL, r.bytes);
  return (a.endpoints ?? []).flatMap((l: any) =>
    l.lb_endpoints.map(
      (e: any) =>
        `${e.endpoint.address.socket_address.address}:${e.endpoint.address.socket_address.port_value}`,
    ),
  );
};
const sansOf = (cache: SnapshotCache, cluster: string): string[] => {
  const c = decodeMessage<any>(CLUSTER_TYPE_URL, shared(cache, CLUSTER_TYPE_URL).get(cluster)!.bytes);
  const ctx = decodeMessage<any>(
    c.transport_socket.typed_config.type_url,
    c.transport_socket.typed_config.value,
  );
  return ctx.common_tls_context.combined_validation_context.default_validation_context.match_typed_subject_alt_names.map(
    (m: any) => m.matcher.exact ?? `${m.matcher.prefix}*`,
  );
};

describe('MeshServicePropagator', () => {
  it('every proxy has the outbound capture listener and passthrough from the start', () => {
    const { cache, p } = setup();
    expect([...shared(cache, LISTENER_TYPE_URL).keys()]).toEqual(['outbound_listener']);
    expect([...shared(cache, CLUSTER_TYPE_URL).keys()]).toEqual(['outbound_passthrough_cluster']);
    expect([...cache.getSnapshot('proxy-1')!.types.get(LISTENER_TYPE_URL)!.resources.keys()]).toContain(
      'outbound_listener',
    );
    return p.stop();
  });

  it('a Service with meshed endpoints: listener, EDS cluster with their identity, its endpoints', async () => {
    const { services, endpointSlices, pods, cache, p } = setup();
    pods.set(meshedPod('books-1'));
    services.set(service());
    endpointSlices.set(sliceOf('books', [{ ip: '10.244.0.1', pod: 'books-1' }]));
    await p.drained();
    expect(shared(cache, LISTENER_TYPE_URL).has('outbound_shop/books|80')).toBe(true);
    expect(sansOf(cache, 'shop/books|80')).toEqual(['spiffe://td/ns/shop/sa/books']);
    expect(endpointsOf(cache, 'shop/books|80')).toEqual(['10.244.0.1:8080']);
    expect(p.services()).toMatchObject([
      { kind: 'mesh', namespace: NS, name: 'books', clusterIP: '10.96.0.9' },
    ]);
    await p.stop();
  });

  it('an endpoint change changes the load assignment only; a new service account changes the cluster too', async () => {
    const { services, endpointSlices, pods, cache, p } = setup();
    pods.set(meshedPod('books-1'));
    pods.set(meshedPod('books-2'));
    pods.set(meshedPod('books-3', 'books-v2'));
    services.set(service());
    endpointSlices.set(sliceOf('books', [{ ip: '10.244.0.1', pod: 'books-1' }]));
    await p.drained();
    const cluster = shared(cache, CLUSTER_TYPE_URL).get('shop/books|80');
    const listener = shared(cache, LISTENER_TYPE_URL).get('outbound_shop/books|80');
    endpointSlices.set(
      sliceOf('books', [
        { ip: '10.244.0.1', pod: 'books-1' },
        { ip: '10.244.0.2', pod: 'books-2' },
      ]),
    );
    await p.drained();
    expect(endpointsOf(cache, 'shop/books|80')).toEqual(['10.244.0.1:8080', '10.244.0.2:8080']);
    expect(shared(cache, CLUSTER_TYPE_URL).get('shop/books|80')).toBe(cluster);
    expect(shared(cache, LISTENER_TYPE_URL).get('outbound_shop/books|80')).toBe(listener);
    // Not ready: out of the assignment (and the cluster stays: its identity is still expected).
    endpointSlices.set(
      sliceOf('books', [
        { ip: '10.244.0.1', pod: 'books-1' },
        { ip: '10.244.0.2', pod: 'books-2', ready: false },
      ]),
    );
    await p.drained();
    expect(endpointsOf(cache, 'shop/books|80')).toEqual(['10.244.0.1:8080']);
    expect(shared(cache, CLUSTER_TYPE_URL).get('shop/books|80')).toBe(cluster);
    endpointSlices.set(
      sliceOf('books', [
        { ip: '10.244.0.1', pod: 'books-1' },
        { ip: '10.244.0.3', pod: 'books-3' },
      ]),
    );
    await p.drained();
    expect(sansOf(cache, 'shop/books|80')).toEqual([
      'spiffe://td/ns/shop/sa/books',
      'spiffe://td/ns/shop/sa/books-v2',
    ]);
    expect(shared(cache, LISTENER_TYPE_URL).get('outbound_shop/books|80')).toBe(listener);
    await p.stop();
  });

  it('a pod that gets a sidecar turns a passthrough Service into a meshed one (pod index)', async () => {
    const { services, endpointSlices, pods, cache, p } = setup();
    pods.set(appPod({ name: 'books-1', namespace: NS, containers: [{ name: 'app', ports: [8080] }] }));
    services.set(service());
    endpointSlices.set(sliceOf('books', [{ ip: '10.244.0.1', pod: 'books-1' }]));
    await p.drained();
    expect(shared(cache, CLUSTER_TYPE_URL).has('shop/books|80')).toBe(false);
    expect(p.services()).toMatchObject([
      { kind: 'passthrough', reason: expect.stringMatching(/no endpoint is a meshed pod/) },
    ]);
    pods.set(meshedPod('books-1'));
    await p.drained();
    expect(endpointsOf(cache, 'shop/books|80')).toEqual(['10.244.0.1:8080']);
    await p.stop();
  });

  it('a pod update that changes nothing the outbound side reads reconciles nothing', async () => {
    const { services, endpointSlices, pods, p, outcomes } = setup();
    pods.set(meshedPod('books-1'));
    services.set(service());
    endpointSlices.set(sliceOf('books', [{ ip: '10.244.0.1', pod: 'books-1' }]));
    await p.drained();
    const n = outcomes.length;
    const again = meshedPod('books-1');
    again.metadata!.resourceVersion = '2';
    pods.set(again);
    await p.drained();
    expect(outcomes.length).toBe(n);
    await p.stop();
  });

  it('a headless Service passes through; a deleted Service or a namespace leaving the mesh is removed', async () => {
    const { services, endpointSlices, pods, namespaces, cache, p } = setup();
    pods.set(meshedPod('books-1'));
    services.set(service('headless', 'None'));
    services.set(service());
    endpointSlices.set(sliceOf('books', [{ ip: '10.244.0.1', pod: 'books-1' }]));
    await p.drained();
    expect([...shared(cache, CLUSTER_TYPE_URL).keys()].sort()).toEqual([
      'outbound_passthrough_cluster',
      'shop/books|80',
    ]);
    services.remove('books', NS);
    await p.drained();
    expect(shared(cache, CLUSTER_TYPE_URL).has('shop/books|80')).toBe(false);
    expect(shared(cache, CLUSTER_LOAD_ASSIGNMENT_TYPE_URL).has('shop/books|80')).toBe(false);
    expect(shared(cache, LISTENER_TYPE_URL).has('outbound_shop/books|80')).toBe(false);
    services.set(service());
    await p.drained();
    expect(shared(cache, CLUSTER_TYPE_URL).has('shop/books|80')).toBe(true);
    namespaces.set({ metadata: { name: NS } }); // unlabelled: out of the mesh
    await p.drained();
    expect([...shared(cache, CLUSTER_TYPE_URL).keys()]).toEqual(['outbound_passthrough_cluster']);
    await p.stop();
  });
});
