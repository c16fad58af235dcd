/**
 * The sandbox's kubelet: for each pod it gives the pod its own loopback address, starts its
 * containers as sandbox workloads on it, starts the xDS probe agent for an injected sidecar, runs
 * containers whose image is an fsm binary as that binary (processes.ts; the control plane runs so,
 * and fsm-healthcheck), runs the pod's probes with kubelet's semantics, restarts containers whose
 * liveness (or startup) probe fails or whose process exits, keeps every container's log
 * (logs.ts: kubectl logs), and writes pod status and kubelet-worded Events — so `kubectl
 * get/describe/logs` read as on a real node.
 *
 * What a real node gives a pod and the sandbox stands in for, in one place:
 * - network: the pod's own loopback address 127.0.x.y; processes get it as $FSM_SANDBOX_POD_IP and
 *   bind it where they would bind a wildcard (pkg/binary bindHost): no network namespace.
 * - API access: a per-pod kubeconfig ($KUBECONFIG) with a token of the pod (service-account.ts).
 * - volumes: directories under the pod's directory; paths under a mountPath in args and env are
 *   rewritten to them (volumes.ts).
 * - init containers: completed at once; fsm-init logs the rules it would apply (init-containers.ts).
 * - exec probes: not run (no container runtime), counted as success.
 * - freezing (sandbox.flomesh.io/freeze): SIGSTOP of a process container, so its liveness fails.
 *
 * Start and stop order, as kubelet's (native sidecars, Kubernetes >= 1.29): init containers run in
 * order; an init container with restartPolicy Always (a native sidecar) is started and kubelet moves
 * on only once it is started — its startupProbe passed — so app containers start after it; on pod
 * deletion the app containers run their preStop hooks and stop first, the native sidecars after them
 * (in reverse order). A classic sidecar starts and stops together with the app containers. Lifecycle
 * hooks (lifecycle.ts) run as kubelet runs them: postStart after a container starts (a failure kills
 * it), preStop before it stops on pod deletion.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CoreV1Api,
  PatchStrategy,
  setHeaderOptions,
  type KubeConfig,
  type V1Container,
  type V1ContainerStatus,
  type V1Pod,
  type V1Probe,
} from '@kubernetes/client-node';
import {
  BOOTSTRAP_VOLUME_NAME,
  HEALTHCHECK_CONTAINER_NAME,
  PROBE_WARNING_REASON,
  PROXY_UUID_LABEL,
  SIDECAR_CONTAINER_NAME,
  type ProbeType,
} from '../../constants/index.js';
import { podInformer, WorkQueue, type ResourceInformer } from '../../k8s/index.js';
import { createLogger, errorMessage, type Logger } from '../../logger/index.js';
import type { CertificateAuthority } from '../../tls/index.js';
import { startProbeAgent, type ProbeAgent, type ProbeAgentStatus } from '../agent/index.js';
import {
  startWorkload,
  unhealthyContainers,
  UNHEALTHY_ANNOTATION,
  workloadKindForImage,
  type Workload,
} from '../workloads/index.js';
import { AddressPool } from './addresses.js';
import { adsServerNameOf, agentTlsFor, bootstrapSecretOf, rewriteSecretFiles } from './secret-volume.js';
import { EventRecorder, type PodEvent } from './events.js';
import { FREEZE_ANNOTATION, frozenContainers } from './freeze.js';
import { HOOK_FAILED_REASON, runLifecycleHook, type HookRun } from './lifecycle.js';
import { runInitContainer } from './init-containers.js';
import { NodeLogs, type ContainerLog } from './logs.js';
import {
  binaryForImage,
  startBinaryContainer,
  type BinaryImage,
  type ContainerProcess,
  type Termination,
} from './processes.js';
import { writePodKubeconfig, type ApiAccess } from './service-account.js';
import { preparePodVolumes } from './volumes.js';
import { runProbe } from './probe-exec.js';
import { ContainerProber } from './prober.js';

export interface NodeAgentOptions {
  kubeConfig: KubeConfig;
  logger: Logger;
  /** host:port of fsm-controller's ADS (the probe agents connect there). */
  adsAddress: string;
  /** Built fsm-healthcheck (dist/cmd/fsm-healthcheck/main.js), run with this Node. */
  healthcheckBinary: string;
  /** The built binary of an fsm image (default: none, such containers fail to start). */
  binaryPath?: (name: BinaryImage) => string;
  /** Pod directories (logs, volumes, kubeconfigs); default a temporary directory. */
  stateDir?: string;
  /** API access for pods' processes (a per-pod kubeconfig); without it they get none. */
  apiAccess?: ApiAccess;
  /** Signs the certificates of HTTPS demo apps. */
  ca: CertificateAuthority;
  nodeName?: string;
  /** Delay before a killed container starts again (kubelet's back-off starts at 10 s). */
  restartDelayMs?: number;
  /** Third-octet range of pod addresses 127.0.<block>.x (default 1-255). */
  podAddressBlocks?: { first: number; last: number };
  /** How often mounted secret volumes are refreshed from their Secret (kubelet's sync; default 10 s). */
  volumeSyncMs?: number;
}

