/**
 * The Deployment controller, simply: the ReplicaSet of the current template is `<deploy>-<hash>`
 * (pod-template-hash in its selector, labels and pods; the Deployment as controller owner; the
 * revision annotation kubectl's rollout commands read). RollingUpdate scales it up within
 * replicas + maxSurge and the old ones down while replicas - maxUnavailable stay available;
 * Recreate scales the old ones to zero first. Old ReplicaSets at zero beyond revisionHistoryLimit
 * are deleted. Status carries observedGeneration, replicas, updated/ready/available/unavailable
 * and the Available and Progressing conditions, so `kubectl rollout status` and `kubectl get deploy`
 * read as on a cluster. Scaling events read "Scaled up replica set x from 0 to 1".
 */
import {
  AppsV1Api,
  PatchStrategy,
  setHeaderOptions,
  type KubeConfig,
  type V1Deployment,
  type V1DeploymentCondition,
  type V1ReplicaSet,
} from '@kubernetes/client-node';
import { WorkQueue, cacheKey, type ResourceInformer } from '../../k8s/index.js';
import type { Logger } from '../../logger/index.js';
import { ControllerEvents } from './events.js';
import {
  DESIRED_REPLICAS_ANNOTATION,
  MAX_REPLICAS_ANNOTATION,
  POD_TEMPLATE_HASH_LABEL,
  REVISION_ANNOTATION,
  controlledBy,
  controllerRef,
  podTemplateHash,
  sameTemplate,
} from './owners.js';

export interface DeploymentControllerOptions {
  kc: KubeConfig;
  logger: Logger;
  deployments: ResourceInformer<V1Deployment>;
  replicasets: ResourceInformer<V1ReplicaSet>;
}

const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

/** An IntOrString of maxSurge/maxUnavailable against `replicas` (percentages round up or down). */
export function resolveIntOrPercent(v: number | string | undefined, replicas: number, roundUp: boolean) {
  if (v === undefined) return Math.floor(replicas / 4) + (roundUp && replicas % 4 ? 1 : 0);
  if (typeof v === 'number') return v;
  const m = /^(\d+)%$/.exec(v);
  if (!m) return Number(v) || 0;
  const x = (Number(m[1]) * replicas) / 100;
  return roundUp ? Math.ceil(x) : Math.floor(x);
}

/** maxSurge and maxUnavailable of a rolling update (both 0 would never progress: unavailable 1). */
export function rollingLimits(d: V1Deployment): { surge: number; unavailable: number } {
  const replicas = d.spec?.replicas ?? 1;
  const ru = d.spec?.strategy?.rollingUpdate;
  const surge = resolveIntOrPercent(ru?.maxSurge as number | string | undefined, replicas, true);
  let unavailable = resolveIntOrPercent(ru?.maxUnavailable as number | string | undefined, replicas, false);
  if (surge === 0 && unavailable === 0) unavailable = 1;
  return { surge, unavailable: Math.min(unavailable, replicas) };
}

const revision = (rs: V1ReplicaSet): number => Number(rs.metadata?.annotations?.[REVISION_ANNOTATION] ?? 0);
const specReplicas = (rs: V1ReplicaSet): number => rs.spec?.replicas ?? 0;
const sum = (rss: V1ReplicaSet[], f: (rs: V1ReplicaSet) => number): number =>
  rss.reduce((n, rs) => n + f(rs), 0);

export class DeploymentController {
  private readonly apps: AppsV1Api;
  private readonly queue: WorkQueue;
  private readonly events: ControllerEvents;
  private readonly log: Logger;

  constructor(private readonly o: DeploymentControllerOptions) {
    this.apps = o.kc.makeApiClient(AppsV1Api);
    this.log = o.logger.child({ component: 'deployment-controller' });
    this.events = new ControllerEvents(o.kc, 'deployment-controller', this.log);
    this.queue = new WorkQueue({
      reconcile: (k) => this.reconcile(k),
      concurrency: 2,
      resyncMs: 30_000,
      resyncKeys: () => o.deployments.list().map((d) => cacheKey(d.metadata!.name!, d.metadata!.namespace)),
      retryBackoff: { initialMs: 100, maxMs: 5000 },
      logger: o.logger,
    });
  }

