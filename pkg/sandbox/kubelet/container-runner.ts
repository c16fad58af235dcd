/**
 * How the sandbox's kubelet runs one container of a pod: its workload (a demo app) or its process
 * (an fsm binary), kubelet's events for it, its lifecycle hooks, its probes, and its restarts with
 * kubelet's crash-loop back-off; and the sandbox's break/freeze annotations applied to it.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { V1Container, V1Probe } from '@kubernetes/client-node';
import {
  HEALTHCHECK_CONTAINER_NAME,
  PROBE_WARNING_REASON,
  SIDECAR_CONTAINER_NAME,
  type ProbeType,
  PROXY_OUTBOUND_PORT,
  PROXY_UUID_LABEL,
  SANDBOX_OUTBOUND_PROXY_ENV,
} from '../../constants/index.js';
import { errorMessage, type Logger } from '../../logger/index.js';
import type { NodeNetwork } from '../netns/index.js';
import type { CertificateAuthority } from '../../tls/index.js';
import {
  type Workload,
  startWorkload,
  unhealthyContainers,
  UNHEALTHY_ANNOTATION,
  workloadKindForImage,
} from '../workloads/index.js';
import type { PodEvent, PodEventRecorder } from '../../k8s/index.js';
import { FREEZE_ANNOTATION, frozenContainers } from './freeze.js';
import { HOOK_FAILED_REASON, runLifecycleHook, type HookRun } from './lifecycle.js';
import type { ContainerLog, NodeLogs } from './logs.js';
import {
  podKeyParts,
  releaseWaiters,
  SPECIAL,
  type ContainerRuntime,
  type PodRuntime,
} from './pod-runtime.js';
import {
  binaryForImage,
  startBinaryContainer,
  startProcess,
  type BinaryImage,
  type ContainerProcess,
  type Termination,
} from './processes.js';
import { runProbe } from './probe-exec.js';
import { ContainerProber } from './prober.js';

/** Lifecycle hook runs kept per pod, and pods kept (tests and the guide read them). */
const HOOK_RUNS_KEPT = 20;
const HOOK_RUN_PODS_KEPT = 500;
/** Kubernetes' default terminationGracePeriodSeconds bounds a preStop hook. */
const DEFAULT_GRACE_SECONDS = 30;
/** Upper bound of the restart back-off (kubelet's is 5 minutes; the sandbox keeps demos lively). */
const RESTART_BACKOFF_CAP_MS = 30_000;

export interface ContainerRunnerDeps {
  events: PodEventRecorder;
  logs: NodeLogs;
  log: Logger;
  /** Built fsm-healthcheck (dist/cmd/fsm-healthcheck/main.js), run with this Node. */
  healthcheckBinary: string;
  /** The built binary of an fsm image (default: none, such containers fail to start). */
  binaryPath?: (name: BinaryImage) => string;
  /** Signs the certificates of HTTPS demo apps. */
  ca: CertificateAuthority;
  /** Delay before a killed container starts again (kubelet's back-off starts at 10 s). */
  restartDelayMs?: number;
  /** Schedules a (coalesced) status write of the pod. */
  writeStatus(rt: PodRuntime): void;
  /** How the node reaches pods (probes, hooks). */
  network: NodeNetwork;
  /** The node's address (status.hostIP, the downward API's). */
  hostIP: string;
  /** Namespace mode: the demo apps' process entry (dist/pkg/sandbox/workloads/cli.js). */
  workloadScript?: string;
}

/** A demo app running as a process in the pod's namespace: break/fix are lines on its stdin. */
function processWorkload(proc: ContainerProcess, spec: Workload['spec']): Workload {
  let healthy = true;
  return {
    spec,
    get healthy() {
      return healthy;
    },
    setHealthy(h) {
      healthy = h;
      proc.input?.write(h ? 'healthy\n' : 'unhealthy\n');
      return Promise.resolve();
    },
    // The process is the container: stopping it is stopContainer's.
    stop: () => Promise.resolve(),
  };
}

export class ContainerRunner {
  private readonly hookRuns = new Map<string, HookRun[]>();

  constructor(private readonly deps: ContainerRunnerDeps) {}

  /** The lifecycle hooks run for a pod of this key, oldest first (kept after the pod is gone). */
  hookRunsOf(key: string): HookRun[] {
    return [...(this.hookRuns.get(key) ?? [])];
  }

