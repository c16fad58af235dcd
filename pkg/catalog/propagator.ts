/**
 * Change propagation: informer events → a deduplicating work queue of pod keys → desiredProxy(pod)
 * → the ADS snapshot of that pod's proxy only. A namespace change re-queues the pods of that
 * namespace; a pod leaving the mesh (deleted, namespace unlabelled) has its snapshot removed.
 * Rapid changes to one pod coalesce in the queue (debounce) into one reconcile and one push.
 */
import type { V1Namespace, V1Pod } from '@kubernetes/client-node';
import type { SnapshotCache } from '../ads/cache.js';
import { resourcesByTypeUrl } from '../envoy/builders/index.js';
import {
  cacheKey,
  isMonitoredNamespace,
  MeshMembership,
  WorkQueue,
  type ResourceInformer,
} from '../k8s/index.js';
import { errorMessage, type Logger } from '../logger/index.js';
import { desiredProxy, type DesiredProxy } from './desired.js';
import type { CatalogMetrics } from './metrics.js';

export interface PropagatorOptions {
  pods: ResourceInformer<V1Pod>;
  namespaces: ResourceInformer<V1Namespace>;
  cache: SnapshotCache;
  meshName: string;
  logger: Logger;
  metrics?: CatalogMetrics;
  debounceMs?: number;
  workers?: number;
  resyncMs?: number;
  /** Called after each key's snapshot was set or removed (benchmarks measure update → snapshot). */
  onReconciled?: (key: string, outcome: 'set' | 'unchanged' | 'removed' | 'skipped') => void;
}

interface Known {
  uuid: string;
  desired: DesiredProxy;
  /** metadata.creationTimestamp, for picking the owner of a shared proxy UUID. */
  created: string;
  problemsLogged: string;
}

/** One line per proxy in the debug list. */
export interface ProxySummary {
  namespace: string;
  pod: string;
  uuid: string;
  listeners: number;
  clusters: number;
  problems: number;
  /** False when another pod owns the same proxy UUID (e.g. a `kubectl debug` copy). */
  owner: boolean;
}

export class ProxyPropagator {
  private readonly known = new Map<string, Known>();
  /** uuid → pod keys claiming it; the earliest-created pod owns the snapshot. */
  private readonly claims = new Map<string, Set<string>>();
  private readonly queue: WorkQueue;
  private readonly membership: MeshMembership;
  private readonly log: Logger;

  constructor(private readonly opts: PropagatorOptions) {
    this.log = opts.logger.child({ component: 'catalog' });
    this.membership = new MeshMembership(opts.meshName, (name) => opts.namespaces.get(name));
    this.queue = new WorkQueue({
      reconcile: (key) => this.reconcile(key),
      concurrency: opts.workers,
      debounceMs: opts.debounceMs,
      resyncMs: opts.resyncMs,
      resyncKeys: () => new Set([...opts.pods.list().map(podKey), ...this.known.keys()]),
      logger: opts.logger,
    });
  }

  /** Registers informer handlers and starts the queue (informers are started by the caller). */
  start(): void {
    const { pods, namespaces } = this.opts;
    const enqueuePod = (p: V1Pod): void => this.queue.add(podKey(p));
    pods.on('add', enqueuePod);
    pods.on('update', enqueuePod);
    pods.on('delete', enqueuePod);
    const enqueueNamespace = (ns: V1Namespace): void => {
      const name = ns.metadata?.name;
      if (!name) return;
      for (const p of pods.list(name)) enqueuePod(p);
      for (const key of this.known.keys()) if (key.startsWith(`${name}/`)) this.queue.add(key);
    };
    namespaces.on('add', enqueueNamespace);
    namespaces.on('update', (ns, old) => {
      // Only a change of membership matters to the proxies of a namespace.
      if (isMonitoredNamespace(ns, this.opts.meshName) !== isMonitoredNamespace(old, this.opts.meshName)) {
        enqueueNamespace(ns);
      }
    });
    namespaces.on('delete', enqueueNamespace);
    this.queue.start();
  }

  async stop(): Promise<void> {
    await this.queue.stop();
  }

  /** Resolves once every queued key has been reconciled (tests, benchmarks). */
  drained(): Promise<void> {
    return this.queue.drained();
  }

  /** Reconciles one pod key: sets, keeps or removes its proxy's snapshot. */
  reconcile(key: string): void {
    const started = process.hrtime.bigint();
    const outcome = this.reconcileKey(key);
    this.opts.metrics?.reconcileSeconds.observe(
      { result: outcome },
      Number(process.hrtime.bigint() - started) / 1e9,
    );
    this.opts.metrics?.proxies.set(this.known.size);
    this.opts.onReconciled?.(key, outcome);
  }

