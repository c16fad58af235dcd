/**
 * The sandbox's kubelet: for each pod it gives the pod its own loopback address, starts its
 * containers as sandbox workloads on it, starts the xDS probe agent for an injected sidecar and the
 * real fsm-healthcheck binary for an fsm-healthcheck container, runs the pod's probes with kubelet's
 * semantics, restarts containers whose liveness (or startup) probe fails, and writes pod status and
 * kubelet-worded Events — so `kubectl get/describe pod` read as on a real node.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { rm } from 'node:fs/promises';
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
  HEALTHCHECK_ALLOWED_PORTS_ENV,
  HEALTHCHECK_CONTAINER_NAME,
  HEALTHCHECK_PORT,
  PROXY_UUID_LABEL,
  SIDECAR_CONTAINER_NAME,
  type ProbeType,
} from '../../constants/index.js';
import { podInformer, WorkQueue, type ResourceInformer } from '../../k8s/index.js';
import { errorMessage, type Logger } from '../../logger/index.js';
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
import { adsServerNameOf, agentTlsFor, bootstrapSecretOf, projectSecretVolume } from './secret-volume.js';
import { EventRecorder, type PodEvent } from './events.js';
import { runProbe } from './probe-exec.js';
import { ContainerProber } from './prober.js';

export interface NodeAgentOptions {
  kubeConfig: KubeConfig;
  logger: Logger;
  /** host:port of fsm-controller's ADS (the probe agents connect there). */
  adsAddress: string;
  /** Built fsm-healthcheck (dist/cmd/fsm-healthcheck/main.js), run with this Node. */
  healthcheckBinary: string;
  /** Signs the certificates of HTTPS demo apps. */
  ca: CertificateAuthority;
  nodeName?: string;
  /** Delay before a killed container starts again (kubelet's back-off starts at 10 s). */
  restartDelayMs?: number;
  /** Third-octet range of pod addresses 127.0.<block>.x (default 1-255). */
  podAddressBlocks?: { first: number; last: number };
  /** Where pods' volumes are written (default a folder under the OS temp directory). */
  stateDir?: string;
  /** How often mounted secret volumes are refreshed from their Secret (kubelet's sync; default 10 s). */
  volumeSyncMs?: number;
}

