/**
 * Pod events as kubelet records them (core/v1 Event, source kubelet): repeated events are
 * aggregated into one object whose count and lastTimestamp grow, as `kubectl describe` shows them
 * ("x3 over 10s").
 */
import type { CoreV1Api } from '@kubernetes/client-node';
import { PatchStrategy, setHeaderOptions, type CoreV1Event, type V1Pod } from '@kubernetes/client-node';
import { errorMessage, type Logger } from '../../logger/index.js';

export interface PodEvent {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
  /** Container name → fieldPath spec.containers{name}. */
  container?: string;
  /** Reporting component (default kubelet; the Scheduled event comes from default-scheduler). */
  source?: string;
}

export class EventRecorder {
  private readonly seen = new Map<string, { name: string; namespace: string; count: number }>();
  private seq = 0;

  constructor(
    private readonly core: CoreV1Api,
    private readonly nodeName: string,
    private readonly logger: Logger,
  ) {}

  async record(pod: V1Pod, ev: PodEvent): Promise<void> {
    const md = pod.metadata ?? {};
    const namespace = md.namespace ?? 'default';
    const fieldPath = ev.container ? `spec.containers{${ev.container}}` : undefined;
    const key = [md.uid, ev.reason, ev.message, fieldPath ?? ''].join('\u0000');
    const now = new Date();
    const prior = this.seen.get(key);
    try {
      if (prior) {
        prior.count++;
        await this.core.patchNamespacedEvent(
          {
            name: prior.name,
            namespace,
            body: { count: prior.count, lastTimestamp: now.toISOString() },
          },
          setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
        );
        return;
      }
      const name = `${md.name}.${Date.now().toString(16)}${(this.seq++).toString(16).padStart(4, '0')}`;
      const body: CoreV1Event = {
        metadata: { name, namespace },
        involvedObject: {
          apiVersion: 'v1',
          kind: 'Pod',
          name: md.name,
          namespace,
          uid: md.uid,
          ...(fieldPath ? { fieldPath } : {}),
        },
        reason: ev.reason,
        message: ev.message,
        type: ev.type,
        count: 1,
        firstTimestamp: now,
        lastTimestamp: now,
        source: ev.source ? { component: ev.source } : { component: 'kubelet', host: this.nodeName },
        reportingComponent: ev.source ?? 'kubelet',
        reportingInstance: this.nodeName,
      };
      await this.core.createNamespacedEvent({ namespace, body });
      this.seen.set(key, { name, namespace, count: 1 });
    } catch (err) {
      // Events are best effort, as kubelet's: never let one stop the pod's lifecycle.
      this.logger.debug('cannot record event', {
        pod: `${namespace}/${md.name}`,
        reason: ev.reason,
        error: errorMessage(err),
      });
    }
  }

  /** Forgets a deleted pod's aggregation keys. */
  forget(uid: string | undefined): void {
    for (const k of this.seen.keys()) if (k.startsWith(`${uid}\u0000`)) this.seen.delete(k);
  }
}
