/**
 * The mesh's Services → the resources every proxy shares (pkg/ads SnapshotCache.updateShared).
 * Informer events of Services, EndpointSlices, pods and namespaces → a deduplicating work queue of
 * Service keys → meshService() (mesh-services.ts) → that Service's listeners, clusters and load
 * assignments (pkg/envoy/builders outbound.ts) → only the resources that changed, handed to the
 * cache. Every proxy routes to every meshed Service (no policies yet), so every proxy's stream gets
 * a change; each resource is encoded once for all of them, and a stream is sent only the resources
 * that changed (Delta: one load assignment for a one-endpoint change).
 *
 * Targeted: an EndpointSlice change reconciles its Service only — its load assignments change, and
 * its cluster only if the set of its endpoints' service accounts did; a Service change reconciles
 * its own listeners and clusters; a pod matters only while one of the Services' endpoints names it,
 * and only when what the outbound side reads of it (meshed, service account) changed. Reconciles of
 * one burst are handed to the cache as one batch (one publication to every proxy per burst).
 */
import type { V1EndpointSlice, V1Namespace, V1Pod, V1Service } from '@kubernetes/client-node';
import type { SnapshotCache } from '../ads/index.js';
import { ENDPOINTSLICE_SERVICE_LABEL } from '../constants/index.js';
import {
  buildMeshServiceResources,
  buildOutboundBase,
  meshClusterName,
  sharedResourcesByTypeUrl,
  type NamedResource,
  type SharedResources,
} from '../envoy/builders/index.js';
import { CLUSTER_LOAD_ASSIGNMENT_TYPE_URL, CLUSTER_TYPE_URL, LISTENER_TYPE_URL } from '../envoy/index.js';
import {
  cacheKey,
  isMonitoredNamespace,
  MeshMembership,
  WorkQueue,
  type ResourceInformer,
} from '../k8s/index.js';
import { errorMessage, type Logger } from '../logger/index.js';
import { proxyIdentity } from './identity.js';
import {
  meshService,
  namespaceIdentityPrefix,
  type EndpointPod,
  type MeshServiceView,
} from './mesh-services.js';

const TYPES = [LISTENER_TYPE_URL, CLUSTER_TYPE_URL, CLUSTER_LOAD_ASSIGNMENT_TYPE_URL] as const;

export interface MeshPropagatorOptions {
  services: ResourceInformer<V1Service>;
  endpointSlices: ResourceInformer<V1EndpointSlice>;
  pods: ResourceInformer<V1Pod>;
  namespaces: ResourceInformer<V1Namespace>;
  cache: SnapshotCache;
  meshName: string;
  trustDomain: string;
  logger: Logger;
  debounceMs?: number;
  resyncMs?: number;
  /** Called after each Service key was reconciled (tests, benchmarks). */
  onReconciled?: (key: string, outcome: 'set' | 'unchanged' | 'removed' | 'skipped') => void;
}

interface Applied {
  /** Resource names of this Service, per type URL. */
  names: Map<string, Set<string>>;
  view: MeshServiceView;
  viewJson: string;
  /** Keys of the pods its endpoints name. */
  pods: Set<string>;
}

/** What the outbound side read of a pod, to tell whether a pod update matters. */
function podSummary(p: EndpointPod | undefined): string {
  return p ? `${p.meshed}|${p.serviceAccount}` : '';
}

export class MeshServicePropagator {
  private readonly queue: WorkQueue;
  private readonly membership: MeshMembership;
  private readonly log: Logger;
  /** Service key → its EndpointSlices (key → object), from the EndpointSlice informer's events. */
  private readonly slices = new Map<string, Map<string, V1EndpointSlice>>();
  /** EndpointSlice key → the Service key it was indexed under. */
  private readonly sliceOwner = new Map<string, string>();
  private readonly applied = new Map<string, Applied>();
  /** Names of the outbound base (capture listener, passthrough cluster) per type URL. */
  private baseNames = new Map<string, Set<string>>();
  /** Pod key → the Services whose endpoints name it, and what was read of it. */
  private readonly podRefs = new Map<string, { services: Set<string>; summary: string }>();
  /** Changes not handed to the cache yet, per type URL: name → resource (set) or null (remove). */
  private pending = new Map<string, Map<string, NamedResource | null>>();
  private flushScheduled = false;

  constructor(private readonly opts: MeshPropagatorOptions) {
    this.log = opts.logger.child({ component: 'mesh-services' });
    this.membership = new MeshMembership(opts.meshName, (name) => opts.namespaces.get(name));
    this.queue = new WorkQueue({
      reconcile: (key) => this.reconcile(key),
      debounceMs: opts.debounceMs,
      resyncMs: opts.resyncMs,
      resyncKeys: () => this.resyncKeys(),
      logger: opts.logger,
    });
  }

