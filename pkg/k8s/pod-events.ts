/**
 * Events recorded on pods (core/v1 Event), aggregated as client-go's event recorder and kubelet
 * aggregate them: the same reason and message on the same pod and container again raise the count
 * and lastTimestamp of one Event, which `kubectl describe pod` shows as "(x3 over 5m)". Best effort:
 * a failure to write is logged, never thrown, so an event never stops the work that records it.
 * fsm-controller records ProbeTargetFailed with it; the sandbox's kubelet records kubelet's events.
 */
import {
  PatchStrategy,
  setHeaderOptions,
  type CoreV1Api,
  type CoreV1Event,
  type V1Pod,
} from '@kubernetes/client-node';
import { errorMessage, type Logger } from '../logger/index.js';

export interface PodEvent {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
  /** Container name → involvedObject.fieldPath spec.containers{name}. */
  container?: string;
  /** Reporting component of this event when it is not the recorder's (e.g. default-scheduler). */
  source?: string;
}

export interface PodEventRecorderOptions {
  core: CoreV1Api;
  /** source.component and reportingComponent (e.g. kubelet, fsm-controller). */
  component: string;
  /** source.host (kubelet names its node). */
  host?: string;
  /** reportingInstance. */
  instance: string;
  logger: Logger;
  /** Aggregation keys kept, the oldest forgotten first (default 10,000). */
  kept?: number;
}

export class PodEventRecorder {
  private readonly seen = new Map<string, { name: string; count: number }>();
  private seq = 0;

  constructor(private readonly opts: PodEventRecorderOptions) {}

  async record(pod: V1Pod, ev: PodEvent, now = new Date()): Promise<void> {
    const md = pod.metadata ?? {};
    const namespace = md.namespace ?? 'default';
    const fieldPath = ev.container ? `spec.containers{${ev.container}}` : undefined;
    const key = [md.uid, ev.reason, ev.message, fieldPath ?? ''].join('\u0000');
    const prior = this.seen.get(key);
    if (prior) {
      try {
        await this.opts.core.patchNamespacedEvent(
          { name: prior.name, namespace, body: { count: prior.count + 1, lastTimestamp: now.toISOString() } },
          setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
        );
        prior.count++;
        return;
      } catch (err) {
        // Expired or deleted (events live an hour): a new one is created below.
        this.opts.logger.debug('cannot update event; creating a new one', {
          event: prior.name,
          error: errorMessage(err),
        });
        this.seen.delete(key);
      }
    }
    try {
      const name = `${md.name}.${now.getTime().toString(16)}${(this.seq++ % 0x10000).toString(16).padStart(4, '0')}`;
      const component = ev.source ?? this.opts.component;
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
        source: ev.source || !this.opts.host ? { component } : { component, host: this.opts.host },
        reportingComponent: component,
        reportingInstance: this.opts.instance,
      };
      await this.opts.core.createNamespacedEvent({ namespace, body });
      if (this.seen.size >= (this.opts.kept ?? 10_000)) this.seen.delete(this.seen.keys().next().value!);
      this.seen.set(key, { name, count: 1 });
    } catch (err) {
      this.opts.logger.debug('cannot record event', {
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
