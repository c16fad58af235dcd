/** What the sandbox's kubelet keeps of each running pod and each of its containers. */
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { HEALTHCHECK_CONTAINER_NAME, SIDECAR_CONTAINER_NAME } from '../../constants/index.js';
import type { ProbeAgent } from '../agent/index.js';
import type { Workload } from '../workloads/index.js';
import type { ContainerLog } from './logs.js';
import type { PodAddress } from './pod-network.js';
import type { ContainerProcess } from './processes.js';
import type { ContainerProber } from './prober.js';

export interface ContainerRuntime {
  spec: V1Container;
  /** An init container with restartPolicy Always (a native sidecar). */
  init?: boolean;
  /** Resolved when the container is started (its startup probe passed), or when the pod stops. */
  startedWaiters?: (() => void)[];
  workload?: Workload;
  process?: ContainerProcess;
  log?: ContainerLog;
  /** The freeze annotation value last applied to this container's process. */
  frozenBy?: string;
  prober?: ContainerProber;
  restartCount: number;
  ready: boolean;
  started: boolean;
  startedAt?: Date;
  lastTermination?: { reason: string; finishedAt: Date; exitCode: number };
  waiting?: string;
}

export interface PodRuntime {
  key: string;
  uid: string;
  ip: string;
  /** The pod's network (namespace mode: its network namespace). */
  address?: PodAddress;
  pod: V1Pod;
  containers: Map<string, ContainerRuntime>;
  /** The sidecar stand-in in this process (loopback mode). */
  agent?: ProbeAgent;
  /** The sidecar stand-in as a process in the pod's namespace (namespace mode), its status socket. */
  sidecar?: { process: ContainerProcess; statusSocket: string };
  agentLog?: ContainerLog;
  /** Init containers that failed, with their failures so far (kubelet retries them). */
  initFailures?: Map<string, { exitCode: number; count: number; finishedAt: Date }>;
  /** <stateDir>/pods/<ns>_<name>_<uid>: volumes, kubeconfig. */
  dir: string;
  volumes: Map<string, string>;
  kubeconfig?: string;
  startTime: Date;
  statusTimer?: NodeJS.Timeout;
  stopped: boolean;
  /** The bootstrap secret volume: Secret name, directory, and the version last written. */
  bootstrap?: { secret: string; dir: string; version: string };
  /** All init containers are done (regular ones completed, native sidecars started). */
  initialized: boolean;
  /** Regular init containers that completed. */
  initDone: Set<string>;
}

/** Containers the sandbox runs as something other than a demo workload. */
export const SPECIAL = new Set([SIDECAR_CONTAINER_NAME, HEALTHCHECK_CONTAINER_NAME]);

/** The namespace and name of a pod runtime's key. */
export function podKeyParts(rt: { key: string }): [string, string] {
  return rt.key.split('/') as [string, string];
}

/** Resolves the callers waiting for a container to be started. */
export function releaseWaiters(cr: ContainerRuntime): void {
  for (const w of cr.startedWaiters?.splice(0) ?? []) w();
}
