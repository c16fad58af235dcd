/**
 * Events of the sandbox's controllers, as kube-controller-manager records them (source component
 * deployment-controller, replicaset-controller, ...): `kubectl describe deployment` shows them.
 */
import { CoreV1Api, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import { errorMessage, type Logger } from '../../logger/index.js';

export class ControllerEvents {
  private readonly core: CoreV1Api;
  private seq = 0;

  constructor(
    kc: KubeConfig,
    private readonly component: string,
    private readonly logger: Logger,
  ) {
    this.core = kc.makeApiClient(CoreV1Api);
  }

  /** Best effort: a failed event never stops a reconcile. */
  async record(
    o: KubernetesObject,
    kind: string,
    type: 'Normal' | 'Warning',
    reason: string,
    message: string,
  ): Promise<void> {
    const namespace = o.metadata?.namespace ?? 'default';
    const now = new Date();
    try {
      await this.core.createNamespacedEvent({
        namespace,
        body: {
          metadata: {
            name: `${o.metadata?.name}.${Date.now().toString(16)}${(this.seq++ % 0x10000).toString(16).padStart(4, '0')}`,
            namespace,
          },
          involvedObject: {
            apiVersion: o.apiVersion,
            kind,
            name: o.metadata?.name,
            namespace,
            uid: o.metadata?.uid,
          },
          reason,
          message,
          type,
          count: 1,
          firstTimestamp: now,
          lastTimestamp: now,
          source: { component: this.component },
          reportingComponent: this.component,
        },
      });
    } catch (e) {
      this.logger.debug('cannot record event', { reason, error: errorMessage(e) });
    }
  }
}