  start(): void {
    const onD = (d: V1Deployment): void => this.queue.add(cacheKey(d.metadata!.name!, d.metadata!.namespace));
    this.o.deployments.on('add', onD);
    this.o.deployments.on('update', onD);
    const onRs = (rs: V1ReplicaSet): void => {
      const ref = rs.metadata?.ownerReferences?.find((r) => r.controller && r.kind === 'Deployment');
      if (ref) this.queue.add(cacheKey(ref.name, rs.metadata?.namespace));
    };
    this.o.replicasets.on('add', onRs);
    this.o.replicasets.on('update', onRs);
    this.o.replicasets.on('delete', onRs);
    this.queue.start();
    for (const d of this.o.deployments.list()) onD(d);
  }

  stop(): Promise<void> {
    return this.queue.stop();
  }

  private async reconcile(k: string): Promise<void> {
    const [namespace, name] = k.split('/') as [string, string];
    const d = this.o.deployments.get(name, namespace);
    if (!d || d.metadata?.deletionTimestamp) return;
    // Copies: the scaling below updates them as it writes (cached objects stay read-only).
    const owned = this.o.replicasets
      .list(namespace)
      .filter((rs) => controlledBy(rs, d.metadata?.uid))
      .map((rs) => structuredClone(rs));
    const hash = podTemplateHash(d.spec?.template);
    let newRS =
      owned.find((rs) => rs.metadata?.labels?.[POD_TEMPLATE_HASH_LABEL] === hash) ??
      owned.find((rs) => sameTemplate(rs.spec?.template, d.spec?.template));
    const old = owned.filter((rs) => rs !== newRS);
    let created = false;
    if (!newRS) {
      newRS = await this.createReplicaSet(d, hash, old);
      created = true;
    }
    await this.ensureRevision(d, newRS);
    if (d.spec?.paused) return this.writeStatus(d, newRS, old, created);
    if (d.spec?.strategy?.type === 'Recreate') await this.recreate(d, newRS, old);
    else await this.rolling(d, newRS, old);
    await this.cleanup(d, old);
    await this.writeStatus(d, newRS, old, created);
  }

  private async createReplicaSet(d: V1Deployment, hash: string, old: V1ReplicaSet[]): Promise<V1ReplicaSet> {
    const tpl = structuredClone(d.spec?.template ?? {});
    tpl.metadata = { ...tpl.metadata, labels: { ...tpl.metadata?.labels, [POD_TEMPLATE_HASH_LABEL]: hash } };
    const replicas = d.spec?.replicas ?? 1;
    const { surge } = rollingLimits(d);
    // A rolling update starts the new ReplicaSet within the surge; a first rollout starts it whole.
    const total = sum(old, specReplicas);
    const initial =
      d.spec?.strategy?.type === 'Recreate' && total > 0
        ? 0
        : Math.max(0, Math.min(replicas, replicas + surge - total));
    const name = `${d.metadata!.name}-${hash}`;
    const rs = await this.apps.createNamespacedReplicaSet({
      namespace: d.metadata!.namespace!,
      body: {
        metadata: {
          name,
          namespace: d.metadata!.namespace!,
          labels: { ...tpl.metadata.labels },
          annotations: {
            [REVISION_ANNOTATION]: String(Math.max(0, ...old.map(revision)) + 1),
            [DESIRED_REPLICAS_ANNOTATION]: String(replicas),
            [MAX_REPLICAS_ANNOTATION]: String(replicas + surge),
          },
          ownerReferences: [controllerRef(d, 'apps/v1', 'Deployment')],
        },
        spec: {
          replicas: initial,
          minReadySeconds: d.spec?.minReadySeconds ?? 0,
          selector: {
            ...d.spec!.selector,
            matchLabels: { ...d.spec!.selector.matchLabels, [POD_TEMPLATE_HASH_LABEL]: hash },
          },
          template: tpl,
        },
      },
    });
    await this.events.record(
      d,
      'Deployment',
      'Normal',
      'ScalingReplicaSet',
      `Scaled up replica set ${name} from 0 to ${initial}`,
    );
    this.log.info('created replica set', {
      deployment: `${d.metadata!.namespace}/${d.metadata!.name}`,
      replicaSet: name,
      replicas: initial,
    });
    return rs;
  }

