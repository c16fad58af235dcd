/**
 * fsm-controller end to end, in-process: the real @kubernetes/client-node writes pods to our API
 * server; the controller's informers, catalog and ADS push each proxy its config; a raw ADS client
 * plays the sidecar. Every injected informer fault must converge with no lost update.
 */
import { CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { LISTENER_TYPE_URL, decodeMessage } from '../../../pkg/envoy/index.js';
import {
  MONITORED_BY_LABEL,
  ORIGINAL_PROBES_ANNOTATION,
  PROXY_UUID_LABEL,
} from '../../../pkg/constants/index.js';
import { startController, type RunningController } from '../../../pkg/controller/index.js';
import { silentLogger } from '../../../pkg/logger/index.js';
import type { RawAdsClient } from '../../support/ads-client.js';
import { ackOf, type RawStream, type SotwResponse } from '../../support/ads-client.js';
import { startTestApiServer, type TestApiServer } from '../../support/apiserver.js';
import { httpRequest } from '../../support/net.js';
import { http, injectedPod, tcp } from '../../support/pods.js';
import { eventually } from '../../support/eventually.js';
import { bootstrapAdsClient, meshAuthorityOf } from '../../support/mesh-identity.js';
import type { MeshAuthority } from '../../../pkg/identity/index.js';

const NS = 'bookstore';

function bookstore(name: string, livenessPath = '/healthz'): V1Pod {
  const pod = injectedPod({
    name,
    namespace: NS,
    containers: [{ name: 'app', ports: [14001], liveness: http(14001, livenessPath), readiness: tcp(14001) }],
  });
  // As a client would send it: no uid, no server-owned fields.
  delete pod.metadata!.uid;
  return pod;
}

/** A sidecar's LDS subscription: next() returns the next pushed listener set, ACKing it. */
class Sidecar {
  private stream: RawStream<SotwResponse>;
  constructor(
    readonly client: RawAdsClient,
    readonly uuid: string,
  ) {
    this.stream = client.sotw();
    this.stream.send({ node: { id: uuid }, type_url: LISTENER_TYPE_URL });
  }
  async next(): Promise<SotwResponse> {
    const r = await this.stream.next();
    this.stream.send({ ...ackOf(r), node: { id: this.uuid } });
    return r;
  }
  close(): void {
    this.stream.cancel();
    this.client.close();
  }
}

function route(
  resp: SotwResponse,
  listener: string,
): { match: { path: string }; prefix?: string } | undefined {
  // Decoded as a reader of the wire sees it: nested Any expanded ('@type' + fields).
  const l = resp.resources
    .map((r) => decodeMessage<any>(LISTENER_TYPE_URL, r.value, { enums: String, longs: Number, json: true }))
    .find((d) => d.name === listener);
  const hcm = l?.filter_chains?.[0]?.filters?.[0]?.typed_config;
  const r = hcm?.route_config?.virtual_hosts?.[0]?.routes?.[0];
  return r
    ? { match: r.match, prefix: r.route?.prefix_rewrite ?? r.route?.regex_rewrite?.substitution }
    : undefined;
}

describe('fsm-controller (in-process) against the sandbox API server', () => {
  let api: TestApiServer;
  let core: CoreV1Api;
  let ctl: RunningController;
  let authority: MeshAuthority;
  let base: string;
  const sidecars: Sidecar[] = [];

  beforeAll(async () => {
    api = await startTestApiServer();
    core = api.kc.makeApiClient(CoreV1Api);
    await core.createNamespace({ body: { metadata: { name: NS, labels: { [MONITORED_BY_LABEL]: 'fsm' } } } });
    await core.createNamespace({ body: { metadata: { name: 'outside' } } });
    // The control plane's own namespace, as in a cluster: the mesh CA Secret lives there.
    await core.createNamespace({ body: { metadata: { name: 'fsm-system' } } });
    ctl = await startController({
      kubeConfig: api.kc,
      meshName: 'fsm',
      fsmNamespace: 'fsm-system',
      adsPort: 0,
      healthPort: 0,
      bindAddress: '127.0.0.1',
      outOfSyncThresholdMs: 400,
      debounceMs: 5,
      workers: 2,
      adsDrainGraceMs: 100,
      version: 'test',
      logger: silentLogger(),
    });
    authority = await meshAuthorityOf(api.kc);
    base = `http://127.0.0.1:${ctl.healthPort}`;
    await eventually('ready', async () =>
      (await httpRequest(base + '/health/ready')).status === 200 ? true : undefined,
    );
  });

  afterAll(async () => {
    for (const s of sidecars) s.close();
    await ctl?.stop();
    await api?.stop();
  });

  /**
   * The pod's sidecar: it starts once its pod exists (the controller has seen it) and presents the
   * pod's bootstrap credential over mTLS, as the injected Envoy does.
   */
  async function sidecar(pod: V1Pod): Promise<Sidecar> {
    const uuid = pod.metadata!.labels![PROXY_UUID_LABEL]!;
    const ns = pod.metadata!.namespace!;
    await eventually('the controller sees the pod', () => ctl.proxyPods.pod(ns, uuid));
    const client = await bootstrapAdsClient(`127.0.0.1:${ctl.adsPort}`, authority, {
      proxyUuid: uuid,
      namespace: ns,
      serviceAccount: pod.spec!.serviceAccountName || 'default',
    });
    const s = new Sidecar(client, uuid);
    sidecars.push(s);
    return s;
  }

  it('pushes a new pod its probe listener and inbound listeners; the debug endpoint shows it', async () => {
    const pod = bookstore('bookstore-v1');
    await core.createNamespacedPod({ namespace: NS, body: pod });
    const s = await sidecar(pod);
    const first = await s.next();
    expect(first.names).toContain('liveness_listener');
    expect(first.names).not.toContain('readiness_listener'); // TCP readiness goes to fsm-healthcheck
    expect(route(first, 'liveness_listener')).toEqual({
      match: { path: '/fsm-liveness-probe' },
      prefix: '/healthz',
    });

    const debug = JSON.parse((await httpRequest(`${base}/debug/proxies/${NS}/bookstore-v1`)).body);
    expect(debug.proxy.uuid).toBe(s.uuid);
    expect(debug.resources.listeners.map((l: { name: string }) => l.name)).toEqual(
      first.names.slice().sort(),
    );
    expect(debug.probes.LivenessProbes).toHaveLength(1);
    expect(debug.versions[LISTENER_TYPE_URL]).toBe(first.version_info);
    const list = JSON.parse((await httpRequest(`${base}/debug/proxies`)).body);
    expect(list).toContainEqual(expect.objectContaining({ namespace: NS, pod: 'bookstore-v1', owner: true }));
  });

  it('pushes an update of the pod (new original path) to that proxy', async () => {
    const pod = bookstore('bookstore-v2');
    await core.createNamespacedPod({ namespace: NS, body: pod });
    const s = await sidecar(pod);
    await s.next();
    const updated = bookstore('bookstore-v2', '/live');
    const current = await core.readNamespacedPod({ name: 'bookstore-v2', namespace: NS });
    current.metadata!.annotations![ORIGINAL_PROBES_ANNOTATION] =
      updated.metadata!.annotations![ORIGINAL_PROBES_ANNOTATION]!;
    await core.replaceNamespacedPod({ name: 'bookstore-v2', namespace: NS, body: current });
    const pushed = await s.next();
    expect(route(pushed, 'liveness_listener')?.prefix).toBe('/live');
  });

  it('removes the snapshot when the pod is deleted (the proxy keeps its last config); ignores pods outside the mesh', async () => {
    const pod = bookstore('bookstore-gone');
    await core.createNamespacedPod({ namespace: NS, body: pod });
    const s = await sidecar(pod);
    expect((await s.next()).names.length).toBeGreaterThan(0);
    await core.deleteNamespacedPod({ name: 'bookstore-gone', namespace: NS });
    await eventually('snapshot removed', async () => (ctl.ads.cache.getSnapshot(s.uuid) ? undefined : true));
    expect((await httpRequest(`${base}/debug/proxies/${NS}/bookstore-gone`)).status).toBe(404);

    const outside = bookstore('stray');
    outside.metadata!.namespace = 'outside';
    await core.createNamespacedPod({ namespace: 'outside', body: outside });
    await ctl.propagator.drained();
    await new Promise((r) => setTimeout(r, 200));
    await ctl.propagator.drained();
    expect(ctl.ads.cache.getSnapshot(outside.metadata!.labels![PROXY_UUID_LABEL]!)).toBeUndefined();
    expect((await httpRequest(`${base}/debug/proxies/outside/stray`)).status).toBe(404);
  });

  it('follows the namespace: unlabelled → snapshots removed; labelled again → set again', async () => {
    const pod = bookstore('bookstore-ns');
    await core.createNamespacedPod({ namespace: NS, body: pod });
    const s = await sidecar(pod);
    const first = await s.next();
    const label = (value: string | null) =>
      core.patchNamespace(
        { name: NS, body: { metadata: { labels: { [MONITORED_BY_LABEL]: value } } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
    await label(null);
    await eventually('snapshot removed', async () => (ctl.ads.cache.getSnapshot(s.uuid) ? undefined : true));
    await label('fsm');
    const back = await eventually('snapshot back', async () => ctl.ads.cache.getSnapshot(s.uuid));
    // Same content as before: the version is the content hash, so the proxy is not pushed again.
    expect(back.types.get(LISTENER_TYPE_URL)?.version).toBe(first.version_info);
  });

  // Each fault: break the watch, change the cluster while it is broken, expect the change to arrive.
  it.each<[string, (a: TestApiServer) => void]>([
    ['dropped watch socket', (a) => a.server.dropWatches('pods')],
    ['410 Expired in the watch stream', (a) => a.server.expireWatches('pods')],
    [
      'HTTP 410 on resume (silent compaction)',
      (a) => {
        a.server.compact();
        a.server.dropWatches('pods');
      },
    ],
    [
      'list 500 on relist',
      (a) => {
        a.server.failNext({ verb: 'list', resource: 'pods', code: 500, count: 2 });
        a.server.expireWatches('pods');
      },
    ],
  ])('converges after %s with no lost update', async (_name, fault) => {
    const name = `fault-${Math.random().toString(36).slice(2, 8)}`;
    const pod = bookstore(name);
    fault(api);
    await core.createNamespacedPod({ namespace: NS, body: pod });
    const s = await sidecar(pod);
    expect((await s.next()).names).toContain('liveness_listener');
  });

  it('readiness goes 503 naming the informer while its watch is refused (403), and back to 200', async () => {
    api.server.failNext({ verb: 'watch', resource: 'pods', code: 403, count: 1000 });
    api.server.failNext({ verb: 'list', resource: 'pods', code: 500, count: 1000 });
    api.server.dropWatches('pods');
    const notReady = await eventually('503', async () => {
      const r = await httpRequest(base + '/health/ready');
      return r.status === 503 ? r.body : undefined;
    });
    expect(notReady).toMatch(/^Service is not ready: informer pods: out of sync for \d+s$/);
    expect((await httpRequest(base + '/health/alive')).status).toBe(200);
    // A change made while the controller cannot see it still arrives once the watch is back.
    const pod = bookstore('during-outage');
    await core.createNamespacedPod({ namespace: NS, body: pod });
    api.server.faults.clear();
    await eventually('ready again', async () =>
      (await httpRequest(base + '/health/ready')).status === 200 ? true : undefined,
    );
    expect((await (await sidecar(pod)).next()).names).toContain('liveness_listener');
  });
});
