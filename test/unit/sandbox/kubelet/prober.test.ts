import { jest } from '@jest/globals';
import type { V1Probe } from '@kubernetes/client-node';
import {
  ContainerProber,
  probeTiming,
  type ContainerProbeSpec,
} from '../../../../pkg/sandbox/kubelet/prober.js';
import type { ProbeResult } from '../../../../pkg/sandbox/kubelet/probe-exec.js';
import type { ProbeType } from '../../../../pkg/constants/index.js';

type Script = Partial<Record<ProbeType, boolean[]>>;

/** A prober whose probe results come from a script (true = success); records every event. */
function harness(spec: ContainerProbeSpec, script: Script) {
  const calls: ProbeType[] = [];
  const log: string[] = [];
  const run = async (type: ProbeType): Promise<ProbeResult> => {
    calls.push(type);
    const next = script[type]?.shift() ?? true;
    return next ? { ok: true } : { ok: false, message: `${type} says no` };
  };
  const prober = new ContainerProber(spec, run, {
    onProbeFailed: (t, m) => log.push(`failed ${t}: ${m}`),
    onKill: (t) => log.push(`kill ${t}`),
    onStatus: (s) => log.push(`status ready=${s.ready} started=${s.started}`),
  });
  return { prober, calls, log };
}

const p = (fields: Partial<V1Probe> = {}): V1Probe => ({
  periodSeconds: 1,
  httpGet: { port: 80 },
  ...fields,
});

describe('probeTiming (Kubernetes defaults)', () => {
  it.each<[V1Probe, ReturnType<typeof probeTiming>]>([
    [{}, { initialMs: 0, periodMs: 10000, success: 1, failure: 3 }],
    [
      { initialDelaySeconds: 5, periodSeconds: 2, successThreshold: 2, failureThreshold: 1 },
      { initialMs: 5000, periodMs: 2000, success: 2, failure: 1 },
    ],
    [
      { periodSeconds: 0, failureThreshold: 0 },
      { initialMs: 0, periodMs: 1000, success: 1, failure: 1 },
    ],
  ])('%j', (probe, want) => expect(probeTiming(probe)).toEqual(want));
});

describe('ContainerProber', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('readiness: not ready until a success, not ready again after failureThreshold failures', async () => {
    const h = harness({ readinessProbe: p() }, { readiness: [true, false, false, false, true] });
    h.prober.start();
    expect(h.prober.status).toEqual({ ready: false, started: true });
    await jest.advanceTimersByTimeAsync(1);
    expect(h.prober.status.ready).toBe(true);
    await jest.advanceTimersByTimeAsync(2000);
    expect(h.prober.status.ready).toBe(true); // two failures < 3
    await jest.advanceTimersByTimeAsync(1000);
    expect(h.prober.status.ready).toBe(false);
    await jest.advanceTimersByTimeAsync(1000);
    expect(h.prober.status.ready).toBe(true);
    expect(h.log.filter((l) => l.startsWith('failed'))).toEqual([
      'failed readiness: readiness says no',
      'failed readiness: readiness says no',
      'failed readiness: readiness says no',
    ]);
    h.prober.stop();
  });

  it('no readiness probe: ready as soon as started', () => {
    const h = harness({ livenessProbe: p() }, {});
    h.prober.start();
    expect(h.prober.status).toEqual({ ready: true, started: true });
    h.prober.stop();
  });

  it('liveness: kill after failureThreshold consecutive failures, and stop probing', async () => {
    const h = harness(
      { livenessProbe: p({ failureThreshold: 2 }) },
      { liveness: [false, true, false, false] },
    );
    h.prober.start();
    await jest.advanceTimersByTimeAsync(3500);
    expect(h.log).toContain('kill liveness');
    const probesAtKill = h.calls.length;
    expect(probesAtKill).toBe(4);
    await jest.advanceTimersByTimeAsync(5000);
    expect(h.calls.length).toBe(probesAtKill);
  });

  it('startup gates liveness and readiness until it succeeds', async () => {
    const h = harness(
      { startupProbe: p({ failureThreshold: 5 }), livenessProbe: p(), readinessProbe: p() },
      { startup: [false, false, true] },
    );
    h.prober.start();
    expect(h.prober.status).toEqual({ ready: false, started: false });
    await jest.advanceTimersByTimeAsync(1500);
    expect(h.calls).toEqual(['startup', 'startup']);
    await jest.advanceTimersByTimeAsync(1000);
    expect(h.prober.status.started).toBe(true);
    await jest.advanceTimersByTimeAsync(1);
    expect(h.calls.slice(3).sort()).toEqual(['liveness', 'readiness']);
    expect(h.prober.status).toEqual({ ready: true, started: true });
    h.prober.stop();
  });

  it('startup: kill after failureThreshold failures; liveness never ran', async () => {
    const h = harness(
      { startupProbe: p({ failureThreshold: 3 }), livenessProbe: p() },
      { startup: [false, false, false] },
    );
    h.prober.start();
    await jest.advanceTimersByTimeAsync(5000);
    expect(h.log).toContain('kill startup');
    expect(h.calls).toEqual(['startup', 'startup', 'startup']);
  });

  it('honours initialDelaySeconds and successThreshold', async () => {
    const h = harness({ readinessProbe: p({ initialDelaySeconds: 3, successThreshold: 2 }) }, {});
    h.prober.start();
    await jest.advanceTimersByTimeAsync(2999);
    expect(h.calls).toHaveLength(0);
    await jest.advanceTimersByTimeAsync(1);
    expect(h.calls).toHaveLength(1);
    expect(h.prober.status.ready).toBe(false);
    await jest.advanceTimersByTimeAsync(1000);
    expect(h.prober.status.ready).toBe(true);
    h.prober.stop();
  });

  it('start() after a kill begins again from a clean state', async () => {
    const h = harness({ livenessProbe: p({ failureThreshold: 1 }) }, { liveness: [false, true] });
    h.prober.start();
    await jest.advanceTimersByTimeAsync(1);
    expect(h.log).toContain('kill liveness');
    h.prober.start();
    await jest.advanceTimersByTimeAsync(1);
    expect(h.log.filter((l) => l === 'kill liveness')).toHaveLength(1);
    h.prober.stop();
  });
});
