/**
 * Change propagation: informer events → a deduplicating work queue of pod keys → desiredProxy(pod)
 * → the ADS snapshot of that pod's proxy only. A namespace change re-queues the pods of that
 * namespace; a pod leaving the mesh (deleted, namespace unlabelled) has its snapshot removed.
 * A change to a pod not reconciled within the last second is reconciled at once; later changes
 * are held until a second has passed since that reconcile and the pod has been quiet for debounceMs
 * (leading-edge coalescing, pkg/k8s WorkQueue): an isolated change costs no delay (with a
 * trailing-only window every change waited the window out: 50 ms of the 60 ms update → push p50 of
 * `npm run bench:controller`), a burst of changes shorter than a second costs two pushes.
 *
 * Hot-path shortcuts (measured with `npm run bench:controller`, 50,000 pods):
 * - a key whose pod is the version last applied, still owning a snapshot the cache still holds, is
 *   not recomputed: the periodic resync re-adds every key, and recomputing 50,000 unchanged pods
 *   took the CPU for most of the resync period and queued real changes behind them;
 * - resources are encoded once per distinct content (pods of one workload share their listeners
 *   and clusters byte for byte) and handed to the cache as bytes;
 * - the periodic resync re-adds only the keys whose reconcile could change something (every key
 *   not proven applied by isApplied): 50,000 applied keys in the queue cost seconds of queue work
 *   and delayed the real changes queued behind them;
 * - the desired config objects are not kept per pod (8 KiB each, 400 MiB at 50,000 pods): the
 *   debug view recomputes them from the cached pod (desiredProxy is pure);
 * - a backlog (the first sync of 50,000 pods) is reconciled in slices of RECONCILE_SLICE_MS that
 *   give the event loop a turn in between: the queue's workers chain through microtasks only, so
 *   without it /health/* (kubelet's probes), ADS streams and watch events waited for the whole
 *   backlog (25 s with 50,000 pods).
 */
import { hash } from 'node:crypto';
import type { V1Namespace, V1Pod } from '@kubernetes/client-node';
import type { SnapshotCache } from '../ads/index.js';
import type { ResourceInput } from '../ads/index.js';
import { resourcesByTypeUrl } from '../envoy/builders/index.js';
import { encodeMessage, messageNameOf } from '../envoy/index.js';
import {
  cacheKey,
  isMonitoredNamespace,
  MeshMembership,
  WorkQueue,
  type ResourceInformer,
} from '../k8s/index.js';
import { INBOUND_MTLS_ANNOTATION } from '../constants/index.js';
import { errorMessage, type Logger } from '../logger/index.js';
import { desiredProxy, type DesiredProxy } from './desired.js';
import { podInjection } from './injection.js';
import type { InjectionInfo } from '../probes/index.js';
import type { CatalogMetrics } from './metrics.js';
import { redactProxy } from './redact.js';

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
  /** SPIFFE trust domain of the mesh (inbound chains admit identities under it; default cluster.local). */
  trustDomain?: string;
  /** Called when a pod's problems change (not on every reconcile): the controller records Events. */
  onProblems?: (pod: V1Pod, problems: readonly string[]) => void;
  /** The mesh's Services as every proxy routes to them (the debug view shows them). */
  outbound?: { services(): unknown[]; sharedNames?(): { listeners: string[]; clusters: string[] } };
}

interface Known {
  uuid: string;
  /** Counts and problems of the desired config; the config itself is recomputed from `pod` on demand. */
  listeners: number;
  clusters: number;
  problems: readonly string[];
  /** Injected in a format older than this control plane's (still served). */
  outdated: boolean;
  /** metadata.creationTimestamp, for picking the owner of a shared proxy UUID. */
  created: string;
  problemsLogged: string;
  /** The pod object the config was computed from (informer cache objects are read-only). */
  pod: V1Pod;
  /** The cache's own types of this proxy as this key last set them (or found them unchanged) as owner. */
  applied?: unknown;
  /** The namespace's inbound mTLS annotation the config was computed with. */
  nsInbound: string | undefined;
}

