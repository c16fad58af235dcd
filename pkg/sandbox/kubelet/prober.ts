/**
 * Kubelet's probe workers for one container: startup gates liveness and readiness; each worker
 * probes every periodSeconds after initialDelaySeconds and turns consecutive results into a state
 * with successThreshold / failureThreshold, exactly as kubelet counts them.
 */
import type { V1Probe } from '@kubernetes/client-node';
import type { ProbeType } from '../../constants/index.js';
import type { ProbeResult } from './probe-exec.js';

export interface ProberEvents {
  /** One failed probe attempt (kubelet emits an Unhealthy event for each). */
  onProbeFailed(type: ProbeType, message: string): void;
  /** A successful attempt with a warning (kubelet emits a ProbeWarning event for each). */
  onProbeWarning?(type: ProbeType, message: string): void;
  /** Liveness or startup reached failureThreshold: the container must be restarted. */
  onKill(type: 'liveness' | 'startup'): void;
  /** Readiness changed (and `started` for the startup probe). */
  onStatus(status: { ready: boolean; started: boolean }): void;
}

export interface ContainerProbeSpec {
  startupProbe?: V1Probe;
  livenessProbe?: V1Probe;
  readinessProbe?: V1Probe;
}

export type RunProbe = (type: ProbeType, probe: V1Probe) => Promise<ProbeResult>;

interface Worker {
  type: ProbeType;
  probe: V1Probe;
  timer?: NodeJS.Timeout;
  successes: number;
  failures: number;
}

/** Kubernetes defaults for unset probe fields. */
export function probeTiming(p: V1Probe): {
  initialMs: number;
  periodMs: number;
  success: number;
  failure: number;
} {
  return {
    initialMs: Math.max(0, p.initialDelaySeconds ?? 0) * 1000,
    periodMs: Math.max(1, p.periodSeconds ?? 10) * 1000,
    success: Math.max(1, p.successThreshold ?? 1),
    failure: Math.max(1, p.failureThreshold ?? 3),
  };
}

export class ContainerProber {
  private workers: Worker[] = [];
  private started: boolean;
  private ready: boolean;
  private stopped = true;

  constructor(
    private readonly spec: ContainerProbeSpec,
    private readonly run: RunProbe,
    private readonly events: ProberEvents,
  ) {
    this.started = !spec.startupProbe;
    // No readiness probe → ready once started; with one → not ready until it succeeds.
    this.ready = this.started && !spec.readinessProbe;
  }

  get status(): { ready: boolean; started: boolean } {
    return { ready: this.ready, started: this.started };
  }

  /** Starts probing a freshly started container (also after each restart). */
  start(): void {
    this.stop();
    this.stopped = false;
    this.started = !this.spec.startupProbe;
    this.ready = this.started && !this.spec.readinessProbe;
    this.events.onStatus(this.status);
    if (this.spec.startupProbe) this.spawn('startup', this.spec.startupProbe);
    else this.spawnAfterStartup();
  }

  stop(): void {
    this.stopped = true;
    for (const w of this.workers) clearTimeout(w.timer);
    this.workers = [];
  }

  private spawnAfterStartup(): void {
    if (this.spec.livenessProbe) this.spawn('liveness', this.spec.livenessProbe);
    if (this.spec.readinessProbe) this.spawn('readiness', this.spec.readinessProbe);
  }

  private spawn(type: ProbeType, probe: V1Probe): void {
    const w: Worker = { type, probe, successes: 0, failures: 0 };
    this.workers.push(w);
    const t = probeTiming(probe);
    const tick = async (): Promise<void> => {
      if (this.stopped || !this.workers.includes(w)) return;
      const result = await this.run(type, probe);
      if (this.stopped || !this.workers.includes(w)) return;
      this.record(w, result, t.success, t.failure);
      if (!this.stopped && this.workers.includes(w)) w.timer = setTimeout(() => void tick(), t.periodMs);
    };
    w.timer = setTimeout(() => void tick(), t.initialMs);
  }

  private record(w: Worker, result: ProbeResult, successThreshold: number, failureThreshold: number): void {
    if (result.ok) {
      w.successes++;
      w.failures = 0;
      if (result.warning !== undefined) this.events.onProbeWarning?.(w.type, result.warning);
    } else {
      w.failures++;
      w.successes = 0;
      this.events.onProbeFailed(w.type, result.message);
    }
    switch (w.type) {
      case 'startup':
        if (w.successes >= successThreshold) {
          // Startup succeeded: it stops, liveness and readiness begin.
          this.workers = this.workers.filter((x) => x !== w);
          this.started = true;
          this.ready = !this.spec.readinessProbe;
          this.events.onStatus(this.status);
          this.spawnAfterStartup();
        } else if (w.failures >= failureThreshold) {
          this.stop();
          this.events.onKill('startup');
        }
        return;
      case 'liveness':
        if (w.failures >= failureThreshold) {
          this.stop();
          this.events.onKill('liveness');
        }
        return;
      case 'readiness': {
        const ready =
          w.successes >= successThreshold ? true : w.failures >= failureThreshold ? false : this.ready;
        if (ready !== this.ready) {
          this.ready = ready;
          this.events.onStatus(this.status);
        }
        return;
      }
    }
  }
}