  private reconcileKey(key: string): 'set' | 'unchanged' | 'removed' | 'skipped' {
    const [namespace, name] = splitKey(key);
    const pod = this.opts.pods.get(name, namespace);
    if (!pod || pod.metadata?.deletionTimestamp || !this.membership.has(namespace)) {
      return this.forget(key) ? 'removed' : 'skipped';
    }
    const d = desiredProxy(pod);
    if (!d.isProxy) {
      this.log.trace('pod is not a proxy', { pod: key, reason: d.reason });
      return this.forget(key) ? 'removed' : 'skipped';
    }
    const prev = this.known.get(key);
    if (prev && prev.uuid !== d.proxy.uuid) this.forget(key);
    const entry: Known = {
      uuid: d.proxy.uuid,
      desired: d,
      created: String(pod.metadata?.creationTimestamp ?? ''),
      problemsLogged: prev?.uuid === d.proxy.uuid ? prev.problemsLogged : '',
    };
    this.known.set(key, entry);
    this.claim(entry.uuid, key);
    this.logProblems(key, entry);
    const owner = this.ownerOf(entry.uuid);
    if (owner !== key) {
      this.log.warn('proxy UUID already used by another pod: that pod keeps the config', {
        pod: key,
        owner,
        uuid: entry.uuid,
      });
      return 'skipped';
    }
    try {
      const { changed } = this.opts.cache.setSnapshot(entry.uuid, resourcesByTypeUrl(d.resources));
      if (changed) {
        this.opts.metrics?.snapshotsSet.inc();
        this.log.debug('proxy config updated', {
          pod: key,
          uuid: entry.uuid,
          listeners: d.resources.listeners.length,
          clusters: d.resources.clusters.length,
        });
      }
      return changed ? 'set' : 'unchanged';
    } catch (err) {
      // A builder output the proto layer rejects is a bug of ours: the previous snapshot stays.
      this.log.error('cannot set proxy config: keeping the previous one', {
        pod: key,
        error: errorMessage(err),
      });
      return 'skipped';
    }
  }

  private logProblems(key: string, entry: Known): void {
    const text = entry.desired.problems.join('\n');
    if (text === entry.problemsLogged) return;
    entry.problemsLogged = text;
    for (const problem of entry.desired.problems) this.log.warn('pod probe problem', { pod: key, problem });
    this.opts.metrics?.podProblems.set(
      [...this.known.values()].filter((k) => k.desired.problems.length > 0).length,
    );
  }

  private claim(uuid: string, key: string): void {
    let set = this.claims.get(uuid);
    if (!set) this.claims.set(uuid, (set = new Set()));
    set.add(key);
  }

  private ownerOf(uuid: string): string | undefined {
    let best: { key: string; created: string } | undefined;
    for (const key of this.claims.get(uuid) ?? []) {
      const created = this.known.get(key)?.created ?? '';
      if (!best || created < best.created || (created === best.created && key < best.key))
        best = { key, created };
    }
    return best?.key;
  }

  /** Drops a pod's proxy; removes the snapshot unless another pod now owns its UUID. */
  private forget(key: string): boolean {
    const k = this.known.get(key);
    if (!k) return false;
    const wasOwner = this.ownerOf(k.uuid) === key;
    this.known.delete(key);
    const set = this.claims.get(k.uuid);
    set?.delete(key);
    if (set && set.size > 0) {
      // The next claimant takes over: reconcile it so its config is pushed.
      if (wasOwner) for (const other of set) this.queue.add(other);
    } else {
      this.claims.delete(k.uuid);
      this.opts.cache.clearSnapshot(k.uuid);
    }
    this.log.debug('proxy removed', { pod: key, uuid: k.uuid });
    return true;
  }

  /** Debug: every proxy known. */
  proxies(): ProxySummary[] {
    return [...this.known.entries()]
      .map(([key, k]) => {
        const [namespace, pod] = splitKey(key);
        return {
          namespace,
          pod,
          uuid: k.uuid,
          listeners: k.desired.resources.listeners.length,
          clusters: k.desired.resources.clusters.length,
          problems: k.desired.problems.length,
          owner: this.ownerOf(k.uuid) === key,
        };
      })
      .sort((a, b) => (a.namespace + '/' + a.pod < b.namespace + '/' + b.pod ? -1 : 1));
  }

  /** Debug: one proxy's config as pushed (DesiredProxy + the version per type in the cache). */
  proxy(namespace: string, pod: string): (DesiredProxy & { versions: Record<string, string> }) | undefined {
    const k = this.known.get(cacheKey(pod, namespace));
    if (!k) return undefined;
    const snap = this.opts.cache.getSnapshot(k.uuid);
    const versions: Record<string, string> = {};
    for (const [typeUrl, t] of snap?.types ?? []) versions[typeUrl] = t.version;
    return { ...k.desired, versions };
  }
}

function podKey(p: V1Pod): string {
  return cacheKey(p.metadata?.name ?? '', p.metadata?.namespace);
}

function splitKey(key: string): [string, string] {
  const i = key.indexOf('/');
  return [key.slice(0, i), key.slice(i + 1)];
}