  beginLog(rt: PodRuntime, container: string): ContainerLog {
    const [namespace, name] = rt.key.split('/') as [string, string];
    return this.deps.logs.begin(namespace, name, rt.uid, container);
  }

  /** Starts (or restarts) one container: its workload, then its probes. */
  async startContainer(rt: PodRuntime, name: string): Promise<void> {
    const cr = rt.containers.get(name);
    if (!cr || rt.stopped) return;
    const c = cr.spec;
    await this.event(rt, {
      type: 'Normal',
      reason: 'Pulled',
      message: `Container image "${c.image}" already present on machine`,
      container: name,
    });
    const binary = c.name === HEALTHCHECK_CONTAINER_NAME ? 'fsm-healthcheck' : binaryForImage(c.image);
    if (name !== SIDECAR_CONTAINER_NAME) cr.log = this.beginLog(rt, name);
    if (binary) {
      try {
        const script =
          binary === 'fsm-healthcheck' ? this.deps.healthcheckBinary : this.deps.binaryPath?.(binary);
        if (!script) throw new Error(`no binary for image ${c.image ?? ''} in this sandbox`);
        const proc = startBinaryContainer({
          ...rt,
          ...(rt.address?.netns ? { netns: rt.address?.netns } : {}),
          hostIP: this.deps.hostIP,
          container: c,
          binary,
          script,
          log: cr.log!,
        });
        cr.process = proc;
        void proc.exited.then((t) => {
          // Exited on its own (not stopped by us): the container terminated; restart it.
          if (cr.process === proc && !rt.stopped) void this.restartLater(rt, name, t, 'exited');
        });
      } catch (err) {
        await this.failedToStart(rt, cr, name, 'CreateContainerError', err);
        return;
      }
    } else if (!SPECIAL.has(name)) {
      const ports = (c.ports ?? [])
        .filter((p) => (p.protocol ?? 'TCP') === 'TCP')
        .map((p) => p.containerPort);
      const kind = workloadKindForImage(c.image);
      try {
        if (rt.address?.netns) await this.startAppProcess(rt, cr, c, ports);
        else {
          cr.workload = await startWorkload({
            kind,
            host: rt.ip,
            ports,
            name,
            log: (line: string) => cr.log?.write('stdout', `${line}\n`),
            env: {
              ...Object.fromEntries(
                (c.env ?? []).flatMap((e) => (e.value !== undefined ? [[e.name, e.value]] : [])),
              ),
              // Loopback mode: nothing redirects a meshed pod's connections; its apps dial the sidecar.
              ...(rt.pod.metadata?.labels?.[PROXY_UUID_LABEL]
                ? { [SANDBOX_OUTBOUND_PROXY_ENV]: `${rt.ip}:${PROXY_OUTBOUND_PORT}` }
                : {}),
            },
            ...(kind === 'https'
              ? { tls: await this.deps.ca.issue({ commonName: name, ipAddresses: [rt.ip] }) }
              : {}),
          });
        }
      } catch (err) {
        await this.failedToStart(rt, cr, name, 'CrashLoopBackOff', err);
        return;
      }
    }
    await this.event(rt, {
      type: 'Normal',
      reason: 'Created',
      message: `Created container ${name}`,
      container: name,
    });
    await this.event(rt, {
      type: 'Normal',
      reason: 'Started',
      message: `Started container ${name}`,
      container: name,
    });
    cr.waiting = undefined;
    cr.startedAt = new Date();
    // Kubelet runs postStart right after the start; a failed hook kills the container.
    if (!(await this.runHook(rt, cr, 'postStart'))) {
      void this.kill(rt, name, 'failed post-start hook');
      return;
    }
    cr.prober = new ContainerProber(
      { livenessProbe: c.livenessProbe, readinessProbe: c.readinessProbe, startupProbe: c.startupProbe },
      (_type: ProbeType, probe: V1Probe) => runProbe(probe, rt.ip, c.ports, this.deps.network),
      {
        onProbeFailed: (type, message) =>
          void this.event(rt, {
            type: 'Warning',
            reason: 'Unhealthy',
            message: `${capitalize(type)} probe failed: ${message}`,
            container: name,
          }),
        onProbeWarning: (type, message) =>
          void this.event(rt, {
            type: 'Warning',
            reason: PROBE_WARNING_REASON,
            message: `${capitalize(type)} probe warning: ${message}`,
            container: name,
          }),
        onKill: (type) => void this.kill(rt, name, `failed ${type} probe`),
        onStatus: ({ ready, started }) => {
          cr.ready = ready;
          cr.started = started;
          if (started) releaseWaiters(cr);
          this.deps.writeStatus(rt);
        },
      },
    );
    cr.prober.start();
  }

