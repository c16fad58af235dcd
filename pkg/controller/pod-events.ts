/**
 * Events fsm-controller records on pods (core/v1 Event, source fsm-controller), aggregated as
 * kubelet's are: the same reason and message on the same pod and container again raise the count
 * and lastTimestamp of one Event, which `kubectl describe pod` shows as "(x3 over 5m)". Best effort:
 * a failure to write is logged, never thrown.
 */
import {
  CoreV1Api,
  PatchStrategy,
  setHeaderOptions,
  type CoreV1Event,
  type KubeConfig,
  type V1Pod,
} from '@kubernetes/client-node';
import { CONTROLLER_EVENT_SOURCE } from '../constants/index.js';
import { errorMessage, type Logger } from '../logger/index.js';

export interface PodEvent {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
  /** Container name → involvedObject.fieldPath spec.containers{name}. */
  container?: string;
}

/** Aggregation keys kept (the oldest forgotten first). */
const KEPT = 10_000;

export class PodEventWriter {
  private readonly core: CoreV1Api;
  private readonly seen = new Map<string, { name: string; count: number }>();
  private seq = 0;

  constructor(
    kc: KubeConfig,
    private readonly logger: Logger,
    private readonly instance: string,
  ) {
    this.core = kc.makeApiClient(CoreV1Api);
  }

  async record(pod: V1Pod, ev: PodEvent, now = new Date()): Promise<void> {
    const md = pod.metadata ?? {};
    const namespace = md.namespace ?? 'default';
    const fieldPath = ev.container ? `spec.containers{${ev.container}}` : undefined;
    const key = [md.uid, ev.reason, ev.message, fieldPath ?? ''].join('\u0000');
    const prior = this.seen.get(key);
    if (prior) {
      try {
        await this.core.patchNamespacedEvent(
          { name: prior.name, namespace, body: { count: prior.count + 1, lastTimestamp: now.toISOString() } },
          setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
        );
        prior.count++;
        return;
      } catch (err) {
        // Expired or deleted (events live an hour): a new one is created below.
        this.logger.debug('cannot update event; creating a new one', {
          event: prior.name,
          error: errorMessage(err),
        });
        this.seen.delete(key);
      }
    }
    try {
      const name = `${md.name}.${now.getTime().toString(16)}${(this.seq++ % 0x10000).toString(16).padStart(4, '0')}`;
      const body: CoreV1Event = {
        metadata: { name, namespace },
        involvedObject: {
          apiVersion: 'v1',
          kind: 'Pod',
          name: md.name,
          namespace,
          ...(md.uid ? { uid: md.uid } : {}),
          ...(fieldPath ? { fieldPath } : {}),
        },
        reason: ev.reason,
        message: ev.message,
        type: ev.type,
        count: 1,
        firstTimestamp: now,
        lastTimestamp: now,
        source: { component: CONTROLLER_EVENT_SOURCE },
        reportingComponent: CONTROLLER_EVENT_SOURCE,
        reportingInstance: this.instance,
      };
      await this.core.createNamespacedEvent({ namespace, body });
      if (this.seen.size >= KEPT) this.seen.delete(this.seen.keys().next().value!);
      this.seen.set(key, { name, count: 1 });
    } catch (err) {
      this.logger.warn('cannot record event', {
        pod: `${namespace}/${md.name}`,
        reason: ev.reason,
        error: errorMessage(err),
      });
    }
  }
}
