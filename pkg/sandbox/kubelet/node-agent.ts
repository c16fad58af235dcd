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
 * - network (pod-network.ts): in namespace mode the pod's own network namespace on the node's bridge
 *   (pkg/sandbox/netns), its processes started inside it (the sidecar as the proxy UID) and fsm-init
 *   run there for real; in loopback mode the pod's own loopback address 127.0.x.y, which processes
 *   get as $FSM_SANDBOX_POD_IP and bind where they would bind a wildcard (pkg/binary bindHost).
 * - API access: a per-pod kubeconfig ($KUBECONFIG) with a token of the pod (service-account.ts).
 * - volumes: directories under the pod's directory; paths under a mountPath in args and env are
 *   rewritten to them (volumes.ts).
 * - init containers (init-containers.ts): namespace mode runs fsm-init's script in the pod's
 *   namespace (a failure is Init:Error, retried with back-off); loopback mode logs the rules it
 *   would apply; other init containers complete at once.
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
  type V1Pod,
} from '@kubernetes/client-node';
import { SIDECAR_CONTAINER_NAME } from '../../constants/index.js';
import { PodEventRecorder, podInformer, WorkQueue, type ResourceInformer } from '../../k8s/index.js';
import { errorMessage, type Logger } from '../../logger/index.js';
import type { CertificateAuthority } from '../../tls/index.js';
import type { ProbeAgentStatus } from '../agent/index.js';
import { ContainerRunner } from './container-runner.js';
import type { HookRun } from './lifecycle.js';
import { runInitContainer, runInitInNamespace, runsInNamespace } from './init-containers.js';
import { NodeLogs } from './logs.js';
import { releaseWaiters, type ContainerRuntime, type PodRuntime } from './pod-runtime.js';
import { loopbackPods, type PodNetworkProvider } from './pod-network.js';
import { podStatus } from './pod-status.js';
import type { BinaryImage } from './processes.js';
import { writePodKubeconfig, type ApiAccess } from './service-account.js';
import { sidecarStatus, startSidecarStandIn, stopSidecar, syncBootstrapVolumes } from './sidecar-stand-in.js';
import { preparePodVolumes } from './volumes.js';

export interface NodeAgentOptions {
  kubeConfig: KubeConfig;
  logger: Logger;
  /** host:port of fsm-controller's ADS (the probe agents connect there), or how to find it per sidecar. */
  adsAddress: string | (() => string | undefined);
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
  /** The pods' network (default: loopback addresses of podAddressBlocks). */
  network?: PodNetworkProvider;
  /** Namespace mode: the process entries of the probe agent and of the demo apps. */
  agentScript?: string;
  workloadScript?: string;
}

export class NodeAgent {
  readonly nodeName: string;
  private readonly core: CoreV1Api;
  private readonly pods: ResourceInformer<V1Pod>;
  private readonly queue: WorkQueue;
  private readonly runtimes = new Map<string, PodRuntime>();
  private readonly network: PodNetworkProvider;
  private readonly events: PodEventRecorder;
  private readonly log: Logger;
  private readonly stateDir: string;
  private volumeTimer: NodeJS.Timeout | undefined;
  private readonly runner: ContainerRunner;
  /** Every container's log (the API server's pods/log reads them through podLogs()). */
  readonly logs: NodeLogs;

