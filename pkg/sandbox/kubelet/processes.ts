/**
 * Containers whose image is one of fsm's own binaries run as that binary: the image's repository
 * name picks it (`<registry>/fsm-controller:<tag>` → dist/cmd/fsm-controller/main.js, likewise
 * fsm-injector and fsm-healthcheck), with the container's args and env as rendered, on this Node.
 * What a real node would give the process and the sandbox stands in for (see node-agent.ts):
 * the pod's address ($FSM_SANDBOX_POD_IP, honoured by wildcard binds), API access (KUBECONFIG of
 * a per-pod kubeconfig), volumes (paths under a mountPath rewritten to the volume's directory).
 * stdout/stderr go to the container's log. Stopping is SIGTERM, then SIGKILL after the grace period;
 * freezing is SIGSTOP (a frozen process answers no probe), thawing SIGCONT.
 */
import { spawn } from 'node:child_process';
import type { V1Container, V1EnvVar, V1Pod } from '@kubernetes/client-node';
import {
  HEALTHCHECK_ALLOWED_PORTS_ENV,
  HEALTHCHECK_CONTAINER_NAME,
  HEALTHCHECK_PORT,
  KUBECONFIG_ENV,
  SANDBOX_POD_IP_ENV,
} from '../../constants/index.js';
import type { ContainerLog } from './logs.js';
import { containerMounts, rewritePaths } from './volumes.js';

/** The binaries an image can name (repository basename). */
export const BINARY_IMAGES = ['fsm-controller', 'fsm-injector', 'fsm-healthcheck'] as const;
export type BinaryImage = (typeof BINARY_IMAGES)[number];

/** `flomesh/fsm-controller:v0.1.0` → fsm-controller; undefined for any other image. */
export function binaryForImage(image: string | undefined): BinaryImage | undefined {
  const repo = (image ?? '').replace(/@.*$/, '').replace(/:[^/]*$/, '');
  const base = repo.split('/').pop() ?? '';
  return (BINARY_IMAGES as readonly string[]).includes(base) ? (base as BinaryImage) : undefined;
}

/** env of a container: values, and the downward-API fields a node fills in. */
export function containerEnv(c: V1Container, pod: V1Pod, podIP: string): Record<string, string> {
  const field = (path: string | undefined): string => {
    switch (path) {
      case 'metadata.name':
        return pod.metadata?.name ?? '';
      case 'metadata.namespace':
        return pod.metadata?.namespace ?? '';
      case 'metadata.uid':
        return pod.metadata?.uid ?? '';
      case 'spec.serviceAccountName':
        return pod.spec?.serviceAccountName ?? 'default';
      case 'spec.nodeName':
        return pod.spec?.nodeName ?? '';
      case 'status.podIP':
      case 'status.hostIP':
        return podIP;
      default:
        return '';
    }
  };
  const out: Record<string, string> = {};
  for (const e of c.env ?? ([] as V1EnvVar[])) {
    if (e.value !== undefined) out[e.name] = e.value;
    else if (e.valueFrom?.fieldRef) out[e.name] = field(e.valueFrom.fieldRef.fieldPath);
  }
  return out;
}

/**
 * A container command that runs node (`node [--flags] <entrypoint> [args]`, as the injected
 * fsm-healthcheck's does): its Node flags, and the args after the image's entrypoint. The sandbox
 * runs the binary's script in place of the entrypoint, so only the flags and the args carry over.
 * Any other command: no flags, and everything after the executable is an arg.
 */
export function splitNodeCommand(command: readonly string[] | undefined): {
  nodeArgs: string[];
  args: string[];
} {
  if (!command || command.length === 0) return { nodeArgs: [], args: [] };
  if (command[0]!.split('/').pop() !== 'node') return { nodeArgs: [], args: command.slice(1) };
  let i = 1;
  while (i < command.length && command[i]!.startsWith('-')) i++;
  return { nodeArgs: command.slice(1, i), args: command.slice(i + 1) };
}

export interface ProcessSpec {
  /** dist/cmd/<binary>/main.js */
  script: string;
  /** Node's own flags, before the script. */
  nodeArgs?: readonly string[];
  args: readonly string[];
  env: Record<string, string>;
  cwd: string;
  log: ContainerLog;
}