  /**
   * Runs a container's lifecycle hook (if it has one) and keeps the result; a failure is kubelet's
   * Failed<Hook>Hook warning event. False when the hook failed.
   */
  async runHook(rt: PodRuntime, cr: ContainerRuntime, hook: 'postStart' | 'preStop'): Promise<boolean> {
    const handler = cr.spec.lifecycle?.[hook];
    if (!handler) return true;
    const graceMs = (rt.pod.spec?.terminationGracePeriodSeconds ?? DEFAULT_GRACE_SECONDS) * 1000;
    const run = await runLifecycleHook(rt.pod, cr.spec, hook, handler, rt.ip, graceMs, this.deps.network);
    const runs = this.hookRuns.get(rt.key) ?? [];
    runs.push(run);
    this.hookRuns.delete(rt.key);
    this.hookRuns.set(rt.key, runs.slice(-HOOK_RUNS_KEPT));
    // Bounded: the pods whose hooks ran least recently are forgotten first.
    if (this.hookRuns.size > HOOK_RUN_PODS_KEPT) this.hookRuns.delete(this.hookRuns.keys().next().value!);
    if (run.ok) {
      this.deps.log.debug('lifecycle hook ran', {
        pod: rt.key,
        container: cr.spec.name,
        hook,
        status: run.status,
      });
      return true;
    }
    await this.event(rt, {
      type: 'Warning',
      reason: HOOK_FAILED_REASON[hook],
      message: run.message ?? `${hook} hook failed`,
      container: cr.spec.name,
    });
    return false;
  }

  /**
   * Namespace mode: the demo app as a process inside the pod's namespace, binding its wildcard
   * address as a real app does (an HTTPS app's certificate written into the pod's directory).
   */
  /** A container that could not start: waiting with `reason`, a Warning Failed event, the status written. */
  private async failedToStart(
    rt: PodRuntime,
    cr: ContainerRuntime,
    name: string,
    reason: string,
    err: unknown,
  ): Promise<void> {
    cr.waiting = reason;
    await this.event(rt, {
      type: 'Warning',
      reason: 'Failed',
      message: `Error: ${errorMessage(err)}`,
      container: name,
    });
    this.deps.writeStatus(rt);
  }