interface ContainerRuntime {
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

interface PodRuntime {
  key: string;
  uid: string;
  ip: string;
  pod: V1Pod;
  containers: Map<string, ContainerRuntime>;
  agent?: ProbeAgent;
  agentLog?: ContainerLog;
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

/** Lifecycle hook runs kept per pod, and pods kept (tests and the guide read them). */
const HOOK_RUNS_KEPT = 20;
const HOOK_RUN_PODS_KEPT = 500;
/** Kubernetes' default terminationGracePeriodSeconds bounds a preStop hook. */
const DEFAULT_GRACE_SECONDS = 30;

/** Upper bound of the restart back-off (kubelet's is 5 minutes; the sandbox keeps demos lively). */
const RESTART_BACKOFF_CAP_MS = 30_000;

/** Containers the sandbox runs as something other than a demo workload. */
const SPECIAL = new Set([SIDECAR_CONTAINER_NAME, HEALTHCHECK_CONTAINER_NAME]);

export class NodeAgent {
  readonly nodeName: string;
  private readonly core: CoreV1Api;
  private readonly pods: ResourceInformer<V1Pod>;
  private readonly queue: WorkQueue;
  private readonly runtimes = new Map<string, PodRuntime>();
  private readonly addresses: AddressPool;
  private readonly events: EventRecorder;
  private readonly log: Logger;
  private readonly stateDir: string;
  private volumeTimer: NodeJS.Timeout | undefined;
  private readonly hookRuns = new Map<string, HookRun[]>();
  /** Every container's log (the API server's pods/log reads them through podLogs()). */
  readonly logs: NodeLogs;

  constructor(private readonly opts: NodeAgentOptions) {
    this.nodeName = opts.nodeName ?? 'sandbox-node';
    this.addresses = new AddressPool(opts.podAddressBlocks?.first, opts.podAddressBlocks?.last);
    this.log = opts.logger.child({ component: 'kubelet' });
    this.core = opts.kubeConfig.makeApiClient(CoreV1Api);
    this.pods = podInformer(opts.kubeConfig, opts.logger);
    this.events = new EventRecorder(this.core, this.nodeName, this.log);
    this.stateDir = opts.stateDir ?? join(tmpdir(), `fsm-sandbox-node-${process.pid}`);
    this.logs = new NodeLogs(join(this.stateDir, 'logs'));
    this.queue = new WorkQueue({
      reconcile: (key) => this.reconcile(key),
      // Pods start in parallel; one pod's key is never reconciled twice at once.
      concurrency: 8,
      resyncMs: 0,
      logger: opts.logger,
    });
  }

