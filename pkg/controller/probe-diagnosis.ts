/**
 * The root cause of a failed probe, where the operator looks. Kubelet only records "HTTP probe failed
 * with statuscode: 503"; the proxy and fsm-healthcheck know why. When kubelet reports a rewritten
 * probe failing (its Unhealthy event), the controller calls the same rewritten endpoint on the pod as
 * kubelet does, reads the cause from the answer (pkg/probes diagnoseProbeAnswer: Envoy's local reply,
 * fsm-healthcheck's body, or the app's own status) and records a Warning Event on the pod, reason
 * ProbeTargetFailed, naming the cause with the original port and path. `kubectl describe pod` shows
 * it next to kubelet's Unhealthy event; `fsm check probes` shows it with the probe events.
 *
 * Limits (by design):
 * - the diagnosis is a second call, moments after kubelet's: a failure that cleared in between
 *   records nothing (it is counted as `passes`), and a liveness failure may already show the
 *   container restarting (connection refused);
 * - the controller must reach the pod IP on 15901-15904 as kubelet does (a NetworkPolicy that admits
 *   only the node must admit the controller too); unreachable → nothing recorded, logged;
 * - at most one diagnosis per pod, container and probe per interval (and a bounded number at once),
 *   so a flapping probe gives one event per interval, aggregated by count.
 */