  constructor(private readonly opts: NodeAgentOptions) {
    this.nodeName = opts.nodeName ?? 'sandbox-node';
    this.network = opts.network ?? loopbackPods(opts.podAddressBlocks);
    this.log = opts.logger.child({ component: 'kubelet' });
    this.core = opts.kubeConfig.makeApiClient(CoreV1Api);
    this.pods = podInformer(opts.kubeConfig, opts.logger);
    this.events = new PodEventRecorder({
      core: this.core,
      component: 'kubelet',
      host: this.nodeName,
      instance: this.nodeName,
      logger: this.log,
    });
    this.stateDir = opts.stateDir ?? join(tmpdir(), `fsm-sandbox-node-${process.pid}`);
    this.logs = new NodeLogs(join(this.stateDir, 'logs'));
    this.runner = new ContainerRunner({
      events: this.events,
      logs: this.logs,
      log: this.log,
      healthcheckBinary: opts.healthcheckBinary,
      binaryPath: opts.binaryPath,
      ca: opts.ca,
      restartDelayMs: opts.restartDelayMs,
      writeStatus: (rt) => this.writeStatus(rt),
      network: this.network.node,
      hostIP: this.network.hostIP,
      ...(opts.workloadScript ? { workloadScript: opts.workloadScript } : {}),
    });
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
    this.volumeTimer = setInterval(
      () => void syncBootstrapVolumes(this.runtimes.values(), { core: this.core, log: this.log }),
      this.opts.volumeSyncMs ?? 10_000,
    );
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

  /** The probe agent (sidecar stand-in) status of a running pod (loopback mode: the agent runs here). */
  probeAgentStatus(namespace: string, name: string): ProbeAgentStatus | undefined {
    return this.runtimes.get(`${namespace}/${name}`)?.agent?.status();
  }

  /** The sidecar stand-in's status of a running pod, in either mode (namespace mode asks its process). */
  async sidecarStatus(namespace: string, name: string): Promise<ProbeAgentStatus | undefined> {
    const rt = this.runtimes.get(`${namespace}/${name}`);
    return rt ? sidecarStatus(rt) : undefined;
  }

  /** The network namespace of a running pod (namespace mode). */
  podNetns(namespace: string, name: string): string | undefined {
    return this.runtimes.get(`${namespace}/${name}`)?.address?.netns;
  }

  /** The address of a running pod (tests, the guide). */
  podIP(namespace: string, name: string): string | undefined {
    return this.runtimes.get(`${namespace}/${name}`)?.ip;
  }

  /** The lifecycle hooks run for a pod of this name, oldest first (kept after the pod is gone). */
  lifecycleHookRuns(namespace: string, name: string): HookRun[] {
    return this.runner.hookRunsOf(`${namespace}/${name}`);
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
    await this.runner.applyHealth(rt);
  }

  /** Schedules and starts a new pod. */
  private async run(key: string, pod: V1Pod): Promise<void> {
    let address;
    try {
      address = await this.network.allocate();
    } catch (err) {
      this.log.warn('cannot give the pod a network; retrying', { pod: key, error: errorMessage(err) });
      await this.events.record(pod, {
        type: 'Warning',
        reason: 'FailedCreatePodSandBox',
        message: `Failed to create pod sandbox: ${errorMessage(err)}`,
      });
      setTimeout(() => this.queue.add(key), 2000).unref();
      return;
    }
    const ip = address.ip;
    const uid = pod.metadata?.uid ?? '';
    const rt: PodRuntime = {
      key,
      uid,
      ip,
      address,
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
    this.log.info('starting pod', { pod: key, ip, ...(address.netns ? { netns: address.netns } : {}) });
    await this.bind(rt);
    await this.runner.event(rt, {
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
      const start = async (): Promise<void> => {
        for (const c of pod.spec?.initContainers ?? []) {
          if (!(await this.runRegularInit(rt, c))) return;
        }
        rt.initialized = true;
        this.writeStatus(rt);
        await this.startAppContainers(rt);
      };
      // An init container run for real may fail and be retried with back-off for as long as the pod
      // exists: the pod starts in the background, so its deletion (same work-queue key) is not held up.
      if (rt.address?.netns && (pod.spec?.initContainers ?? []).some(runsInNamespace)) {
        void start().catch((err: unknown) =>
          this.log.warn('pod start failed', { pod: rt.key, error: errorMessage(err) }),
        );
        return;
      }
      await start();
      return;
    }
    // Native sidecars hold the app containers until they are started: that may take long (or never
    // happen), so the pod starts in the background and the work queue stays free for its updates.
    void this.startInitThenApp(rt).catch((err: unknown) =>
      this.log.warn('pod start failed', { pod: rt.key, error: errorMessage(err) }),
    );
  }

  /**
   * A regular init container, until it completes (true) or the pod stops (false). Namespace mode
   * runs fsm-init for real: a failure is the init container's (Init:Error, then
   * Init:CrashLoopBackOff) and it runs again after kubelet's back-off. Others complete at once.
   */
  private async runRegularInit(rt: PodRuntime, c: V1Container): Promise<boolean> {
    const [namespace, name] = rt.key.split('/') as [string, string];
    const netns = rt.address?.netns;
    if (!netns || !runsInNamespace(c)) {
      runInitContainer(c, this.logs.begin(namespace, name, rt.uid, c.name));
      rt.initDone.add(c.name);
      return true;
    }
    for (;;) {
      if (rt.stopped) return false;
      const code = await runInitInNamespace(
        c,
        netns,
        rt.dir,
        this.logs.begin(namespace, name, rt.uid, c.name),
      );
      if (rt.stopped) return false;
      if (code === 0) {
        rt.initFailures?.delete(c.name);
        rt.initDone.add(c.name);
        this.writeStatus(rt);
        return true;
      }
      const failures = (rt.initFailures ??= new Map());
      const count = (failures.get(c.name)?.count ?? 0) + 1;
      failures.set(c.name, { exitCode: code, count, finishedAt: new Date() });
      this.log.warn('init container failed', {
        pod: rt.key,
        container: c.name,
        exitCode: code,
        failures: count,
      });
      this.writeStatus(rt);
      const base = this.opts.restartDelayMs ?? 1000;
      const delay = Math.min(base * 2 ** (count - 1), 30_000);
      await this.runner.event(rt, {
        type: 'Warning',
        reason: 'BackOff',
        message: `Back-off restarting failed container ${c.name} in pod ${name}`,
        container: c.name,
      });
      await new Promise((r) => setTimeout(r, delay).unref());
    }
  }

  /** Init containers in order (native sidecars until started), then the app containers. */
  private async startInitThenApp(rt: PodRuntime): Promise<void> {
    for (const c of rt.pod.spec?.initContainers ?? []) {
      if (rt.stopped) return;
      if (c.restartPolicy !== 'Always') {
        if (!(await this.runRegularInit(rt, c))) return;
        this.writeStatus(rt);
        continue;
      }
      if (c.name === SIDECAR_CONTAINER_NAME) await this.startSidecar(rt);
      await this.runner.startContainer(rt, c.name);
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

  /** The xDS probe agent standing in for the pod's sidecar (Envoy). */
  private startSidecar(rt: PodRuntime): Promise<void> {
    return startSidecarStandIn(
      rt,
      {
        core: this.core,
        log: this.log,
        adsAddress:
          typeof this.opts.adsAddress === 'string'
            ? () => this.opts.adsAddress as string
            : this.opts.adsAddress,
        beginLog: (r, c) => this.runner.beginLog(r, c),
        ...(this.opts.agentScript ? { agentScript: this.opts.agentScript } : {}),
      },
      SIDECAR_CONTAINER_NAME,
    );
  }

  /** The app containers (and a classic sidecar), all at once as kubelet does. */
  private async startAppContainers(rt: PodRuntime): Promise<void> {
    if ((rt.pod.spec?.containers ?? []).some((c) => c.name === SIDECAR_CONTAINER_NAME)) {
      await this.startSidecar(rt);
    }
    for (const c of rt.pod.spec?.containers ?? []) await this.runner.startContainer(rt, c.name);
    await this.runner.applyHealth(rt);
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
      await this.runner.event(rt, { type: 'Warning', reason: 'FailedMount', message: errorMessage(err) });
      // A real kubelet retries the mount: the pod starts over once what it needs exists.
      await this.teardown(rt);
      setTimeout(() => this.queue.add(rt.key), 2000).unref();
      return false;
    }
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
    const body = { status: podStatus(rt, new Date(), this.network.hostIP) };
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
    for (const cr of rt.containers.values()) releaseWaiters(cr);
    const stop = async (cr: ContainerRuntime): Promise<void> => {
      if (graceful && cr.startedAt) await this.runner.runHook(rt, cr, 'preStop');
      await this.runner.stopContainer(rt, cr);
    };
    const all = [...rt.containers.values()];
    const nativeSidecar = all.some((cr) => cr.init && cr.spec.name === SIDECAR_CONTAINER_NAME);
    await Promise.all([
      ...all.filter((cr) => !cr.init).map(stop),
      ...(nativeSidecar ? [] : [stopSidecar(rt)]),
    ]);
    for (const cr of all.filter((x) => x.init).reverse()) await stop(cr);
    await stopSidecar(rt);
    await rt.agentLog?.end();
    if (rt.address) await this.network.release(rt.address);
    this.events.forget(rt.uid);
    const [namespace, name] = rt.key.split('/') as [string, string];
    await this.logs.forget(namespace, name, rt.uid);
    // The pod's volumes and kubeconfig go with it, as a node removes a deleted pod's directory.
    rmSync(rt.dir, { recursive: true, force: true });
    this.log.info('pod stopped', { pod: rt.key });
  }
}