  async start(): Promise<void> {
    const enqueue = (p: V1Pod): void => this.queue.add(`${p.metadata?.namespace}/${p.metadata?.name}`);
    this.pods.on('add', enqueue);
    this.pods.on('update', enqueue);
    this.pods.on('delete', enqueue);
    this.queue.start();
    void this.pods.start().catch(() => undefined);
    await this.pods.waitForSync();
    this.volumeTimer = setInterval(() => void this.syncVolumes(), this.opts.volumeSyncMs ?? 10_000);
    this.volumeTimer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.volumeTimer);
    await this.queue.stop();
    await this.pods.stop();
    await Promise.all([...this.runtimes.values()].map((rt) => this.teardown(rt)));
    // A state directory of our own (none was given) goes too.
    if (!this.opts.stateDir) rmSync(this.stateDir, { recursive: true, force: true });
  }

  /** The probe agent (sidecar stand-in) status of a running pod. */
  probeAgentStatus(namespace: string, name: string): ProbeAgentStatus | undefined {
    return this.runtimes.get(`${namespace}/${name}`)?.agent?.status();
  }

  /** The address of a running pod (tests, the guide). */
  podIP(namespace: string, name: string): string | undefined {
    return this.runtimes.get(`${namespace}/${name}`)?.ip;
  }

  /** The lifecycle hooks run for a pod of this name, oldest first (kept after the pod is gone). */
  lifecycleHookRuns(namespace: string, name: string): HookRun[] {
    return [...(this.hookRuns.get(`${namespace}/${name}`) ?? [])];
  }

  private async reconcile(key: string): Promise<void> {
    const [namespace, name] = key.split('/') as [string, string];
    const pod = this.pods.get(name, namespace);
    let rt = this.runtimes.get(key);
    if (rt && (!pod || pod.metadata?.uid !== rt.uid || pod.metadata?.deletionTimestamp)) {
      // The pod is deleted: preStop hooks run, app containers stop before native sidecars.
      await this.teardown(rt, true);
      rt = undefined;
    }
    if (!pod || pod.metadata?.deletionTimestamp) return;
    if (!rt) {
      await this.run(key, pod);
      return;
    }
    rt.pod = pod;
    await this.applyHealth(rt);
  }

  /** Schedules and starts a new pod. */
  private async run(key: string, pod: V1Pod): Promise<void> {
    const ip = this.addresses.allocate();
    const uid = pod.metadata?.uid ?? '';
    const rt: PodRuntime = {
      key,
      uid,
      ip,
      pod,
      containers: new Map(),
      dir: join(this.stateDir, 'pods', `${pod.metadata?.namespace}_${pod.metadata?.name}_${uid}`),
      volumes: new Map(),
      startTime: new Date(),
      stopped: false,
      initialized: false,
      initDone: new Set(),
    };
    this.runtimes.set(key, rt);
    this.log.info('starting pod', { pod: key, ip });
    await this.bind(rt);
    await this.event(rt, {
      type: 'Normal',
      source: 'default-scheduler',
      reason: 'Scheduled',
      message: `Successfully assigned ${key} to ${this.nodeName}`,
    });
    const sidecars = (pod.spec?.initContainers ?? []).filter((c) => c.restartPolicy === 'Always');
    for (const c of sidecars) {
      rt.containers.set(c.name, { spec: c, init: true, restartCount: 0, ready: false, started: false });
    }
    for (const c of pod.spec?.containers ?? []) {
      rt.containers.set(c.name, { spec: c, restartCount: 0, ready: false, started: false });
    }
    this.writeStatus(rt);
    if (!(await this.preparePod(rt))) return;
    if (sidecars.length === 0) {
      for (const c of pod.spec?.initContainers ?? []) this.runRegularInit(rt, c);
      rt.initialized = true;
      this.writeStatus(rt);
      await this.startAppContainers(rt);
      return;
    }
    // Native sidecars hold the app containers until they are started: that may take long (or never
    // happen), so the pod starts in the background and the work queue stays free for its updates.
    void this.startInitThenApp(rt).catch((err: unknown) =>
      this.log.warn('pod start failed', { pod: rt.key, error: errorMessage(err) }),
    );
  }