export interface Termination {
  exitCode: number;
  /** Completed (exit 0) or Error. */
  reason: 'Completed' | 'Error';
  signal?: string;
}

export interface ContainerProcess {
  readonly pid: number | undefined;
  /** Resolves when the process ends, whoever ended it. */
  readonly exited: Promise<Termination>;
  /** SIGTERM, SIGKILL after graceMs (a frozen process is killed at once: SIGTERM cannot reach it). */
  stop(graceMs: number): Promise<Termination>;
  freeze(): void;
  thaw(): void;
  readonly frozen: boolean;
}

export function startProcess(spec: ProcessSpec): ContainerProcess {
  const child = spawn(process.execPath, [...(spec.nodeArgs ?? []), spec.script, ...spec.args], {
    cwd: spec.cwd,
    env: spec.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.pipe(spec.log.stream('stdout'));
  child.stderr.pipe(spec.log.stream('stderr'));
  let frozen = false;
  const exited = new Promise<Termination>((resolve) => {
    child.once('error', (err) => {
      spec.log.write('stderr', `${err.message}\n`);
      resolve({ exitCode: 128, reason: 'Error' });
    });
    child.once('exit', (code, signal) => {
      const exitCode = code ?? (signal === 'SIGKILL' ? 137 : signal === 'SIGTERM' ? 143 : 128);
      resolve({ exitCode, reason: exitCode === 0 ? 'Completed' : 'Error', ...(signal ? { signal } : {}) });
    });
  });
  const alive = (): boolean => child.exitCode === null && child.signalCode === null;
  return {
    get pid() {
      return child.pid;
    },
    exited,
    get frozen() {
      return frozen;
    },
    async stop(graceMs) {
      if (alive()) {
        if (frozen) child.kill('SIGKILL');
        else {
          child.kill('SIGTERM');
          const timer = setTimeout(() => alive() && child.kill('SIGKILL'), graceMs);
          void exited.then(() => clearTimeout(timer));
        }
      }
      return exited;
    },
    freeze() {
      if (alive() && !frozen) {
        frozen = true;
        child.kill('SIGSTOP');
      }
    },
    thaw() {
      if (alive() && frozen) {
        frozen = false;
        child.kill('SIGCONT');
      }
    },
  };
}

export interface BinaryContainer {
  pod: V1Pod;
  /** The pod's address. */
  ip: string;
  /** The pod's directory (the process's cwd and HOME). */
  dir: string;
  volumes: ReadonlyMap<string, string>;
  kubeconfig?: string;
  container: V1Container;
  binary: BinaryImage;
  script: string;
  log: ContainerLog;
}

/** Starts a container whose image is an fsm binary (or the injected fsm-healthcheck) as that binary. */
export function startBinaryContainer(b: BinaryContainer): ContainerProcess {
  const c = b.container;
  const mounts = containerMounts(c, b.volumes);
  const env: Record<string, string> = {
    PATH: process.env['PATH'] ?? '/usr/bin:/bin',
    HOME: b.dir,
    [SANDBOX_POD_IP_ENV]: b.ip,
    ...(b.kubeconfig ? { [KUBECONFIG_ENV]: b.kubeconfig } : {}),
  };
  for (const [k, v] of Object.entries(containerEnv(c, b.pod, b.ip))) env[k] = rewritePaths(v, mounts);
  const command = splitNodeCommand(c.command);
  let args = [...command.args, ...(c.args ?? [])].map((a) => rewritePaths(a, mounts));
  if (c.name === HEALTHCHECK_CONTAINER_NAME && b.binary === 'fsm-healthcheck') {
    // The injected checker dials the app "on localhost": in loopback mode that is the pod address.
    env[HEALTHCHECK_ALLOWED_PORTS_ENV] =
      c.env?.find((e) => e.name === HEALTHCHECK_ALLOWED_PORTS_ENV)?.value ?? '';
    args = ['--bind-address', b.ip, '--target-host', b.ip, '--port', String(HEALTHCHECK_PORT)];
  }
  return startProcess({ script: b.script, nodeArgs: command.nodeArgs, args, env, cwd: b.dir, log: b.log });
}