import { CoreV1Api, type CoreV1Event, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { Counter, type Registry } from 'prom-client';
import {
  CONTROLLER_EVENT_SOURCE,
  DEFAULT_PROBE_DIAGNOSIS_INTERVAL_MS,
  ORIGINAL_PROBES_ANNOTATION,
  PROBE_DIAGNOSES_METRIC,
  PROBE_TARGET_FAILED_REASON,
  PROBE_UNHEALTHY_REASON,
} from '../constants/index.js';
import { collectionInformer, PodEventRecorder, type ResourceInformer } from '../k8s/index.js';
import { errorMessage, type Logger } from '../logger/index.js';
import {
  diagnoseProbeAnswer,
  parseOriginalProbes,
  probeFailureMessage,
  rewrittenHttpGet,
  type ProbeAnswer,
  type RewrittenHttpGet,
} from '../probes/index.js';
import { callProbe } from './probe-call.js';
import { failedProbeOf, type FailedProbe } from './unhealthy-event.js';

/** Diagnoses running at once; more are skipped (each is one HTTP call bounded by the probe timeout). */
const MAX_IN_FLIGHT = 32;

export type DiagnosisOutcome =
  'recorded' | 'passes' | 'rate-limited' | 'stale' | 'not-rewritten' | 'no-pod' | 'busy';

export interface ProbeDiagnoserOptions {
  kubeConfig: KubeConfig;
  pods: ResourceInformer<V1Pod>;
  /** Pods of these namespaces only (the mesh's). */
  isMeshNamespace: (namespace: string) => boolean;
  logger: Logger;
  registry: Registry;
  /** At most one diagnosis per pod, container and probe in this window (default 60 s). */
  intervalMs?: number;
  /** Unhealthy events last seen longer ago than this are history, not diagnosed (default 2 intervals). */
  maxEventAgeMs?: number;
  /** Reporting instance of the events (the controller's pod name). */
  instance?: string;
  /** The call to the rewritten endpoint (tests may replace it). */
  call?: (podIP: string, call: RewrittenHttpGet, timeoutSeconds: number) => Promise<ProbeAnswer>;
  now?: () => number;
}

export class ProbeDiagnoser {
  private readonly events: ResourceInformer<CoreV1Event>;
  private readonly writer: PodEventRecorder;
  private readonly last = new Map<string, number>();
  private readonly diagnoses: Counter<'cause'>;
  private readonly intervalMs: number;
  private readonly maxAgeMs: number;
  private readonly now: () => number;
  private readonly log: Logger;
  private inFlight = 0;
  private readonly running = new Set<Promise<unknown>>();

  constructor(private readonly opts: ProbeDiagnoserOptions) {
    this.log = opts.logger.child({ component: 'probe-diagnosis' });
    this.intervalMs = opts.intervalMs ?? DEFAULT_PROBE_DIAGNOSIS_INTERVAL_MS;
    this.maxAgeMs = opts.maxEventAgeMs ?? 2 * this.intervalMs;
    this.now = opts.now ?? Date.now;
    // Only kubelet's Unhealthy events: the API server filters them (events support a reason selector).
    this.events = collectionInformer<CoreV1Event>(
      opts.kubeConfig,
      opts.logger,
      '/api/v1/events',
      'events(Unhealthy)',
      {
        fieldSelector: `reason=${PROBE_UNHEALTHY_REASON}`,
      },
    );
    this.writer = new PodEventRecorder({
      core: opts.kubeConfig.makeApiClient(CoreV1Api),
      component: CONTROLLER_EVENT_SOURCE,
      instance: opts.instance ?? 'fsm-controller',
      logger: this.log,
    });
    this.diagnoses = new Counter({
      name: PROBE_DIAGNOSES_METRIC,
      help: 'Diagnoses of failed rewritten probes, by cause (passes: the probe answered again)',
      labelNames: ['cause'],
      registers: [opts.registry],
    });
  }

  start(): void {
    const onEvent = (e: CoreV1Event): void => {
      const failed = failedProbeOf(e);
      if (!failed) return;
      const p = this.diagnose(failed).catch((err: unknown) =>
        this.log.warn('probe diagnosis failed', {
          pod: `${failed.namespace}/${failed.pod}`,
          error: errorMessage(err),
        }),
      );
      this.running.add(p);
      void p.finally(() => this.running.delete(p));
    };
    this.events.on('add', onEvent);
    this.events.on('update', onEvent);
    this.events
      .start()
      .catch((err: unknown) => this.log.debug('events informer ended', { error: errorMessage(err) }));
  }

  async stop(): Promise<void> {
    await this.events.stop();
    await Promise.all([...this.running]);
  }

  /** Diagnoses one failed probe kubelet reported (rate-limited); what was done. */
  async diagnose(f: FailedProbe): Promise<DiagnosisOutcome> {
    const now = this.now();
    if (f.at !== undefined && now - f.at > this.maxAgeMs) return 'stale';
    if (!this.opts.isMeshNamespace(f.namespace)) return 'no-pod';
    const pod = this.opts.pods.get(f.pod, f.namespace);
    if (!pod || pod.metadata?.deletionTimestamp || (f.podUid && pod.metadata?.uid !== f.podUid))
      return 'no-pod';
    const ref = `${f.namespace}/${f.pod}`;
    const record = parseOriginalProbes(pod.metadata?.annotations?.[ORIGINAL_PROBES_ANNOTATION], ref);
    const probe = record.status === 'valid' ? record.containers[f.container]?.[f.type] : undefined;
    // Not rewritten by fsm: kubelet's own message is the whole story.
    if (!probe) return 'not-rewritten';
    const podIP = pod.status?.podIP;
    if (!podIP) return 'no-pod';
    const key = `${pod.metadata?.uid ?? ref}/${f.container}/${f.type}`;
    const last = this.last.get(key);
    if (last !== undefined && now - last < this.intervalMs) return 'rate-limited';
    if (this.inFlight >= MAX_IN_FLIGHT) return 'busy';
    this.last.set(key, now);
    this.forgetOld(now);
    this.inFlight++;
    let answer: ProbeAnswer;
    try {
      answer = await (this.opts.call ?? callProbe)(podIP, rewrittenHttpGet(probe), probe.timeoutSeconds);
    } finally {
      this.inFlight--;
    }
    const failure = diagnoseProbeAnswer(probe, answer);
    if (!failure) {
      this.diagnoses.inc({ cause: 'passes' });
      this.log.debug('failed probe answers again: nothing to record', {
        pod: ref,
        container: f.container,
        probe: f.type,
      });
      return 'passes';
    }
    this.diagnoses.inc({ cause: failure.cause });
    const message = probeFailureMessage(f.type, f.container, probe, failure);
    this.log.info('probe target failed', {
      pod: ref,
      container: f.container,
      probe: f.type,
      cause: failure.cause,
      message,
    });
    await this.writer.record(pod, {
      type: 'Warning',
      reason: PROBE_TARGET_FAILED_REASON,
      message,
      container: f.container,
    });
    return 'recorded';
  }

  /** Rate-limit entries older than the window are of no use. */
  private forgetOld(now: number): void {
    if (this.last.size < 10_000) return;
    for (const [k, t] of this.last) if (now - t >= this.intervalMs) this.last.delete(k);
  }
}