  /** The Deployment carries its current ReplicaSet's revision (kubectl rollout history). */
  private async ensureRevision(d: V1Deployment, rs: V1ReplicaSet): Promise<void> {
    const rev = rs.metadata?.annotations?.[REVISION_ANNOTATION];
    if (!rev || d.metadata?.annotations?.[REVISION_ANNOTATION] === rev) return;
    await this.apps.patchNamespacedDeployment(
      {
        name: d.metadata!.name!,
        namespace: d.metadata!.namespace!,
        body: { metadata: { annotations: { [REVISION_ANNOTATION]: rev } } },
      },
      merge,
    );
  }

  private async scale(d: V1Deployment, rs: V1ReplicaSet, to: number): Promise<void> {
    const from = specReplicas(rs);
    if (from === to) return;
    await this.apps.patchNamespacedReplicaSet(
      {
        name: rs.metadata!.name!,
        namespace: rs.metadata!.namespace!,
        body: { spec: { replicas: to } },
      },
      merge,
    );
    rs.spec = { ...rs.spec!, replicas: to };
    const verb = to > from ? 'up' : 'down';
    await this.events.record(
      d,
      'Deployment',
      'Normal',
      'ScalingReplicaSet',
      `Scaled ${verb} replica set ${rs.metadata!.name} from ${from} to ${to}`,
    );
  }

  private async rolling(d: V1Deployment, newRS: V1ReplicaSet, old: V1ReplicaSet[]): Promise<void> {
    const replicas = d.spec?.replicas ?? 1;
    const { surge, unavailable } = rollingLimits(d);
    // Scale the new ReplicaSet up within the surge (or down to the wanted count).
    const all = [newRS, ...old];
    if (specReplicas(newRS) > replicas) await this.scale(d, newRS, replicas);
    else if (specReplicas(newRS) < replicas) {
      const room = replicas + surge - sum(all, specReplicas);
      if (room > 0) await this.scale(d, newRS, Math.min(replicas, specReplicas(newRS) + room));
    }
    // Scale the old ones down while enough stay available.
    if (sum(old, specReplicas) === 0) return;
    const minAvailable = replicas - unavailable;
    const newUnavailable = specReplicas(newRS) - (newRS.status?.availableReplicas ?? 0);
    let budget = sum(all, specReplicas) - minAvailable - newUnavailable;
    if (budget <= 0) return;
    const oldest = [...old].sort((a, b) => revision(a) - revision(b));
    // First the old pods that are not available anyway.
    for (const rs of oldest) {
      if (budget <= 0) break;
      const unhealthy = specReplicas(rs) - (rs.status?.availableReplicas ?? 0);
      const n = Math.min(budget, Math.max(0, unhealthy));
      if (n > 0) {
        await this.scale(d, rs, specReplicas(rs) - n);
        budget -= n;
      }
    }
    // Then available ones, as long as minAvailable stay.
    let spare =
      sum(all, (rs) => Math.min(rs.status?.availableReplicas ?? 0, specReplicas(rs))) - minAvailable;
    for (const rs of oldest) {
      if (spare <= 0) break;
      const n = Math.min(spare, specReplicas(rs));
      if (n > 0) {
        await this.scale(d, rs, specReplicas(rs) - n);
        spare -= n;
      }
    }
  }

  private async recreate(d: V1Deployment, newRS: V1ReplicaSet, old: V1ReplicaSet[]): Promise<void> {
    for (const rs of old) if (specReplicas(rs) > 0) await this.scale(d, rs, 0);
    // The new pods start once every old pod is gone.
    if (old.some((rs) => (rs.status?.replicas ?? 0) > 0)) return;
    await this.scale(d, newRS, d.spec?.replicas ?? 1);
  }

