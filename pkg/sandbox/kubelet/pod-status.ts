/**
 * The pod status the sandbox's kubelet writes, from what it keeps of the pod: container and
 * init-container statuses, phase and conditions, as kubelet words them. Pure: the clock is a parameter.
 */
import type { V1ContainerStatus, V1PodStatus } from '@kubernetes/client-node';
import { SPECIAL, type ContainerRuntime, type PodRuntime } from './pod-runtime.js';

export function podStatus(rt: PodRuntime, now: Date, hostIP = '127.0.0.1'): V1PodStatus {
  const status = ([n, cr]: [string, ContainerRuntime]): V1ContainerStatus => ({
    name: n,
    image: cr.spec.image ?? '',
    imageID: '',
    containerID: `sandbox://${rt.uid}/${n}/${cr.restartCount}`,
    ready: cr.ready,
    started: cr.started,
    restartCount: cr.restartCount,
    state:
      cr.waiting || !cr.startedAt || (!cr.workload && !cr.process && !SPECIAL.has(n))
        ? { waiting: { reason: cr.waiting ?? (rt.initialized ? 'ContainerCreating' : 'PodInitializing') } }
        : { running: { startedAt: cr.startedAt } },
    ...(cr.lastTermination ? { lastState: { terminated: { ...cr.lastTermination } } } : {}),
  });
  const entries = [...rt.containers.entries()];
  const statuses = entries.filter(([, cr]) => !cr.init).map(status);
  const sidecarStatuses = new Map(entries.filter(([, cr]) => cr.init).map((e) => [e[0], status(e)]));
  // Native sidecars count for readiness, as kubelet counts them.
  const readiness = [...statuses, ...sidecarStatuses.values()];
  const allReady = rt.initialized && statuses.length > 0 && readiness.every((s) => s.ready);
  const cond = (type: string, ok: boolean) => ({
    type,
    status: ok ? 'True' : 'False',
    lastTransitionTime: now,
  });
  return {
    phase: rt.initialized ? 'Running' : 'Pending',
    hostIP,
    podIP: rt.ip,
    podIPs: [{ ip: rt.ip }],
    startTime: rt.startTime,
    conditions: [
      cond('PodScheduled', true),
      cond('Initialized', rt.initialized),
      cond('ContainersReady', allReady),
      cond('Ready', allReady),
    ],
    containerStatuses: statuses,
    initContainerStatuses: (rt.pod.spec?.initContainers ?? []).map(
      (c) =>
        sidecarStatuses.get(c.name) ??
        failedInit(c.name, c.image ?? '', rt) ?? {
          name: c.name,
          image: c.image ?? '',
          imageID: '',
          ready: rt.initDone.has(c.name),
          restartCount: 0,
          state: rt.initDone.has(c.name)
            ? {
                terminated: {
                  exitCode: 0,
                  reason: 'Completed',
                  startedAt: rt.startTime,
                  finishedAt: rt.startTime,
                },
              }
            : { waiting: { reason: 'PodInitializing' } },
        },
    ),
  };
}

/**
 * An init container that failed and is not done: terminated with Error after its first failure,
 * waiting in CrashLoopBackOff (the failure as lastState) after more, as kubelet reports it.
 */
function failedInit(name: string, image: string, rt: PodRuntime): V1ContainerStatus | undefined {
  const f = rt.initFailures?.get(name);
  if (!f || rt.initDone.has(name)) return undefined;
  const terminated = {
    exitCode: f.exitCode,
    reason: 'Error',
    startedAt: f.finishedAt,
    finishedAt: f.finishedAt,
  };
  return {
    name,
    image,
    imageID: '',
    ready: false,
    restartCount: f.count - 1,
    ...(f.count > 1
      ? { state: { waiting: { reason: 'CrashLoopBackOff' } }, lastState: { terminated } }
      : { state: { terminated } }),
  };
}