  /** A regular init container: the sandbox has no runtime to run it in, it completes at once. */
  private runRegularInit(rt: PodRuntime, c: V1Container): void {
    const [namespace, name] = rt.key.split('/') as [string, string];
    runInitContainer(c, this.logs.begin(namespace, name, rt.uid, c.name));
    rt.initDone.add(c.name);
  }

  /** Init containers in order (native sidecars until started), then the app containers. */
  private async startInitThenApp(rt: PodRuntime): Promise<void> {
    for (const c of rt.pod.spec?.initContainers ?? []) {
      if (rt.stopped) return;
      if (c.restartPolicy !== 'Always') {
        this.runRegularInit(rt, c);
        this.writeStatus(rt);
        continue;
      }
      if (c.name === SIDECAR_CONTAINER_NAME) await this.startSidecarAgent(rt);
      await this.startContainer(rt, c.name);
      await this.waitStarted(rt, c.name);
    }
    if (rt.stopped) return;
    rt.initialized = true;
    this.writeStatus(rt);
    await this.startAppContainers(rt);
  }

  /** Resolves once a container is started, or the pod stops. */
  private waitStarted(rt: PodRuntime, name: string): Promise<void> {
    const cr = rt.containers.get(name);
    if (!cr || cr.started || rt.stopped) return Promise.resolve();
    return new Promise((resolve) => (cr.startedWaiters ??= []).push(resolve));
  }

  private releaseWaiters(cr: ContainerRuntime): void {
    for (const w of cr.startedWaiters?.splice(0) ?? []) w();
  }

  /** The xDS probe agent standing in for the pod's sidecar (Envoy). */
  private async startSidecarAgent(rt: PodRuntime): Promise<void> {
    const pod = rt.pod;
    const uuid = pod.metadata?.labels?.[PROXY_UUID_LABEL];
    if (!uuid || rt.agent) return;
    rt.agentLog = this.beginLog(rt, SIDECAR_CONTAINER_NAME);
    // Its bootstrap credential, from the pod's volume (the controller's ADS is mTLS).
    const tls = await this.mountBootstrap(rt);
    rt.agent = await startProbeAgent({
      ...(tls ? { tls } : {}),
      adsAddress: this.opts.adsAddress,
      nodeId: uuid,
      nodeCluster: `${pod.spec?.serviceAccountName ?? 'default'}.${pod.metadata?.namespace}`,
      podAddress: rt.ip,
      endpointHostMap: { '127.0.0.1': rt.ip },
      // Envoy retries ADS quickly too; a controller restart converges within seconds.
      backoff: { initialMs: 250, maxMs: 2000, multiplier: 2 },
      // The sidecar's log is the probe agent's, as Envoy's would be.
      logger: createLogger({ level: 'info', json: true, stream: rt.agentLog.stream('stdout') }),
    });
  }

  /** The app containers (and a classic sidecar), all at once as kubelet does. */
  private async startAppContainers(rt: PodRuntime): Promise<void> {
    if ((rt.pod.spec?.containers ?? []).some((c) => c.name === SIDECAR_CONTAINER_NAME)) {
      await this.startSidecarAgent(rt);
    }
    for (const c of rt.pod.spec?.containers ?? []) await this.startContainer(rt, c.name);
    await this.applyHealth(rt);
  }