  /** Old ReplicaSets at zero beyond revisionHistoryLimit go, oldest first. */
  private async cleanup(d: V1Deployment, old: V1ReplicaSet[]): Promise<void> {
    const limit = d.spec?.revisionHistoryLimit ?? 10;
    const idle = old
      .filter((rs) => specReplicas(rs) === 0 && (rs.status?.replicas ?? 0) === 0)
      .sort((a, b) => revision(a) - revision(b));
    for (const rs of idle.slice(0, Math.max(0, idle.length - limit))) {
      try {
        await this.apps.deleteNamespacedReplicaSet({
          name: rs.metadata!.name!,
          namespace: rs.metadata!.namespace!,
        });
      } catch (e) {
        if ((e as { code?: number }).code !== 404) throw e;
      }
    }
  }

  private async writeStatus(d: V1Deployment, newRS: V1ReplicaSet, old: V1ReplicaSet[], created: boolean) {
    const all = [newRS, ...old];
    const replicas = d.spec?.replicas ?? 1;
    const { unavailable } = rollingLimits(d);
    const total = sum(all, (rs) => rs.status?.replicas ?? 0);
    const updated = newRS.status?.replicas ?? 0;
    const ready = sum(all, (rs) => rs.status?.readyReplicas ?? 0);
    const available = sum(all, (rs) => rs.status?.availableReplicas ?? 0);
    const complete =
      updated === replicas &&
      total === replicas &&
      available >= replicas &&
      (newRS.status?.availableReplicas ?? 0) >= replicas;
    const now = new Date();
    const prior = (type: string): V1DeploymentCondition | undefined =>
      d.status?.conditions?.find((c) => c.type === type);
    const cond = (type: string, ok: boolean, reason: string, message: string): V1DeploymentCondition => {
      const p = prior(type);
      const status = ok ? 'True' : 'False';
      const same = p?.status === status;
      return {
        type,
        status,
        reason,
        message,
        lastUpdateTime: p?.reason === reason && same ? p.lastUpdateTime : now,
        lastTransitionTime: same ? p!.lastTransitionTime : now,
      };
    };
    const rsName = newRS.metadata!.name!;
    const availableOk = available >= replicas - unavailable;
    const conditions = [
      cond(
        'Available',
        availableOk,
        availableOk ? 'MinimumReplicasAvailable' : 'MinimumReplicasUnavailable',
        availableOk
          ? 'Deployment has minimum availability.'
          : 'Deployment does not have minimum availability.',
      ),
      complete
        ? cond(
            'Progressing',
            true,
            'NewReplicaSetAvailable',
            `ReplicaSet "${rsName}" has successfully progressed.`,
          )
        : created
          ? cond('Progressing', true, 'NewReplicaSetCreated', `Created new replica set "${rsName}"`)
          : cond('Progressing', true, 'ReplicaSetUpdated', `ReplicaSet "${rsName}" is progressing.`),
    ];
    const status = {
      observedGeneration: d.metadata?.generation ?? 1,
      replicas: total,
      updatedReplicas: updated,
      readyReplicas: ready,
      availableReplicas: available,
      unavailableReplicas: Math.max(0, sum(all, specReplicas) - available),
      conditions,
    };
    const cur = d.status ?? {};
    const same =
      cur.observedGeneration === status.observedGeneration &&
      (cur.replicas ?? 0) === status.replicas &&
      (cur.updatedReplicas ?? 0) === status.updatedReplicas &&
      (cur.readyReplicas ?? 0) === status.readyReplicas &&
      (cur.availableReplicas ?? 0) === status.availableReplicas &&
      (cur.unavailableReplicas ?? 0) === status.unavailableReplicas &&
      conditions.every((c) => {
        const p = prior(c.type!);
        return p?.status === c.status && p.reason === c.reason && p.message === c.message;
      });
    if (same) return;
    await this.apps.patchNamespacedDeploymentStatus(
      { name: d.metadata!.name!, namespace: d.metadata!.namespace!, body: { status } },
      merge,
    );
  }
}
