/** The pod status the sandbox's kubelet writes, from what it keeps of a pod: a table. */
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import type { ContainerRuntime, PodRuntime } from '../../../../pkg/sandbox/kubelet/pod-runtime.js';
import { podStatus } from '../../../../pkg/sandbox/kubelet/pod-status.js';

const T0 = new Date('2026-11-29T12:00:00Z');
const NOW = new Date('2026-11-29T12:00:05Z');

function container(name: string, over: Partial<ContainerRuntime> = {}): [string, ContainerRuntime] {
  const spec: V1Container = { name, image: `img/${name}` };
  return [name, { spec, restartCount: 0, ready: false, started: false, ...over }];
}

function runtime(over: Partial<PodRuntime>, pod: V1Pod = { spec: { containers: [] } }): PodRuntime {
  return {
    key: 'ns/p',
    uid: 'u1',
    ip: '127.0.1.7',
    pod,
    containers: new Map(),
    dir: '/tmp/x',
    volumes: new Map(),
    startTime: T0,
    stopped: false,
    initialized: true,
    initDone: new Set(),
    ...over,
  };
}

const cond = (rt: PodRuntime, type: string) =>
  podStatus(rt, NOW).conditions?.find((c) => c.type === type)?.status;

describe('podStatus', () => {
  test.each([
    [
      'not initialized: Pending, Initialized False',
      runtime({ initialized: false }),
      'Pending',
      'False',
      'False',
    ],
    [
      'all containers ready: Running and Ready',
      runtime({ containers: new Map([container('a', { ready: true, started: true, startedAt: T0 })]) }),
      'Running',
      'True',
      'True',
    ],
    [
      'one container not ready: not Ready',
      runtime({
        containers: new Map([
          container('a', { ready: true, startedAt: T0 }),
          container('b', { ready: false, startedAt: T0 }),
        ]),
      }),
      'Running',
      'True',
      'False',
    ],
    [
      'a native sidecar not ready holds Ready',
      runtime({
        containers: new Map([
          container('sidecar', { init: true, ready: false, startedAt: T0 }),
          container('a', { ready: true, startedAt: T0 }),
        ]),
      }),
      'Running',
      'True',
      'False',
    ],
    ['no containers: never Ready', runtime({}), 'Running', 'True', 'False'],
  ])('%s', (_name, rt, phase, initialized, ready) => {
    const s = podStatus(rt, NOW);
    expect(s.phase).toBe(phase);
    expect(cond(rt, 'Initialized')).toBe(initialized);
    expect(cond(rt, 'Ready')).toBe(ready);
    expect(cond(rt, 'ContainersReady')).toBe(ready);
    expect(s.podIP).toBe('127.0.1.7');
    expect(s.conditions?.every((c) => c.lastTransitionTime === NOW)).toBe(true);
  });

  test('container states: waiting before start, running after, the last termination kept', () => {
    const rt = runtime({
      containers: new Map([
        container('new', {}),
        container('run', { startedAt: T0, workload: {} as never }),
        container('crashed', {
          waiting: 'CrashLoopBackOff',
          restartCount: 2,
          lastTermination: { reason: 'Error', exitCode: 137, finishedAt: T0 },
        }),
      ]),
    });
    const byName = new Map(podStatus(rt, NOW).containerStatuses!.map((c) => [c.name, c]));
    expect(byName.get('new')!.state).toEqual({ waiting: { reason: 'ContainerCreating' } });
    expect(byName.get('run')!.state).toEqual({ running: { startedAt: T0 } });
    expect(byName.get('crashed')!.state).toEqual({ waiting: { reason: 'CrashLoopBackOff' } });
    expect(byName.get('crashed')!.lastState).toEqual({
      terminated: { reason: 'Error', exitCode: 137, finishedAt: T0 },
    });
    expect(byName.get('crashed')!.restartCount).toBe(2);
    expect(byName.get('crashed')!.containerID).toBe('sandbox://u1/crashed/2');
  });

  test('init containers: a completed regular one is terminated, a waiting one is PodInitializing, a native sidecar has its own status', () => {
    const pod: V1Pod = {
      spec: {
        initContainers: [
          { name: 'fsm-init', image: 'init' },
          { name: 'setup', image: 'setup' },
          { name: 'sidecar', image: 'envoy', restartPolicy: 'Always' },
        ],
        containers: [],
      },
    };
    const rt = runtime(
      {
        initialized: false,
        initDone: new Set(['fsm-init']),
        containers: new Map([container('sidecar', { init: true, started: true, startedAt: T0 })]),
      },
      pod,
    );
    const [init, setup, sidecar] = podStatus(rt, NOW).initContainerStatuses!;
    expect(init!.state?.terminated?.reason).toBe('Completed');
    expect(init!.ready).toBe(true);
    expect(setup!.state).toEqual({ waiting: { reason: 'PodInitializing' } });
    expect(sidecar!.state).toEqual({ running: { startedAt: T0 } });
    expect(sidecar!.started).toBe(true);
    // Native sidecars are not listed among the app containers.
    expect(podStatus(rt, NOW).containerStatuses).toEqual([]);
  });
});

describe('a failed init container (namespace mode runs fsm-init for real)', () => {
  const pod: V1Pod = { spec: { initContainers: [{ name: 'fsm-init', image: 'init' }], containers: [] } };
  const failed = (count: number) =>
    podStatus(
      runtime(
        { initialized: false, initFailures: new Map([['fsm-init', { exitCode: 2, count, finishedAt: T0 }]]) },
        pod,
      ),
      NOW,
      '10.244.0.1',
    );

  it('after its first failure: terminated with Error, no restart yet', () => {
    const s = failed(1);
    expect(s.hostIP).toBe('10.244.0.1');
    expect(s.initContainerStatuses).toEqual([
      {
        name: 'fsm-init',
        image: 'init',
        imageID: '',
        ready: false,
        restartCount: 0,
        state: { terminated: { exitCode: 2, reason: 'Error', startedAt: T0, finishedAt: T0 } },
      },
    ]);
  });

  it('after more: waiting in CrashLoopBackOff, the failure as its last state', () => {
    expect(failed(3).initContainerStatuses?.[0]).toMatchObject({
      restartCount: 2,
      state: { waiting: { reason: 'CrashLoopBackOff' } },
      lastState: { terminated: { exitCode: 2, reason: 'Error' } },
    });
  });
});