  /**
   * The probe agent's TLS options from the sidecar's bootstrap credential volume (prepared with the
   * pod's other volumes); undefined when the sidecar has none (it then cannot pass the
   * controller's mTLS, as an Envoy without its credential could not).
   */
  private async mountBootstrap(rt: PodRuntime): Promise<ReturnType<typeof agentTlsFor> | undefined> {
    const secretName = bootstrapSecretOf(rt.pod);
    const serverName = adsServerNameOf(rt.pod);
    const dir = rt.volumes.get(BOOTSTRAP_VOLUME_NAME);
    if (!secretName || !serverName || !dir) {
      this.log.warn('sidecar without a bootstrap credential volume: the controller will refuse it', {
        pod: rt.key,
      });
      return undefined;
    }
    const [namespace] = rt.key.split('/') as [string];
    try {
      const secret = await this.core.readNamespacedSecret({ name: secretName, namespace });
      rt.bootstrap = { secret: secretName, dir, version: secret.metadata?.resourceVersion ?? '' };
    } catch (err) {
      this.log.debug('cannot read the bootstrap Secret for its volume sync', {
        pod: rt.key,
        error: errorMessage(err),
      });
    }
    return agentTlsFor(dir, serverName);
  }

  /** Kubelet's periodic sync of secret volumes: a changed Secret is written again, file by file atomically. */
  private async syncVolumes(): Promise<void> {
    for (const rt of [...this.runtimes.values()]) {
      const b = rt.bootstrap;
      if (!b || rt.stopped) continue;
      try {
        const secret = await this.core.readNamespacedSecret({
          name: b.secret,
          namespace: rt.key.split('/')[0]!,
        });
        const version = secret.metadata?.resourceVersion ?? '';
        if (version === b.version) continue;
        await rewriteSecretFiles(b.dir, secret);
        b.version = version;
        this.log.info('secret volume updated', { pod: rt.key, secret: b.secret });
      } catch (err) {
        this.log.debug('secret volume sync failed', { pod: rt.key, error: errorMessage(err) });
      }
    }
  }

  /** What the scheduler's binding does: the pod is assigned to this node (spec.nodeName). */
  private async bind(rt: PodRuntime): Promise<void> {
    if (rt.pod.spec?.nodeName) return;
    const [namespace, name] = rt.key.split('/') as [string, string];
    try {
      await this.core.patchNamespacedPod(
        { name, namespace, body: { spec: { nodeName: this.nodeName } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
    } catch (err) {
      this.log.debug('cannot bind pod to the node', { pod: rt.key, error: errorMessage(err) });
    }
  }

  /** Volumes and API access of the pod; false (with a FailedMount event, retried) when they fail. */
  private async preparePod(rt: PodRuntime): Promise<boolean> {
    try {
      mkdirSync(rt.dir, { recursive: true });
      rt.volumes = await preparePodVolumes(rt.dir, rt.pod, this.core);
      if (this.opts.apiAccess) rt.kubeconfig = await writePodKubeconfig(rt.dir, rt.pod, this.opts.apiAccess);
      return true;
    } catch (err) {
      await this.event(rt, { type: 'Warning', reason: 'FailedMount', message: errorMessage(err) });
      // A real kubelet retries the mount: the pod starts over once what it needs exists.
      await this.teardown(rt);
      setTimeout(() => this.queue.add(rt.key), 2000).unref();
      return false;
    }
  }

  private beginLog(rt: PodRuntime, container: string): ContainerLog {
    const [namespace, name] = rt.key.split('/') as [string, string];
    return this.logs.begin(namespace, name, rt.uid, container);
  }

  /** Starts (or restarts) one container: its workload, then its probes. */
  private async startContainer(rt: PodRuntime, name: string): Promise<void> {
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
          binary === 'fsm-healthcheck' ? this.opts.healthcheckBinary : this.opts.binaryPath?.(binary);
        if (!script) throw new Error(`no binary for image ${c.image ?? ''} in this sandbox`);
        const proc = startBinaryContainer({ ...rt, container: c, binary, script, log: cr.log! });
        cr.process = proc;
        void proc.exited.then((t) => {
          // Exited on its own (not stopped by us): the container terminated; restart it.
          if (cr.process === proc && !rt.stopped) void this.restartLater(rt, name, t, 'exited');
        });
      } catch (err) {
        cr.waiting = 'CreateContainerError';
        await this.event(rt, {
          type: 'Warning',
          reason: 'Failed',
          message: `Error: ${errorMessage(err)}`,
          container: name,
        });
        this.writeStatus(rt);
        return;
      }
    } else if (!SPECIAL.has(name)) {
      const ports = (c.ports ?? [])
        .filter((p) => (p.protocol ?? 'TCP') === 'TCP')
        .map((p) => p.containerPort);
      const kind = workloadKindForImage(c.image);
      try {
        cr.workload = await startWorkload({
          kind,
          host: rt.ip,
          ports,
          name,
          log: (line: string) => cr.log?.write('stdout', `${line}\n`),
          ...(kind === 'https'
            ? { tls: await this.opts.ca.issue({ commonName: name, ipAddresses: [rt.ip] }) }
            : {}),
        });
      } catch (err) {
        cr.waiting = 'CrashLoopBackOff';
        await this.event(rt, {
          type: 'Warning',
          reason: 'Failed',
          message: `Error: ${errorMessage(err)}`,
          container: name,
        });
        this.writeStatus(rt);
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
      (_type: ProbeType, probe: V1Probe) => runProbe(probe, rt.ip, c.ports),
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
          if (started) this.releaseWaiters(cr);
          this.writeStatus(rt);
        },
      },
    );
    cr.prober.start();
  }