  /** Registers informer handlers, sets the outbound base every proxy has, starts the queue. */
  start(): void {
    const o = this.opts;
    const onService = (s: V1Service): void => this.queue.add(serviceKey(s));
    o.services.on('add', onService);
    o.services.on('update', onService);
    o.services.on('delete', onService);
    o.endpointSlices.on('add', (s) => this.indexSlice(s));
    o.endpointSlices.on('update', (s) => this.indexSlice(s));
    o.endpointSlices.on('delete', (s) => this.unindexSlice(s));
    const onPod = (p: V1Pod): void => this.podChanged(p);
    o.pods.on('add', onPod);
    o.pods.on('update', onPod);
    o.pods.on('delete', onPod);
    const onNamespace = (ns: V1Namespace, old?: V1Namespace): void => {
      const name = ns.metadata?.name;
      if (!name) return;
      if (old && isMonitoredNamespace(ns, o.meshName) === isMonitoredNamespace(old, o.meshName)) return;
      // Its Services join or leave the mesh, and its pods stop or start being meshed endpoints.
      for (const s of o.services.list(name)) onService(s);
      for (const key of this.applied.keys()) if (key.startsWith(`${name}/`)) this.queue.add(key);
    };
    o.namespaces.on('add', (ns) => onNamespace(ns));
    o.namespaces.on('update', (ns, old) => onNamespace(ns, old));
    o.namespaces.on('delete', (ns) => onNamespace(ns));
    this.baseNames = this.stage(buildOutboundBase(), new Map());
    this.flush();
    this.queue.start();
  }

  async stop(): Promise<void> {
    await this.queue.stop();
  }

  /** Resolves once every queued key has been reconciled and handed to the cache. */
  async drained(): Promise<void> {
    await this.queue.drained();
    this.flush();
  }

  /**
   * Names of the resources every proxy shares, per kind (debug: what each proxy is pushed beside its
   * own; their content is summarized by services()).
   */
  sharedNames(): { listeners: string[]; clusters: string[] } {
    const of = (typeUrl: string): string[] =>
      [this.baseNames, ...[...this.applied.values()].map((a) => a.names)]
        .flatMap((m) => [...(m.get(typeUrl) ?? [])])
        .sort();
    return { listeners: of(LISTENER_TYPE_URL), clusters: of(CLUSTER_TYPE_URL) };
  }

  /** Every Service of the mesh as the proxies see it (debug, `fsm proxy get config`). */
  services(): MeshServiceView[] {
    return [...this.applied.values()]
      .map((a) => a.view)
      .sort((a, b) => (`${a.namespace}/${a.name}` < `${b.namespace}/${b.name}` ? -1 : 1));
  }

  private indexSlice(s: V1EndpointSlice): void {
    const key = cacheKey(s.metadata?.name ?? '', s.metadata?.namespace);
    const svc = s.metadata?.labels?.[ENDPOINTSLICE_SERVICE_LABEL];
    const before = this.sliceOwner.get(key);
    if (before !== undefined && before !== cacheKey(svc ?? '', s.metadata?.namespace)) this.unindexSlice(s);
    if (!svc) return;
    const owner = cacheKey(svc, s.metadata?.namespace);
    let m = this.slices.get(owner);
    if (!m) this.slices.set(owner, (m = new Map()));
    m.set(key, s);
    this.sliceOwner.set(key, owner);
    this.queue.add(owner);
  }

  private unindexSlice(s: V1EndpointSlice): void {
    const key = cacheKey(s.metadata?.name ?? '', s.metadata?.namespace);
    const owner = this.sliceOwner.get(key);
    if (owner === undefined) return;
    this.sliceOwner.delete(key);
    const m = this.slices.get(owner);
    m?.delete(key);
    if (m && m.size === 0) this.slices.delete(owner);
    this.queue.add(owner);
  }

  private podChanged(p: V1Pod): void {
    const key = cacheKey(p.metadata?.name ?? '', p.metadata?.namespace);
    const ref = this.podRefs.get(key);
    if (!ref) return;
    const now = podSummary(this.endpointPod(p.metadata?.namespace ?? '', p.metadata?.name ?? ''));
    if (now === ref.summary) return;
    ref.summary = now;
    for (const svc of ref.services) this.queue.add(svc);
  }

  /** What the outbound side reads of an endpoint's pod. */
  private endpointPod(namespace: string, name: string): EndpointPod | undefined {
    const pod = this.opts.pods.get(name, namespace);
    if (!pod) return undefined;
    const id = proxyIdentity(pod);
    return {
      meshed: id.isProxy && !pod.metadata?.deletionTimestamp && this.membership.has(namespace),
      serviceAccount: id.isProxy ? id.proxy.serviceAccount : (pod.spec?.serviceAccountName ?? 'default'),
    };
  }

  private *resyncKeys(): Generator<string> {
    for (const s of this.opts.services.list()) yield serviceKey(s);
    for (const key of this.applied.keys()) yield key;
  }

  /** Reconciles one Service key: its resources staged for the cache (set, changed or removed). */
  reconcile(key: string): void {
    const outcome = this.reconcileKey(key);
    this.scheduleFlush();
    this.opts.onReconciled?.(key, outcome);
  }

