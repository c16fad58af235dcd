/**
 * The ReplicaSet controller: keeps spec.replicas active pods of the template, each named
 * `<replicaset>-<5 chars>` with the ReplicaSet as controller owner; deletes the surplus (not-ready
 * and newest first); writes status (replicas, readyReplicas, availableReplicas with minReadySeconds,
 * observedGeneration). Pods go through the API server, so they are admitted (and injected) like any
 * other. Creations and deletions are remembered until the informer shows them ("expectations"),
 * so a stale cache never makes it create twice.
 */
import {
  AppsV1Api,
  CoreV1Api,
  PatchStrategy,
  setHeaderOptions,
  type KubeConfig,
  type V1Pod,
  type V1ReplicaSet,
} from '@kubernetes/client-node';
import { WorkQueue, cacheKey, type ResourceInformer } from '../../k8s/index.js';
import { errorMessage, type Logger } from '../../logger/index.js';
import { ControllerEvents } from './events.js';
import { controllerRef, controlledBy, podActive, podReady } from './owners.js';

export interface ReplicaSetControllerOptions {
  kc: KubeConfig;
  logger: Logger;
  replicasets: ResourceInformer<V1ReplicaSet>;
  pods: ResourceInformer<V1Pod>;
  /** Pods created or deleted per reconcile at most (kube's slow start begins at 1, doubling). */
  burst?: number;
}

/** How long an unobserved creation or deletion holds a ReplicaSet back (kube's is 5 min). */
const EXPECTATION_TTL_MS = 15_000;

interface Expectations {
  adds: Set<string>;
  deletes: Set<string>;
  since: number;
}

export class ReplicaSetController {
  private readonly apps: AppsV1Api;
  private readonly core: CoreV1Api;
  private readonly queue: WorkQueue;
  private readonly events: ControllerEvents;
  private readonly expectations = new Map<string, Expectations>();
  private readonly log: Logger;

  constructor(private readonly o: ReplicaSetControllerOptions) {
    this.apps = o.kc.makeApiClient(AppsV1Api);
    this.core = o.kc.makeApiClient(CoreV1Api);
    this.log = o.logger.child({ component: 'replicaset-controller' });
    this.events = new ControllerEvents(o.kc, 'replicaset-controller', this.log);
    this.queue = new WorkQueue({
      reconcile: (key) => this.reconcile(key),
      concurrency: 4,
      resyncMs: 30_000,
      resyncKeys: () => o.replicasets.list().map((rs) => key(rs)),
      retryBackoff: { initialMs: 100, maxMs: 5000 },
      logger: o.logger,
    });
  }

  start(): void {
    const onRs = (rs: V1ReplicaSet): void => this.queue.add(key(rs));
    this.o.replicasets.on('add', onRs);
    this.o.replicasets.on('update', onRs);
    this.o.replicasets.on('delete', (rs) => this.expectations.delete(key(rs)));
    const onPod = (p: V1Pod): void => {
      for (const ref of p.metadata?.ownerReferences ?? []) {
        if (ref.controller && ref.kind === 'ReplicaSet') {
          const k = cacheKey(ref.name, p.metadata?.namespace);
          this.observe(k, p);
          this.queue.add(k);
        }
      }
    };
    this.o.pods.on('add', onPod);
    this.o.pods.on('update', (p, old) => {
      onPod(p);
      if (JSON.stringify(old.metadata?.ownerReferences) !== JSON.stringify(p.metadata?.ownerReferences))
        onPod(old);
    });
    this.o.pods.on('delete', onPod);
    this.queue.start();
    for (const rs of this.o.replicasets.list()) this.queue.add(key(rs));
  }

  stop(): Promise<void> {
    return this.queue.stop();
  }

  /** A pod event settles the creation or deletion it stands for. */
  private observe(k: string, p: V1Pod): void {
    const e = this.expectations.get(k);
    const name = p.metadata?.name ?? '';
    if (!e) return;
    if (!this.o.pods.get(name, p.metadata?.namespace)) e.deletes.delete(name);
    else e.adds.delete(name);
  }

  private settled(k: string): boolean {
    const e = this.expectations.get(k);
    if (!e) return true;
    if ((e.adds.size === 0 && e.deletes.size === 0) || Date.now() - e.since > EXPECTATION_TTL_MS) {
      this.expectations.delete(k);
      return true;
    }
    return false;
  }

  private async reconcile(k: string): Promise<void> {
    const [namespace, name] = k.split('/') as [string, string];
    const rs = this.o.replicasets.get(name, namespace);
    if (!rs || rs.metadata?.deletionTimestamp) return;
    const uid = rs.metadata?.uid;
    const pods = this.o.pods.list(namespace).filter((p) => controlledBy(p, uid) && podActive(p));
    if (this.settled(k)) {
      const want = rs.spec?.replicas ?? 1;
      const diff = want - pods.length;
      const burst = this.o.burst ?? 10;
      if (diff > 0) await this.create(k, rs, Math.min(diff, burst));
      else if (diff < 0) await this.remove(k, rs, pods, Math.min(-diff, burst));
    }
    await this.writeStatus(rs, pods);
  }

