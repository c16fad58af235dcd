/**
 * What fsm-controller keeps of a pod in its informer cache. A pod as the API server sends it is
 * ~7 KiB of JSON objects and strings, most of which no part of the controller reads: images,
 * commands (fsm-init's script), env, volumes and their mounts, resources, tolerations, container
 * statuses, managedFields. With 50,000 pods that was ~360 MiB of the controller's heap
 * (bench:controller). trimPod drops exactly those fields, as client-go's SetTransform and
 * controller-runtime's managedFields stripping do; everything else stays, so a field a future
 * reader needs is there unless it is named below (test/unit/controller/pod-trim.test.ts fails when
 * controller code reads a dropped field).
 */
import type { V1Container, V1Pod, V1PodSpec, V1PodStatus } from '@kubernetes/client-node';

/** Container fields the controller never reads (it reads name, ports, probes, restartPolicy, lifecycle). */
export const DROPPED_CONTAINER_FIELDS = [
  'image',
  'imagePullPolicy',
  'command',
  'args',
  'workingDir',
  'env',
  'envFrom',
  'resources',
  'resizePolicy',
  'volumeMounts',
  'volumeDevices',
  'terminationMessagePath',
  'terminationMessagePolicy',
  'securityContext',
  'stdin',
  'stdinOnce',
  'tty',
] as const satisfies readonly (keyof V1Container)[];

/** Pod spec fields the controller never reads. */
export const DROPPED_SPEC_FIELDS = [
  'volumes',
  'tolerations',
  'affinity',
  'topologySpreadConstraints',
  'securityContext',
  'imagePullSecrets',
  'dnsConfig',
  'overhead',
  'resourceClaims',
  'schedulingGates',
  'hostAliases',
  'ephemeralContainers',
] as const satisfies readonly (keyof V1PodSpec)[];

/** Pod status fields the controller never reads (it reads podIP, podIPs, phase). */
export const DROPPED_STATUS_FIELDS = [
  'containerStatuses',
  'initContainerStatuses',
  'ephemeralContainerStatuses',
  'resourceClaimStatuses',
] as const satisfies readonly (keyof V1PodStatus)[];

function without<T extends object>(obj: T, fields: readonly string[]): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) if (!fields.includes(k)) out[k] = v;
  return out as T;
}

function trimContainers(list: V1Container[] | undefined): V1Container[] | undefined {
  return list?.map((c) => without(c, DROPPED_CONTAINER_FIELDS));
}

/** The pod without the fields above (a new object; the input is not modified). */
export function trimPod(pod: V1Pod): V1Pod {
  const out: V1Pod = { ...pod };
  if (pod.metadata?.managedFields) {
    const { managedFields: _dropped, ...metadata } = pod.metadata;
    out.metadata = metadata;
  }
  if (pod.spec) {
    const spec = without(pod.spec, DROPPED_SPEC_FIELDS);
    spec.containers = trimContainers(pod.spec.containers) ?? [];
    if (pod.spec.initContainers) spec.initContainers = trimContainers(pod.spec.initContainers);
    out.spec = spec;
  }
  if (pod.status) out.status = without(pod.status, DROPPED_STATUS_FIELDS);
  return out;
}
