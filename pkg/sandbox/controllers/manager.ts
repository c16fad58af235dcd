/**
 * The sandbox's kube-controller-manager stand-in: shared informers over the API server (the
 * project's resilient informers, as a real controller manager's), and the Deployment, ReplicaSet,
 * EndpointSlice and garbage-collector controllers on them.
 */
import type {
  KubeConfig,
  V1Deployment,
  V1EndpointSlice,
  V1Pod,
  V1ReplicaSet,
  V1Service,
} from '@kubernetes/client-node';
import { collectionInformer, podInformer, type ResourceInformer } from '../../k8s/index.js';
import type { Logger } from '../../logger/index.js';
import { DeploymentController } from './deployment.js';
import { EndpointSliceController } from './endpointslice.js';
import { GarbageCollector } from './gc.js';
import { ReplicaSetController } from './replicaset.js';

export interface ControllerInformers {
  deployments: ResourceInformer<V1Deployment>;
  replicasets: ResourceInformer<V1ReplicaSet>;
  pods: ResourceInformer<V1Pod>;
  services: ResourceInformer<V1Service>;
  endpointslices: ResourceInformer<V1EndpointSlice>;
}

export class ControllerManager {
  readonly informers: ControllerInformers;
  private readonly controllers: { start(): void; stop(): Promise<void> }[];

  constructor(kc: KubeConfig, logger: Logger) {
    const log = logger.child({ component: 'controller-manager' });
    this.informers = {
      deployments: collectionInformer<V1Deployment>(kc, log, '/apis/apps/v1/deployments', 'deployments'),
      replicasets: collectionInformer<V1ReplicaSet>(kc, log, '/apis/apps/v1/replicasets', 'replicasets'),
      pods: podInformer(kc, log),
      services: collectionInformer<V1Service>(kc, log, '/api/v1/services', 'services'),
      endpointslices: collectionInformer<V1EndpointSlice>(
        kc,
        log,
        '/apis/discovery.k8s.io/v1/endpointslices',
        'endpointslices',
      ),
    };
    const i = this.informers;
    this.controllers = [
      new DeploymentController({ kc, logger: log, deployments: i.deployments, replicasets: i.replicasets }),
      new ReplicaSetController({ kc, logger: log, replicasets: i.replicasets, pods: i.pods }),
      new EndpointSliceController({
        kc,
        logger: log,
        services: i.services,
        pods: i.pods,
        endpointslices: i.endpointslices,
      }),
      new GarbageCollector({ kc, logger: log, ...i }),
    ];
  }

  /** Resolves once every informer has synced and the controllers run. */
  async start(): Promise<void> {
    const all = Object.values(this.informers) as ResourceInformer<unknown & object>[];
    for (const inf of all) void inf.start();
    await Promise.all(all.map((inf) => inf.waitForSync()));
    for (const c of this.controllers) c.start();
  }

  async stop(): Promise<void> {
    await Promise.all(this.controllers.map((c) => c.stop()));
    await Promise.all(Object.values(this.informers).map((inf: ResourceInformer<object>) => inf.stop()));
  }
}