interface ContainerRuntime {
  spec: V1Container;
  workload?: Workload;
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
  healthcheck?: ChildProcess;
  startTime: Date;
  statusTimer?: NodeJS.Timeout;
  stopped: boolean;
  /** The bootstrap secret volume: Secret name, directory, and the version last written. */
  bootstrap?: { secret: string; dir: string; version: string };
}

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

  constructor(private readonly opts: NodeAgentOptions) {
    this.nodeName = opts.nodeName ?? 'sandbox-node';
    this.addresses = new AddressPool(opts.podAddressBlocks?.first, opts.podAddressBlocks?.last);
    this.log = opts.logger.child({ component: 'kubelet' });
    this.stateDir = opts.stateDir ?? join(tmpdir(), `fsm-sandbox-kubelet-${process.pid}`);
    this.core = opts.kubeConfig.makeApiClient(CoreV1Api);
    this.pods = podInformer(opts.kubeConfig, opts.logger);
    this.events = new EventRecorder(this.core, this.nodeName, this.log);
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
  }

  /** The probe agent (sidecar stand-in) status of a running pod. */
  probeAgentStatus(namespace: string, name: string): ProbeAgentStatus | undefined {
    return this.runtimes.get(`${namespace}/${name}`)?.agent?.status();
  }

  /** The address of a running pod (tests, the guide). */
  podIP(namespace: string, name: string): string | undefined {
    return this.runtimes.get(`${namespace}/${name}`)?.ip;
  }

  private async reconcile(key: string): Promise<void> {
    const [namespace, name] = key.split('/') as [string, string];
    const pod = this.pods.get(name, namespace);
    let rt = this.runtimes.get(key);
    if (rt && (!pod || pod.metadata?.uid !== rt.uid || pod.metadata?.deletionTimestamp)) {
      await this.teardown(rt);
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
    const rt: PodRuntime = {
      key,
      uid: pod.metadata?.uid ?? '',
      ip,
      pod,
      containers: new Map(),
      startTime: new Date(),
      stopped: false,
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
    for (const c of pod.spec?.containers ?? []) {
      rt.containers.set(c.name, { spec: c, restartCount: 0, ready: false, started: false });
    }
    this.writeStatus(rt);

    const uuid = pod.metadata?.labels?.[PROXY_UUID_LABEL];
    for (const c of pod.spec?.containers ?? []) {
      if (c.name === SIDECAR_CONTAINER_NAME && uuid) {
        const tls = await this.mountBootstrap(rt);
        rt.agent = await startProbeAgent({
          ...(tls ? { tls } : {}),
          adsAddress: this.opts.adsAddress,
          nodeId: uuid,
          nodeCluster: `${pod.spec?.serviceAccountName ?? 'default'}.${pod.metadata?.namespace}`,
          podAddress: ip,
          endpointHostMap: { '127.0.0.1': ip },
          // Envoy retries ADS quickly too; a controller restart converges within seconds.
          backoff: { initialMs: 250, maxMs: 2000, multiplier: 2 },
          logger: this.opts.logger,
        });
      } else if (c.name === HEALTHCHECK_CONTAINER_NAME) {
        rt.healthcheck = this.spawnHealthcheck(rt, c);
      }
    }
    for (const c of pod.spec?.containers ?? []) await this.startContainer(rt, c.name);
    await this.applyHealth(rt);
  }

  /**
   * Mounts the sidecar's bootstrap credential volume (its Secret's keys as files) and returns the
   * probe agent's TLS options; undefined when the sidecar has none (it then cannot pass the
   * controller's mTLS, as an Envoy without its credential could not).
   */
  private async mountBootstrap(rt: PodRuntime): Promise<ReturnType<typeof agentTlsFor> | undefined> {
    const secretName = bootstrapSecretOf(rt.pod);
    const serverName = adsServerNameOf(rt.pod);
    if (!secretName || !serverName) {
      this.log.warn('sidecar without a bootstrap credential volume: the controller will refuse it', {
        pod: rt.key,
      });
      return undefined;
    }
    const [namespace] = rt.key.split('/') as [string];
    const dir = join(this.stateDir, rt.uid || rt.key.replace('/', '_'), 'volumes', 'fsm-bootstrap');
    try {
      const secret = await this.core.readNamespacedSecret({ name: secretName, namespace });
      rt.bootstrap = { secret: secretName, dir, version: await projectSecretVolume(dir, secret) };
    } catch (err) {
      await this.event(rt, {
        type: 'Warning',
        reason: 'FailedMount',
        message: `MountVolume.SetUp failed for volume "fsm-bootstrap" : secret "${secretName}" not found: ${errorMessage(err)}`,
      });
      return undefined;
    }
    return agentTlsFor(dir, serverName);
  }

  /** Kubelet's periodic sync of secret volumes: a changed Secret is written again (atomically). */
  private async syncVolumes(): Promise<void> {
    for (const rt of [...this.runtimes.values()]) {
      const b = rt.bootstrap;
      if (!b || rt.stopped) continue;
      try {
        const secret = await this.core.readNamespacedSecret({
          name: b.secret,
          namespace: rt.key.split('/')[0]!,
        });
        if ((secret.metadata?.resourceVersion ?? '') === b.version) continue;
        b.version = await projectSecretVolume(b.dir, secret);
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

  private spawnHealthcheck(rt: PodRuntime, c: V1Container): ChildProcess {
    const allowed = c.env?.find((e) => e.name === HEALTHCHECK_ALLOWED_PORTS_ENV)?.value ?? '';
    const child = spawn(
      process.execPath,
      [
        this.opts.healthcheckBinary,
        '--bind-address',
        rt.ip,
        '--target-host',
        rt.ip,
        '--port',
        String(HEALTHCHECK_PORT),
      ],
      {
        stdio: ['ignore', 'ignore', 'pipe'],
        env: { ...process.env, [HEALTHCHECK_ALLOWED_PORTS_ENV]: allowed },
      },
    );
    child.stderr?.on('data', (d: Buffer) =>
      this.log.warn('fsm-healthcheck stderr', { pod: rt.key, text: d.toString().trim() }),
    );
    child.on('exit', (code) => {
      if (!rt.stopped) this.log.warn('fsm-healthcheck exited', { pod: rt.key, code });
    });
    return child;
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
    if (!SPECIAL.has(name)) {
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
        onKill: (type) => void this.kill(rt, name, type),
        onStatus: ({ ready, started }) => {
          cr.ready = ready;
          cr.started = started;
          this.writeStatus(rt);
        },
      },
    );
    cr.prober.start();
  }

  /** Liveness/startup failed: kill the container and start it again after the restart delay. */
  private async kill(rt: PodRuntime, name: string, type: 'liveness' | 'startup'): Promise<void> {
    const cr = rt.containers.get(name);
    if (!cr || rt.stopped) return;
    await this.event(rt, {
      type: 'Normal',
      reason: 'Killing',
      message: `Container ${name} failed ${type} probe, will be restarted`,
      container: name,
    });
    cr.prober?.stop();
    await cr.workload?.stop();
    cr.workload = undefined;
    cr.ready = false;
    cr.started = false;
    cr.restartCount++;
    cr.lastTermination = { reason: 'Error', exitCode: 137, finishedAt: new Date() };
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

  /** The sandbox.flomesh.io/unhealthy annotation breaks or fixes the apps. */
  private async applyHealth(rt: PodRuntime): Promise<void> {
    const names = [...rt.containers.keys()];
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
    const statuses: V1ContainerStatus[] = [...rt.containers.entries()].map(([n, cr]) => ({
      name: n,
      image: cr.spec.image ?? '',
      imageID: '',
      containerID: `sandbox://${rt.uid}/${n}/${cr.restartCount}`,
      ready: cr.ready,
      started: cr.started,
      restartCount: cr.restartCount,
      state:
        cr.waiting || !cr.startedAt || (!cr.workload && !SPECIAL.has(n))
          ? { waiting: { reason: cr.waiting ?? 'ContainerCreating' } }
          : { running: { startedAt: cr.startedAt } },
      ...(cr.lastTermination ? { lastState: { terminated: { ...cr.lastTermination } } } : {}),
    }));
    const allReady = statuses.length > 0 && statuses.every((s) => s.ready);
    const now = new Date();
    const cond = (type: string, ok: boolean) => ({
      type,
      status: ok ? 'True' : 'False',
      lastTransitionTime: now,
    });
    const body = {
      status: {
        phase: 'Running',
        hostIP: '127.0.0.1',
        podIP: rt.ip,
        podIPs: [{ ip: rt.ip }],
        startTime: rt.startTime,
        conditions: [
          cond('PodScheduled', true),
          cond('Initialized', true),
          cond('ContainersReady', allReady),
          cond('Ready', allReady),
        ],
        containerStatuses: statuses,
        initContainerStatuses: (rt.pod.spec?.initContainers ?? []).map((c) => ({
          name: c.name,
          image: c.image ?? '',
          imageID: '',
          ready: true,
          restartCount: 0,
          state: {
            terminated: {
              exitCode: 0,
              reason: 'Completed',
              startedAt: rt.startTime,
              finishedAt: rt.startTime,
            },
          },
        })),
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

  private async teardown(rt: PodRuntime): Promise<void> {
    rt.stopped = true;
    clearTimeout(rt.statusTimer);
    this.runtimes.delete(rt.key);
    for (const cr of rt.containers.values()) {
      cr.prober?.stop();
      await cr.workload?.stop();
    }
    await rt.agent?.stop();
    if (rt.healthcheck && rt.healthcheck.exitCode === null) {
      const exited = new Promise((r) => rt.healthcheck!.once('exit', r));
      rt.healthcheck.kill('SIGTERM');
      await exited;
    }
    this.addresses.release(rt.ip);
    this.events.forget(rt.uid);
    if (rt.bootstrap) await rm(join(rt.bootstrap.dir, '..', '..'), { recursive: true, force: true });
    this.log.info('pod stopped', { pod: rt.key });
  }
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
