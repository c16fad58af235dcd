/**
 * The garbage collector: a dependent whose owner (by uid) no longer exists is deleted, in the
 * background, as kube-controller-manager's does for the default propagation policy — ReplicaSets of
 * a deleted Deployment, then their pods; EndpointSlices of a deleted Service. Owners of kinds it
 * does not watch are left alone (it cannot tell whether they exist). Orphaning
 * (`--cascade=orphan`) is done by the API server, which strips the owner references before the
 * owner goes; Foreground is served as Background.
 */
import {
  AppsV1Api,
  CoreV1Api,
  DiscoveryV1Api,
  type KubeConfig,
  type KubernetesObject,
  type V1Deployment,
  type V1EndpointSlice,
  type V1Pod,
  type V1ReplicaSet,
  type V1Service,
} from '@kubernetes/client-node';
import type { ResourceInformer } from '../../k8s/index.js';
import { errorMessage, type Logger } from '../../logger/index.js';

export interface GarbageCollectorOptions {
  kc: KubeConfig;
  logger: Logger;
  deployments: ResourceInformer<V1Deployment>;
  replicasets: ResourceInformer<V1ReplicaSet>;
  pods: ResourceInformer<V1Pod>;
  services: ResourceInformer<V1Service>;
  endpointslices: ResourceInformer<V1EndpointSlice>;
  /** Full sweep period (also catches what events missed; default 10 s). */
  sweepMs?: number;
}

export class GarbageCollector {
  private readonly apps: AppsV1Api;
  private readonly core: CoreV1Api;
  private readonly discovery: DiscoveryV1Api;
  private readonly log: Logger;
  private timer?: NodeJS.Timeout;
  private pending?: NodeJS.Timeout;
  private running = Promise.resolve();
  private stopped = false;

  constructor(private readonly o: GarbageCollectorOptions) {
    this.apps = o.kc.makeApiClient(AppsV1Api);
    this.core = o.kc.makeApiClient(CoreV1Api);
    this.discovery = o.kc.makeApiClient(DiscoveryV1Api);
    this.log = o.logger.child({ component: 'garbage-collector' });
  }

  start(): void {
    // An owner's deletion triggers a sweep soon after (its dependents are in the caches already).
    for (const inf of [
      this.o.deployments,
      this.o.replicasets,
      this.o.services,
    ] as ResourceInformer<KubernetesObject>[]) {
      inf.on('delete', () => this.soon());
    }
    this.timer = setInterval(() => this.soon(), this.o.sweepMs ?? 10_000);
    this.timer.unref();
    this.soon();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    clearTimeout(this.pending);
    await this.running;
  }

  private soon(): void {
    if (this.pending || this.stopped) return;
    this.pending = setTimeout(() => {
      this.pending = undefined;
      this.running = this.running
        .then(() => this.sweep())
        .catch((e: unknown) =>
          this.log.warn('garbage collection failed; retrying at the next sweep', { error: errorMessage(e) }),
        );
    }, 50);
  }

  /** Does the owner this reference names exist (same uid)? undefined: a kind we do not watch. */
  private ownerExists(
    namespace: string | undefined,
    ref: { kind: string; name: string; uid: string; apiVersion: string },
  ) {
    const inf: ResourceInformer<KubernetesObject> | undefined =
      ref.kind === 'Deployment' && ref.apiVersion === 'apps/v1'
        ? this.o.deployments
        : ref.kind === 'ReplicaSet' && ref.apiVersion === 'apps/v1'
          ? this.o.replicasets
          : ref.kind === 'Service' && ref.apiVersion === 'v1'
            ? this.o.services
            : undefined;
    if (!inf) return undefined;
    return inf.get(ref.name, namespace)?.metadata?.uid === ref.uid;
  }

  private garbage(o: KubernetesObject): boolean {
    const refs = o.metadata?.ownerReferences ?? [];
    if (refs.length === 0) return false;
    // Deleted only when every owner it names is known to be gone.
    return refs.every((r) => this.ownerExists(o.metadata?.namespace, r) === false);
  }

  private async sweep(): Promise<void> {
    if (this.stopped) return;
    const del = async (what: string, o: KubernetesObject, f: () => Promise<unknown>): Promise<void> => {
      try {
        await f();
        this.log.info('deleted a dependent whose owner is gone', {
          object: `${what} ${o.metadata?.namespace}/${o.metadata?.name}`,
        });
      } catch (e) {
        if ((e as { code?: number }).code !== 404) throw e;
      }
    };
    for (const rs of this.o.replicasets.list().filter((x) => this.garbage(x))) {
      const { name, namespace } = rs.metadata as { name: string; namespace: string };
      await del('ReplicaSet', rs, () =>
        this.apps.deleteNamespacedReplicaSet({ name, namespace, propagationPolicy: 'Background' }),
      );
    }
    for (const p of this.o.pods.list().filter((x) => this.garbage(x))) {
      const { name, namespace } = p.metadata as { name: string; namespace: string };
      await del('Pod', p, () => this.core.deleteNamespacedPod({ name, namespace }));
    }
    for (const s of this.o.endpointslices.list().filter((x) => this.garbage(x))) {
      const { name, namespace } = s.metadata as { name: string; namespace: string };
      await del('EndpointSlice', s, () => this.discovery.deleteNamespacedEndpointSlice({ name, namespace }));
    }
  }
}