  private async startAppProcess(
    rt: PodRuntime,
    cr: ContainerRuntime,
    c: V1Container,
    ports: number[],
  ): Promise<void> {
    const script = this.deps.workloadScript;
    if (!script) throw new Error("namespace mode needs the demo apps' process entry");
    const kind = workloadKindForImage(c.image);
    const args = ['--kind', kind, '--name', c.name, ...ports.flatMap((p) => ['--port', String(p)])];
    if (kind === 'https') {
      const cert = await this.deps.ca.issue({ commonName: c.name, ipAddresses: [rt.ip] });
      const dir = join(rt.dir, 'tls', c.name);
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, 'tls.crt'), cert.certPem);
      await writeFile(join(dir, 'tls.key'), cert.keyPem, { mode: 0o600 });
      args.push('--tls-cert-file', join(dir, 'tls.crt'), '--tls-key-file', join(dir, 'tls.key'));
    }
    const proc = startProcess({
      script,
      args,
      env: {
        // The container's literal env (bookbuyer's target); its connections are redirected by the kernel.
        ...Object.fromEntries(
          (c.env ?? []).flatMap((e) => (e.value !== undefined ? [[e.name, e.value]] : [])),
        ),
        PATH: process.env['PATH'] ?? '/usr/bin:/bin',
        HOME: rt.dir,
      },
      cwd: rt.dir,
      log: cr.log!,
      inPod: { namespace: rt.address!.netns! },
      stdin: true,
    });
    cr.process = proc;
    cr.workload = processWorkload(proc, { kind, host: '0.0.0.0', ports, name: c.name });
    void proc.exited.then((t) => {
      if (cr.process === proc && !rt.stopped) void this.restartLater(rt, c.name, t, 'exited');
    });
  }

  /** A probe or the postStart hook failed: kill the container and start it again after the restart delay. */
  async kill(rt: PodRuntime, name: string, why: string): Promise<void> {
    const cr = rt.containers.get(name);
    if (!cr || rt.stopped) return;
    await this.event(rt, {
      type: 'Normal',
      reason: 'Killing',
      message: `Container ${name} ${why}, will be restarted`,
      container: name,
    });
    const termination = await this.stopContainer(rt, cr);
    await this.restartLater(rt, name, termination ?? { reason: 'Error', exitCode: 137 }, 'killed');
  }

  /** Stops a container's probes and what runs it; the process's termination, if it was one. */
  async stopContainer(rt: PodRuntime, cr: ContainerRuntime): Promise<Termination | undefined> {
    cr.prober?.stop();
    await cr.workload?.stop();
    cr.workload = undefined;
    const proc = cr.process;
    cr.process = undefined;
    // Kubelet's grace period, bounded: a sandbox demo should not wait 30 s for a frozen process.
    const grace = Math.min(rt.pod.spec?.terminationGracePeriodSeconds ?? 30, 5) * 1000;
    const t = await proc?.stop(grace);
    await cr.log?.end();
    return t;
  }

  /** The container terminated: record it and start it again after kubelet's back-off. */
  private async restartLater(
    rt: PodRuntime,
    name: string,
    t: Termination,
    how: 'killed' | 'exited',
  ): Promise<void> {
    const cr = rt.containers.get(name);
    if (!cr || rt.stopped) return;
    if (how === 'exited') {
      cr.prober?.stop();
      cr.process = undefined;
      await cr.log?.end();
      this.deps.log.warn('container exited', { pod: rt.key, container: name, exitCode: t.exitCode });
    }
    cr.ready = false;
    cr.started = false;
    cr.restartCount++;
    cr.lastTermination = { reason: t.reason, exitCode: t.exitCode, finishedAt: new Date() };
    this.deps.writeStatus(rt);
    // Kubelet's crash-loop back-off: the delay doubles with each restart, capped.
    const base = this.deps.restartDelayMs ?? 1000;
    const delay = Math.min(base * 2 ** (cr.restartCount - 1), RESTART_BACKOFF_CAP_MS);
    if (cr.restartCount > 1) {
      cr.waiting = 'CrashLoopBackOff';
      await this.event(rt, {
        type: 'Warning',
        reason: 'BackOff',
        message: `Back-off restarting failed container ${name} in pod ${podKeyParts(rt)[1]}`,
        container: name,
      });
    }
    setTimeout(() => {
      void this.startContainer(rt, name).then(() => this.applyHealth(rt));
    }, delay).unref();
  }

  /**
   * The sandbox.flomesh.io/unhealthy annotation breaks or fixes the apps; sandbox.flomesh.io/freeze
   * freezes the processes it names when it appears or changes (a restarted process runs normally),
   * and thaws them when it goes.
   */
  async applyHealth(rt: PodRuntime): Promise<void> {
    const names = [...rt.containers.keys()];
    const freeze = rt.pod.metadata?.annotations?.[FREEZE_ANNOTATION];
    const frozen = frozenContainers(freeze, names);
    for (const [name, cr] of rt.containers) {
      if (!cr.process) continue;
      if (frozen.has(name) && cr.frozenBy !== freeze) {
        cr.frozenBy = freeze;
        cr.process.freeze();
        this.deps.log.info('container frozen (SIGSTOP)', { pod: rt.key, container: name });
      } else if (!frozen.has(name) && cr.process.frozen) {
        cr.process.thaw();
        this.deps.log.info('container thawed (SIGCONT)', { pod: rt.key, container: name });
      }
      if (!frozen.has(name)) cr.frozenBy = undefined;
    }
    const broken = unhealthyContainers(rt.pod.metadata?.annotations?.[UNHEALTHY_ANNOTATION], names);
    for (const [name, cr] of rt.containers) {
      const healthy = !broken.has(name);
      if (cr.workload && cr.workload.healthy !== healthy) {
        this.deps.log.info(healthy ? 'app fixed' : 'app broken', { pod: rt.key, container: name });
        await cr.workload.setHealthy(healthy);
      }
    }
  }

  event(rt: PodRuntime, ev: PodEvent): Promise<void> {
    return this.deps.events.record(rt.pod, ev);
  }
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