  /**
   * Runs a container's lifecycle hook (if it has one) and keeps the result; a failure is kubelet's
   * Failed<Hook>Hook warning event. False when the hook failed.
   */
  private async runHook(
    rt: PodRuntime,
    cr: ContainerRuntime,
    hook: 'postStart' | 'preStop',
  ): Promise<boolean> {
    const handler = cr.spec.lifecycle?.[hook];
    if (!handler) return true;
    const graceMs = (rt.pod.spec?.terminationGracePeriodSeconds ?? DEFAULT_GRACE_SECONDS) * 1000;
    const run = await runLifecycleHook(rt.pod, cr.spec, hook, handler, rt.ip, graceMs);
    const runs = this.hookRuns.get(rt.key) ?? [];
    runs.push(run);
    this.hookRuns.delete(rt.key);
    this.hookRuns.set(rt.key, runs.slice(-HOOK_RUNS_KEPT));
    // Bounded: the pods whose hooks ran least recently are forgotten first.
    if (this.hookRuns.size > HOOK_RUN_PODS_KEPT) this.hookRuns.delete(this.hookRuns.keys().next().value!);
    if (run.ok) {
      this.log.debug('lifecycle hook ran', {
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

  /** A probe or the postStart hook failed: kill the container and start it again after the restart delay. */
  private async kill(rt: PodRuntime, name: string, why: string): Promise<void> {
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
  private async stopContainer(rt: PodRuntime, cr: ContainerRuntime): Promise<Termination | undefined> {
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
      this.log.warn('container exited', { pod: rt.key, container: name, exitCode: t.exitCode });
    }
    cr.ready = false;
    cr.started = false;
    cr.restartCount++;
    cr.lastTermination = { reason: t.reason, exitCode: t.exitCode, finishedAt: new Date() };
    this.writeStatus(rt);
    // Kubelet's crash-loop back-off: the delay doubles with each restart, capped.
    const base = this.opts.restartDelayMs ?? 1000;
    const delay = Math.min(base * 2 ** (cr.restartCount - 1), RESTART_BACKOFF_CAP_MS);
    if (cr.restartCount > 1) {
      cr.waiting = 'CrashLoopBackOff';
      await this.event(rt, {
        type: 'Warning',
        reason: 'BackOff',
        message: `Back-off restarting failed container ${name} in pod ${rt.key.split('/')[1]}`,
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
  private async applyHealth(rt: PodRuntime): Promise<void> {
    const names = [...rt.containers.keys()];
    const freeze = rt.pod.metadata?.annotations?.[FREEZE_ANNOTATION];
    const frozen = frozenContainers(freeze, names);
    for (const [name, cr] of rt.containers) {
      if (!cr.process) continue;
      if (frozen.has(name) && cr.frozenBy !== freeze) {
        cr.frozenBy = freeze;
        cr.process.freeze();
        this.log.info('container frozen (SIGSTOP)', { pod: rt.key, container: name });
      } else if (!frozen.has(name) && cr.process.frozen) {
        cr.process.thaw();
        this.log.info('container thawed (SIGCONT)', { pod: rt.key, container: name });
      }
      if (!frozen.has(name)) cr.frozenBy = undefined;
    }
    const broken = unhealthyContainers(rt.pod.metadata?.annotations?.[UNHEALTHY_ANNOTATION], names);
    for (const [name, cr] of rt.containers) {
      const healthy = !broken.has(name);
      if (cr.workload && cr.workload.healthy !== healthy) {
        this.log.info(healthy ? 'app fixed' : 'app broken', { pod: rt.key, container: name });
        await cr.workload.setHealthy(healthy);
      }
    }
  }

  private event(rt: PodRuntime, ev: PodEvent): Promise<void> {
    return this.events.record(rt.pod, ev);
  }

  /** Coalesces status writes of a pod (several probes may report in the same tick). */
  private writeStatus(rt: PodRuntime): void {
    if (rt.statusTimer || rt.stopped) return;
    rt.statusTimer = setTimeout(() => {
      rt.statusTimer = undefined;
      void this.patchStatus(rt);
    }, 20);
  }

  private async patchStatus(rt: PodRuntime): Promise<void> {
    if (rt.stopped) return;
    const [namespace, name] = rt.key.split('/') as [string, string];
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
    const now = new Date();
    const cond = (type: string, ok: boolean) => ({
      type,
      status: ok ? 'True' : 'False',
      lastTransitionTime: now,
    });
    const body = {
      status: {
        phase: rt.initialized ? 'Running' : 'Pending',
        hostIP: '127.0.0.1',
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
            sidecarStatuses.get(c.name) ?? {
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
      },
    };
    try {
      await this.core.patchNamespacedPodStatus(
        { name, namespace, body },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
    } catch (err) {
      this.log.debug('cannot write pod status', { pod: rt.key, error: errorMessage(err) });
    }
  }

  /**
   * Stops a pod. `graceful` (the pod was deleted): each container runs its preStop hook before it
   * stops; app containers (with a classic sidecar) stop together, native sidecars only after them,
   * in reverse order — so a preStop hook sent through a native sidecar reaches the app, and one sent
   * through a classic sidecar races the sidecar's own stop, as on a real node.
   */
  private async teardown(rt: PodRuntime, graceful = false): Promise<void> {
    rt.stopped = true;
    clearTimeout(rt.statusTimer);
    this.runtimes.delete(rt.key);
    for (const cr of rt.containers.values()) this.releaseWaiters(cr);
    const stop = async (cr: ContainerRuntime): Promise<void> => {
      if (graceful && cr.startedAt) await this.runHook(rt, cr, 'preStop');
      await this.stopContainer(rt, cr);
    };
    const all = [...rt.containers.values()];
    const nativeSidecar = all.some((cr) => cr.init && cr.spec.name === SIDECAR_CONTAINER_NAME);
    await Promise.all([
      ...all.filter((cr) => !cr.init).map(stop),
      ...(nativeSidecar ? [] : [rt.agent?.stop()]),
    ]);
    for (const cr of all.filter((x) => x.init).reverse()) await stop(cr);
    await rt.agent?.stop();
    await rt.agentLog?.end();
    this.addresses.release(rt.ip);
    this.events.forget(rt.uid);
    const [namespace, name] = rt.key.split('/') as [string, string];
    await this.logs.forget(namespace, name, rt.uid);
    // The pod's volumes and kubeconfig go with it, as a node removes a deleted pod's directory.
    rmSync(rt.dir, { recursive: true, force: true });
    this.log.info('pod stopped', { pod: rt.key });
  }
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