/** Longest run of back-to-back reconciles before the event loop gets a turn. */
const RECONCILE_SLICE_MS = 10;

/** Distinct encoded resources kept (least recently used dropped first). */
const ENCODED_MEMO_MAX = 4096;

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
  /**
   * type URL + SHA-256 of a resource's JSON → its protobuf bytes. Keyed by the digest, not the JSON
   * itself: every entry outlives many reconciles (so it sits in V8's old space), and a pod's own
   * resources (its listeners carry its IP) are never asked for again once evicted — 4096 keys of
   * ~1 KB JSON each were most of the old-space garbage of building 50,000 snapshots.
   */
  private readonly encoded = new Map<string, Buffer>();
  /** Known pods whose desired config has problems (kept for the gauge without a scan). */
  private withProblems = 0;
  /** Known pods injected in an older format (kept for the gauge without a scan). */
  private outdated = 0;
  /** performance.now() when the current run of back-to-back reconciles began / the last one ended. */
  private sliceStart = 0;
  private lastEnd = -Infinity;
  private readonly membership: MeshMembership;
  private readonly log: Logger;

  constructor(private readonly opts: PropagatorOptions) {
    this.log = opts.logger.child({ component: 'catalog' });
    this.membership = new MeshMembership(opts.meshName, (name) => opts.namespaces.get(name));
    this.queue = new WorkQueue({
      reconcile: (key) => this.reconcileYielding(key),
      concurrency: opts.workers,
      debounceMs: opts.debounceMs,
      resyncMs: opts.resyncMs,
      resyncKeys: () => this.resyncKeys(),
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
      // Only a change of membership or of the inbound mTLS mode matters to the proxies of a namespace.
      if (
        isMonitoredNamespace(ns, this.opts.meshName) !== isMonitoredNamespace(old, this.opts.meshName) ||
        nsInboundMode(ns) !== nsInboundMode(old)
      ) {
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

  /**
   * The queue's reconcile: reconciles at once, unless reconciles have run back to back for a slice,
   * in which case the event loop gets a turn first (setImmediate).
   */
  private reconcileYielding(key: string): Promise<void> | void {
    const now = performance.now();
    // A gap means the microtask chain was broken (the queue waited): a new slice begins.
    if (now - this.lastEnd > 1) this.sliceStart = now;
    if (now - this.sliceStart < RECONCILE_SLICE_MS) {
      try {
        this.reconcile(key);
      } finally {
        this.lastEnd = performance.now();
      }
      return;
    }
    return new Promise((resolve, reject) =>
      setImmediate(() => {
        this.sliceStart = performance.now();
        try {
          this.reconcile(key);
          resolve();
        } catch (err) {
          reject(err instanceof Error ? err : new Error(String(err)));
        } finally {
          this.lastEnd = performance.now();
        }
      }),
    );
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
    const prev = this.known.get(key);
    const ns = this.opts.namespaces.get(namespace);
    if (prev && this.isApplied(key, prev, pod, nsInboundMode(ns))) return 'unchanged';
    const d = desiredProxy(pod, { namespace: ns, trustDomain: this.opts.trustDomain });
    if (!d.isProxy) {
      this.log.trace('pod is not a proxy', { pod: key, reason: d.reason });
      return this.forget(key) ? 'removed' : 'skipped';
    }
    if (prev && prev.uuid !== d.proxy.uuid) this.forget(key);
    const kept = this.known.get(key);
    const injection = podInjection(pod);
    if (injection.outdated.length > 0 && !kept?.outdated) {
      this.log.info('pod injected in an older format: served as it is; recreate it to update', {
        pod: key,
        outdated: injection.outdated,
      });
    }
    const entry: Known = {
      uuid: d.proxy.uuid,
      listeners: d.resources.listeners.length,
      clusters: d.resources.clusters.length,
      problems: d.problems,
      outdated: injection.outdated.length > 0,
      created: String(pod.metadata?.creationTimestamp ?? ''),
      problemsLogged: kept ? kept.problemsLogged : '',
      pod,
      nsInbound: nsInboundMode(ns),
    };
    this.setKnown(key, entry);
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
      const { changed } = this.opts.cache.setSnapshot(
        entry.uuid,
        this.encode(entry.uuid, resourcesByTypeUrl(d.resources)),
      );
      entry.applied = this.opts.cache.ownTypes(entry.uuid);
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

  /**
   * The keys a resync re-adds: every pod and every known key, except pods of the mesh whose applied
   * snapshot is current (reconciling them would change nothing, see isApplied).
   */
  private *resyncKeys(): Generator<string> {
    const member = new Map<string, boolean>();
    for (const pod of this.opts.pods.list()) {
      const key = podKey(pod);
      const prev = this.known.get(key);
      if (prev && !pod.metadata?.deletionTimestamp && prev.applied) {
        const namespace = pod.metadata?.namespace ?? '';
        let isMember = member.get(namespace);
        if (isMember === undefined) member.set(namespace, (isMember = this.membership.has(namespace)));
        if (isMember && this.isApplied(key, prev, pod, nsInboundMode(this.opts.namespaces.get(namespace))))
          continue;
      }
      yield key;
    }
    // Known keys whose pod is gone from the cache (a missed delete).
    for (const key of this.known.keys()) {
      const [namespace, name] = splitKey(key);
      if (!this.opts.pods.get(name, namespace)) yield key;
    }
  }

  /**
   * True when `pod` is the version this key last applied (in a namespace of the same inbound mode)
   * and its own content is still the one in the cache with this key as the owner: reconciling it
   * again would set the same content. (The node's published snapshot changes with its SDS secrets
   * and the mesh's Services; its own types do not.)
   */
  private isApplied(key: string, prev: Known, pod: V1Pod, nsInbound: string | undefined): boolean {
    if (!prev.applied || this.opts.cache.ownTypes(prev.uuid) !== prev.applied) return false;
    if (prev.nsInbound !== nsInbound) return false;
    if (prev.pod !== pod) {
      // A relist brings new objects for unchanged pods: the same uid and resourceVersion is the same pod.
      const [a, b] = [prev.pod.metadata, pod.metadata];
      if (!a?.uid || !a.resourceVersion || a.uid !== b?.uid || a.resourceVersion !== b.resourceVersion) {
        return false;
      }
    }
    return this.ownerOf(prev.uuid) === key;
  }

  /** Resources as bytes, each distinct content encoded (and checked against its type) once. */
  private encode(
    uuid: string,
    byType: Record<string, { name: string; resource: Record<string, unknown> }[]>,
  ): Record<string, ResourceInput[]> {
    const out: Record<string, ResourceInput[]> = {};
    for (const [typeUrl, list] of Object.entries(byType)) {
      out[typeUrl] = list.map((item, i) => {
        const memoKey = `${typeUrl}\u0000${hash('sha256', JSON.stringify(item.resource), 'base64')}`;
        let bytes = this.encoded.get(memoKey);
        if (bytes) {
          // Most recently used last: the first key is the one dropped when full.
          this.encoded.delete(memoKey);
        } else {
          try {
            bytes = encodeMessage(typeUrl, item.resource);
          } catch (err) {
            throw new Error(
              `node ${JSON.stringify(uuid)} ${messageNameOf(typeUrl)}[${i}] (${JSON.stringify(item.name)}): ${errorMessage(err)}`,
            );
          }
          if (this.encoded.size >= ENCODED_MEMO_MAX) this.encoded.delete(this.encoded.keys().next().value!);
        }
        this.encoded.set(memoKey, bytes);
        return { name: item.name, resource: bytes };
      });
    }
    return out;
  }

  private setKnown(key: string, entry: Known): void {
    const old = this.known.get(key);
    if (old && old.problems.length > 0) this.withProblems--;
    if (entry.problems.length > 0) this.withProblems++;
    if (old?.outdated) this.outdated--;
    if (entry.outdated) this.outdated++;
    this.known.set(key, entry);
    this.opts.metrics?.outdatedInjection.set(this.outdated);
  }

  private logProblems(key: string, entry: Known): void {
    const text = entry.problems.join('\n');
    if (text === entry.problemsLogged) return;
    entry.problemsLogged = text;
    for (const problem of entry.problems) this.log.warn('pod probe problem', { pod: key, problem });
    this.opts.metrics?.podProblems.set(this.withProblems);
    if (entry.problems.length > 0) this.opts.onProblems?.(entry.pod, entry.problems);
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
    if (k.outdated) {
      this.outdated--;
      this.opts.metrics?.outdatedInjection.set(this.outdated);
    }
    if (k.problems.length > 0) {
      this.withProblems--;
      this.opts.metrics?.podProblems.set(this.withProblems);
    }
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
          listeners: k.listeners,
          clusters: k.clusters,
          problems: k.problems.length,
          owner: this.ownerOf(k.uuid) === key,
        };
      })
      .sort((a, b) => (a.namespace + '/' + a.pod < b.namespace + '/' + b.pod ? -1 : 1));
  }

  /**
   * Debug: one proxy's config as pushed (DesiredProxy + the version per type in the cache) and how
   * its pod was injected, judged against this control plane's formats; probe header values
   * redacted (names kept): the debug endpoint must not hand out a probe's credentials.
   */
  proxy(
    namespace: string,
    pod: string,
  ):
    | (DesiredProxy & { versions: Record<string, string>; injection: InjectionInfo; outbound?: unknown })
    | undefined {
    const k = this.known.get(cacheKey(pod, namespace));
    if (!k) return undefined;
    const snap = this.opts.cache.getSnapshot(k.uuid);
    const versions: Record<string, string> = {};
    for (const [typeUrl, t] of snap?.types ?? []) versions[typeUrl] = t.version;
    // Pure from the same pod object: the config that was pushed, without keeping 8 KiB per pod.
    const d = desiredProxy(k.pod, {
      namespace: this.opts.namespaces.get(namespace),
      trustDomain: this.opts.trustDomain,
    });
    if (!d.isProxy) return undefined;
    const outbound = this.opts.outbound ? { outbound: { services: this.opts.outbound.services() } } : {};
    const r = redactProxy(d);
    // What the proxy is pushed beside its own resources: the mesh's shared ones, by name (their
    // content is summarized under outbound.services).
    const shared = this.opts.outbound?.sharedNames?.();
    if (shared) {
      const merge = <T extends { name: string }>(own: T[], names: string[]): T[] =>
        [...own, ...names.map((name) => ({ name, shared: true }) as unknown as T)].sort((a, b) =>
          a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
        );
      r.resources = {
        ...r.resources,
        listeners: merge(r.resources.listeners, shared.listeners),
        clusters: merge(r.resources.clusters, shared.clusters),
      };
    }
    return { ...r, versions, injection: podInjection(k.pod), ...outbound };
  }
}

/** The namespace's inbound mTLS annotation (a change of it re-computes the namespace's proxies). */
function nsInboundMode(ns: V1Namespace | undefined): string | undefined {
  return ns?.metadata?.annotations?.[INBOUND_MTLS_ANNOTATION];
}

function podKey(p: V1Pod): string {
  return cacheKey(p.metadata?.name ?? '', p.metadata?.namespace);
}

function splitKey(key: string): [string, string] {
  const i = key.indexOf('/');
  return [key.slice(0, i), key.slice(i + 1)];
}