  private async create(k: string, rs: V1ReplicaSet, count: number): Promise<void> {
    const namespace = rs.metadata!.namespace!;
    const tpl = rs.spec?.template ?? {};
    const e: Expectations = { adds: new Set(), deletes: new Set(), since: Date.now() };
    this.expectations.set(k, e);
    const results = await Promise.allSettled(
      Array.from({ length: count }, () =>
        this.core.createNamespacedPod({
          namespace,
          body: {
            metadata: {
              generateName: `${rs.metadata!.name}-`,
              namespace,
              labels: { ...tpl.metadata?.labels },
              ...(tpl.metadata?.annotations ? { annotations: { ...tpl.metadata.annotations } } : {}),
              ownerReferences: [controllerRef(rs, 'apps/v1', 'ReplicaSet')],
            },
            spec: structuredClone(tpl.spec!),
          },
        }),
      ),
    );
    let failure: unknown;
    for (const r of results) {
      if (r.status === 'fulfilled') {
        const pod = r.value.metadata!.name!;
        if (!this.o.pods.get(pod, namespace)) e.adds.add(pod);
        await this.events.record(rs, 'ReplicaSet', 'Normal', 'SuccessfulCreate', `Created pod: ${pod}`);
      } else failure = r.reason;
    }
    if (failure !== undefined) {
      const msg = errorMessage(failure);
      await this.events.record(rs, 'ReplicaSet', 'Warning', 'FailedCreate', `Error creating: ${msg}`);
      // Retried with backoff (e.g. a webhook refusing pods until the injector is ready).
      throw new Error(`cannot create pods of ReplicaSet ${k}: ${msg}`);
    }
  }

  /** Not-ready pods go first, then the newest, as kube's ranking does. */
  private async remove(k: string, rs: V1ReplicaSet, pods: V1Pod[], count: number): Promise<void> {
    const ranked = [...pods].sort((a, b) => {
      const ra = podReady(a) ? 1 : 0;
      const rb = podReady(b) ? 1 : 0;
      if (ra !== rb) return ra - rb;
      return String(b.metadata?.creationTimestamp).localeCompare(String(a.metadata?.creationTimestamp));
    });
    const victims = ranked.slice(0, count);
    this.expectations.set(k, {
      adds: new Set(),
      deletes: new Set(victims.map((p) => p.metadata!.name!)),
      since: Date.now(),
    });
    for (const p of victims) {
      try {
        await this.core.deleteNamespacedPod({ name: p.metadata!.name!, namespace: p.metadata!.namespace! });
        await this.events.record(
          rs,
          'ReplicaSet',
          'Normal',
          'SuccessfulDelete',
          `Deleted pod: ${p.metadata!.name}`,
        );
      } catch (err) {
        if ((err as { code?: number }).code !== 404) throw err;
      }
    }
  }

  private async writeStatus(rs: V1ReplicaSet, pods: V1Pod[]): Promise<void> {
    const minReadyMs = (rs.spec?.minReadySeconds ?? 0) * 1000;
    const now = Date.now();
    const ready = pods.filter(podReady);
    const available = ready.filter((p) => {
      const since = p.status?.conditions?.find((c) => c.type === 'Ready')?.lastTransitionTime;
      return minReadyMs === 0 || (since !== undefined && now - new Date(since).getTime() >= minReadyMs);
    });
    const labels = rs.spec?.template?.metadata?.labels ?? {};
    const status = {
      replicas: pods.length,
      fullyLabeledReplicas: pods.filter((p) =>
        Object.entries(labels).every(([lk, lv]) => p.metadata?.labels?.[lk] === lv),
      ).length,
      readyReplicas: ready.length,
      availableReplicas: available.length,
      observedGeneration: rs.metadata?.generation ?? 1,
    };
    const cur: NonNullable<V1ReplicaSet['status']> = rs.status ?? { replicas: 0 };
    if (
      cur.replicas === status.replicas &&
      (cur.fullyLabeledReplicas ?? 0) === status.fullyLabeledReplicas &&
      (cur.readyReplicas ?? 0) === status.readyReplicas &&
      (cur.availableReplicas ?? 0) === status.availableReplicas &&
      cur.observedGeneration === status.observedGeneration
    ) {
      // Pods still becoming available after minReadySeconds: look again then.
      if (available.length < ready.length) this.queue.addAfter(key(rs), minReadyMs);
      return;
    }
    await this.apps.patchNamespacedReplicaSetStatus(
      { name: rs.metadata!.name!, namespace: rs.metadata!.namespace!, body: { status } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    if (available.length < ready.length) this.queue.addAfter(key(rs), minReadyMs);
  }
}

function key(o: V1ReplicaSet): string {
  return cacheKey(o.metadata?.name ?? '', o.metadata?.namespace);
}
