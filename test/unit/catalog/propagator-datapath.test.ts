/**
 * ProxyPropagator and the data path: the namespace's inbound mTLS annotation reaches its pods'
 * inbound listeners (a change of it re-computes them), a bad value is reported once through
 * onProblems, and changes of the mesh's shared resources do not make a pod look unapplied.
 */
import type { V1Namespace, V1Pod } from '@kubernetes/client-node';
import { SnapshotCache } from '../../../pkg/ads/index.js';
import { ProxyPropagator } from '../../../pkg/catalog/index.js';
import { INBOUND_MTLS_ANNOTATION, MONITORED_BY_LABEL } from '../../../pkg/constants/index.js';
import { CLUSTER_LOAD_ASSIGNMENT_TYPE_URL, LISTENER_TYPE_URL } from '../../../pkg/envoy/index.js';
import { silentLogger } from '../../../pkg/logger/index.js';
import { MemoryInformer } from '../../support/memory-informer.js';
import { fixtureUuid, http, injectedPod } from '../../support/pods.js';

const NS = 'shop';
const ns = (mode?: string): V1Namespace => ({
  metadata: {
    name: NS,
    labels: { [MONITORED_BY_LABEL]: 'fsm' },
    ...(mode ? { annotations: { [INBOUND_MTLS_ANNOTATION]: mode } } : {}),
  },
});

function setup() {
  const pods = new MemoryInformer<V1Pod>();
  const namespaces = new MemoryInformer<V1Namespace>();
  namespaces.set(ns());
  const cache = new SnapshotCache();
  const problems: string[][] = [];
  const outcomes: string[] = [];
  const p = new ProxyPropagator({
    pods,
    namespaces,
    cache,
    meshName: 'fsm',
    logger: silentLogger(),
    resyncMs: 0,
    trustDomain: 'td',
    onProblems: (_pod, list) => problems.push([...list]),
    onReconciled: (_k, o) => outcomes.push(o),
  });
  p.start();
  const pod = injectedPod({
    name: 'web',
    namespace: NS,
    containers: [{ name: 'app', ports: [8080], liveness: http(8080, '/l') }],
  });
  pod.metadata!.resourceVersion = '1';
  pods.set(pod);
  return { pods, namespaces, cache, p, problems, outcomes, uuid: fixtureUuid(NS, 'web') };
}

const inbound = (cache: SnapshotCache, uuid: string): string =>
  cache
    .getSnapshot(uuid)!
    .types.get(LISTENER_TYPE_URL)!
    .resources.get('inbound_8080')!
    .bytes.toString('latin1');

it('the namespace’s mode reaches its pods; changing it re-computes them', async () => {
  const { namespaces, cache, p, uuid } = setup();
  await p.drained();
  expect(inbound(cache, uuid)).not.toContain('inbound_8080_plaintext');
  namespaces.set(ns('permissive'));
  await p.drained();
  expect(inbound(cache, uuid)).toContain('inbound_8080_plaintext');
  expect(p.proxy(NS, 'web')!.inbound).toEqual({ mode: 'permissive', source: 'namespace' });
  await p.stop();
});

it('a bad value is served strict and reported once (not on every reconcile)', async () => {
  const { namespaces, pods, cache, p, problems, uuid } = setup();
  namespaces.set(ns('off'));
  await p.drained();
  expect(inbound(cache, uuid)).not.toContain('inbound_8080_plaintext');
  expect(problems).toEqual([
    [expect.stringMatching(/namespace shop: annotation flomesh.io\/inbound-mtls="off"/)],
  ]);
  const again = structuredClone(pods.get('web', NS)!);
  again.metadata!.resourceVersion = '2';
  pods.set(again);
  await p.drained();
  expect(problems).toHaveLength(1);
  await p.stop();
});

it('a change of the mesh’s shared resources leaves a pod applied (no re-computation at resync)', async () => {
  const { cache, p, outcomes } = setup();
  await p.drained();
  cache.updateShared({
    [CLUSTER_LOAD_ASSIGNMENT_TYPE_URL]: { set: [{ name: 'x|1', resource: { cluster_name: 'x|1' } }] },
  });
  p.reconcile(`${NS}/web`);
  expect(outcomes.at(-1)).toBe('unchanged');
  await p.stop();
});