  private reconcileKey(key: string): 'set' | 'unchanged' | 'removed' | 'skipped' {
    const i = key.indexOf('/');
    const [namespace, name] = [key.slice(0, i), key.slice(i + 1)];
    const svc = this.opts.services.get(name, namespace);
    const prev = this.applied.get(key);
    if (!svc || !this.membership.has(namespace)) {
      if (!prev) return 'skipped';
      this.forget(key, prev);
      return 'removed';
    }
    const slices = [...(this.slices.get(key)?.values() ?? [])];
    const podKeys = new Set<string>();
    const view = meshService(svc, slices, {
      trustDomain: this.opts.trustDomain,
      clusterName: meshClusterName,
      pod: (ns, podName) => {
        const pk = cacheKey(podName, ns);
        podKeys.add(pk);
        return this.endpointPod(ns, podName);
      },
    });
    this.trackPods(key, prev?.pods, podKeys);
    // The resources are a function of the view: an equal view (a resync, a pod update that changed
    // nothing the outbound side reads) builds and stages nothing.
    const viewJson = JSON.stringify(view);
    if (prev && prev.viewJson === viewJson) {
      prev.pods = podKeys;
      return 'unchanged';
    }
    const resources: SharedResources =
      view.kind === 'mesh'
        ? buildMeshServiceResources({
            namespace,
            name,
            clusterIP: view.clusterIP,
            ports: view.ports,
            server: {
              spiffeIds: view.identities,
              namespacePrefix: namespaceIdentityPrefix(this.opts.trustDomain, namespace),
            },
          })
        : { listeners: [], clusters: [], loadAssignments: [] };
    const names = this.stage(resources, prev?.names ?? new Map());
    if (view.kind === 'passthrough' && prev?.view.kind !== 'passthrough') {
      this.log.debug('service passes through (not meshed)', { service: key, reason: view.reason });
    }
    this.applied.set(key, { names, view, viewJson, pods: podKeys });
    return 'set';
  }

  /** Keeps the pod → Services index in step with what this Service's endpoints name. */
  private trackPods(svcKey: string, before: ReadonlySet<string> | undefined, now: ReadonlySet<string>): void {
    for (const pk of before ?? []) {
      if (now.has(pk)) continue;
      const ref = this.podRefs.get(pk);
      ref?.services.delete(svcKey);
      if (ref && ref.services.size === 0) this.podRefs.delete(pk);
    }
    for (const pk of now) {
      let ref = this.podRefs.get(pk);
      if (!ref) {
        const i = pk.indexOf('/');
        ref = { services: new Set(), summary: podSummary(this.endpointPod(pk.slice(0, i), pk.slice(i + 1))) };
        this.podRefs.set(pk, ref);
      }
      ref.services.add(svcKey);
    }
  }

  private forget(key: string, prev: Applied): void {
    this.stage({ listeners: [], clusters: [], loadAssignments: [] }, prev.names);
    this.trackPods(key, prev.pods, new Set());
    this.applied.delete(key);
    this.log.debug('service left the mesh', { service: key });
  }

  /**
   * Stages `resources` in place of the names a Service had (`before`): every resource is (re)set —
   * the cache keeps an unchanged one as it is — and names no longer built are removed. Returns the
   * names now held, per type.
   */
  private stage(
    resources: SharedResources,
    before: ReadonlyMap<string, ReadonlySet<string>>,
  ): Map<string, Set<string>> {
    const byType = sharedResourcesByTypeUrl(resources);
    const names = new Map<string, Set<string>>();
    for (const typeUrl of TYPES) {
      let pending = this.pending.get(typeUrl);
      if (!pending) this.pending.set(typeUrl, (pending = new Map()));
      const now = new Set<string>();
      for (const r of byType[typeUrl] ?? []) {
        now.add(r.name);
        pending.set(r.name, r);
      }
      for (const n of before.get(typeUrl) ?? []) if (!now.has(n)) pending.set(n, null);
      names.set(typeUrl, now);
    }
    return names;
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  /** Hands the staged changes to the cache as one batch. */
  private flush(): void {
    const pending = this.pending;
    this.pending = new Map();
    const changes: Record<string, { set: NamedResource[]; remove: string[] }> = {};
    let any = false;
    for (const [typeUrl, m] of pending) {
      if (m.size === 0) continue;
      const c = { set: [] as NamedResource[], remove: [] as string[] };
      for (const [n, r] of m) {
        if (r) c.set.push(r);
        else c.remove.push(n);
      }
      changes[typeUrl] = c;
      any = true;
    }
    if (!any) return;
    try {
      const { changed } = this.opts.cache.updateShared(changes);
      if (changed) {
        this.log.debug('mesh services updated', {
          set: Object.values(changes).reduce((n, c) => n + c.set.length, 0),
          removed: Object.values(changes).reduce((n, c) => n + c.remove.length, 0),
        });
      }
    } catch (err) {
      // A builder output the proto layer rejects is a bug of ours: the previous resources stay.
      this.log.error('cannot update the mesh services: keeping the previous ones', {
        error: errorMessage(err),
      });
    }
  }
}

function serviceKey(s: V1Service): string {
  return cacheKey(s.metadata?.name ?? '', s.metadata?.namespace);
}
