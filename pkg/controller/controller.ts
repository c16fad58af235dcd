/**
 * fsm-controller's composition root: the ADS server binds first; only then does :9091 listen (so
 * kubelet's liveness probe is refused until the gRPC server exists); informers start and the
 * propagator turns pod changes into per-proxy snapshots. stop() reverses it within an explicit budget
 * (--shutdown-grace, derived from the Deployment's terminationGracePeriodSeconds): readiness 503 at
 * once, every ADS stream told to go elsewhere at once (UNAVAILABLE, and GOAWAY on its connection:
 * Envoy reconnects through the Service to another replica and keeps its config meanwhile), informers
 * stop, :9091 closes last.
 */
import {
  CoreV1Api,
  type KubeConfig,
  type V1EndpointSlice,
  type V1Namespace,
  type V1Pod,
  type V1Service,
} from '@kubernetes/client-node';
import { Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { bindHost } from '../binary/index.js';
import { AdsServer, SnapshotCache, type StreamLimits } from '../ads/index.js';
import { CatalogMetrics, MeshServicePropagator, ProxyPodIndex, ProxyPropagator } from '../catalog/index.js';
import {
  ADS_SHUTDOWN_FLUSH_MS,
  CONTROLLER_EVENT_SOURCE,
  DEFAULT_CONTROLLER_SHUTDOWN_GRACE_MS,
  DEFAULT_TRUST_DOMAIN,
  HEALTH_SHUTDOWN_HOLD_MS,
  PROXY_CONFIG_PROBLEM_REASON,
} from '../constants/index.js';
import { BootstrapKeeper, MeshCaSource, WorkloadCertIssuer } from '../identity/index.js';
import { createHealthServer, debugRoutes, type HealthServer, type ReadinessCheck } from '../health/index.js';
import {
  PodEventRecorder,
  endpointSliceInformer,
  isMonitoredNamespace,
  namespaceInformer,
  podInformer,
  serviceInformer,
  type ResourceInformer,
} from '../k8s/index.js';
import { errorMessage, type Logger } from '../logger/index.js';
import {
  MeshStreamAuthorizer,
  ServingCertKeeper,
  revokeOnPodGone,
  snapshotSecretSink,
} from './mesh-identity.js';
import { ProbeDiagnoser } from './probe-diagnosis.js';
import { trimPod } from './pod-trim.js';

export interface ControllerOptions {
  kubeConfig: KubeConfig;
  meshName: string;
  fsmNamespace: string;
  adsPort: number;
  healthPort: number;
  bindAddress: string;
  outOfSyncThresholdMs: number;
  debounceMs: number;
  workers: number;
  /** How long open ADS streams may stay after SIGTERM before UNAVAILABLE (default 0: at once). */
  adsDrainGraceMs?: number;
  /** The whole stop's budget (default DEFAULT_CONTROLLER_SHUTDOWN_GRACE_MS); its steps are bounded by it. */
  shutdownGraceMs?: number;
  version: string;
  logger: Logger;
  /** Default: a new Registry with Node's default metrics. */
  registry?: Registry;
  /** /debug answers non-loopback peers too (default false). */
  debugAllowRemote?: boolean;
  /** SPIFFE trust domain of workload certificates (default cluster.local). */
  trustDomain?: string;
  /** Validity of workload certificates (default 24 h; renewed at 2/3 of it). */
  workloadCertValidityMs?: number;
  /** Per-stream bounds of the ADS and concurrent streams per connection. */
  adsLimits?: Partial<StreamLimits>;
  adsMaxStreamsPerConnection?: number;
  /** Bootstrap credential sweep: grace before an orphan is deleted, and the period (tests shorten them). */
  bootstrapGcGraceMs?: number;
  bootstrapGcPeriodMs?: number;
  onReconciled?: (key: string, outcome: string) => void;
  /** Root causes of failed probes: at most one diagnosis per pod, container and probe in this window (ms). */
  probeDiagnosisIntervalMs?: number;
}

export interface RunningController {
  /** Workload certificates served over SDS. */
  workloadCerts: WorkloadCertIssuer;
  adsPort: number;
  healthPort: number;
  propagator: ProxyPropagator;
  /** The mesh's Services → the resources every proxy shares. */
  meshServices: MeshServicePropagator;
  ads: AdsServer;
  ca: MeshCaSource;
  bootstrap: BootstrapKeeper;
  proxyPods: ProxyPodIndex;
  stop(): Promise<void>;
}

/** Readiness check of one informer: synced, and not out of sync for longer than the threshold. */
export function informerCheck<T>(
  name: string,
  informer: ResourceInformer<T>,
  thresholdMs: number,
): ReadinessCheck {
  return {
    name: `informer ${name}`,
    check: () => {
      if (!informer.hasSynced()) return { ok: false, reason: 'not synced yet' };
      const out = informer.outOfSyncMs();
      return out > thresholdMs
        ? { ok: false, reason: `out of sync for ${Math.round(out / 1000)}s` }
        : { ok: true };
    },
  };
}

export async function startController(opts: ControllerOptions): Promise<RunningController> {
  const log = opts.logger;
  const registry = opts.registry ?? new Registry();
  if (!opts.registry) collectDefaultMetrics({ register: registry });

  const pods: ResourceInformer<V1Pod> = podInformer(opts.kubeConfig, log, { transform: trimPod });
  const namespaces: ResourceInformer<V1Namespace> = namespaceInformer(opts.kubeConfig, log);
  const services: ResourceInformer<V1Service> = serviceInformer(opts.kubeConfig, log);
  const endpointSlices: ResourceInformer<V1EndpointSlice> = endpointSliceInformer(opts.kubeConfig, log);
  const trustDomain = opts.trustDomain ?? DEFAULT_TRUST_DOMAIN;
  new Gauge({
    name: 'fsm_controller_informer_restarts',
    help: 'Restarts of each informer after failures (dropped sockets, errors, 410s, failed lists)',
    labelNames: ['informer'],
    registers: [registry],
    collect() {
      this.set({ informer: 'pods' }, pods.restartCount());
      this.set({ informer: 'namespaces' }, namespaces.restartCount());
      this.set({ informer: 'services' }, services.restartCount());
      this.set({ informer: 'endpointslices' }, endpointSlices.restartCount());
    },
  });
  // Mesh identity: the CA (created here when no replica did yet), the pods by proxy UUID, and the
  // sweep of bootstrap credentials (GC of orphans, renewal in place).
  const ca = new MeshCaSource({
    kc: opts.kubeConfig,
    namespace: opts.fsmNamespace,
    meshName: opts.meshName,
    logger: log,
  });
  const caState = await ca.start();
  if (caState.status !== 'ok')
    log.error('mesh CA not usable at start: not ready until it is', { ...caState });
  const proxyPods = new ProxyPodIndex(pods);
  // ADS over mTLS bound to identity: each stream reads only the node its bootstrap credential names.
  const cache = new SnapshotCache();
  const workloadCerts = new WorkloadCertIssuer({
    ca,
    sink: snapshotSecretSink(cache),
    trustDomain,
    ...(opts.workloadCertValidityMs !== undefined ? { validityMs: opts.workloadCertValidityMs } : {}),
    logger: log,
  });
  const ads = new AdsServer({
    cache,
    logger: log,
    registry,
    tls: {},
    authorizer: new MeshStreamAuthorizer(ca, proxyPods, workloadCerts),
    ...(opts.adsLimits ? { limits: opts.adsLimits } : {}),
    ...(opts.adsMaxStreamsPerConnection !== undefined
      ? { maxStreamsPerConnection: opts.adsMaxStreamsPerConnection }
      : {}),
  });
  const servingCert = new ServingCertKeeper(ca, ads, opts.fsmNamespace, log);
  await servingCert.start();
  const stopRevoking = revokeOnPodGone(proxyPods, ads);
  const bootstrap = new BootstrapKeeper({
    kc: opts.kubeConfig,
    meshName: opts.meshName,
    ca,
    pod: (ns, uuid) => proxyPods.pod(ns, uuid),
    podsSynced: () => proxyPods.synced(),
    logger: log,
    ...(opts.bootstrapGcGraceMs !== undefined ? { graceMs: opts.bootstrapGcGraceMs } : {}),
    ...(opts.bootstrapGcPeriodMs !== undefined ? { periodMs: opts.bootstrapGcPeriodMs } : {}),
  });
  // Outbound: every meshed Service's listeners, clusters and endpoints, shared by every proxy.
  const meshServices = new MeshServicePropagator({
    services,
    endpointSlices,
    pods,
    namespaces,
    cache: ads.cache,
    meshName: opts.meshName,
    trustDomain,
    logger: log,
    debounceMs: opts.debounceMs,
  });
  // A problem of a pod's config the user can fix (e.g. a bad flomesh.io/inbound-mtls value) is
  // logged by the catalog and recorded on the pod, where `kubectl describe` shows it.
  const problemEvents = new PodEventRecorder({
    core: opts.kubeConfig.makeApiClient(CoreV1Api),
    component: CONTROLLER_EVENT_SOURCE,
    instance: 'fsm-controller',
    logger: log,
  });
  const propagator = new ProxyPropagator({
    pods,
    namespaces,
    cache: ads.cache,
    meshName: opts.meshName,
    logger: log,
    metrics: new CatalogMetrics(registry),
    debounceMs: opts.debounceMs,
    workers: opts.workers,
    onReconciled: opts.onReconciled,
    trustDomain,
    outbound: meshServices,
    onProblems: (pod, problems) => {
      for (const message of problems) {
        void problemEvents.record(pod, { type: 'Warning', reason: PROXY_CONFIG_PROBLEM_REASON, message });
      }
    },
  });
  // Kubelet's Unhealthy events of rewritten probes → the cause, recorded on the pod (ProbeTargetFailed).
  const diagnoser = new ProbeDiagnoser({
    kubeConfig: opts.kubeConfig,
    pods,
    isMeshNamespace: (name) => isMonitoredNamespace(namespaces.get(name), opts.meshName),
    logger: log,
    registry,
    ...(opts.probeDiagnosisIntervalMs !== undefined ? { intervalMs: opts.probeDiagnosisIntervalMs } : {}),
  });
  const health: HealthServer = createHealthServer({
    lifecycle: ads.lifecycle,
    checks: [
      ca.readinessCheck(),
      informerCheck('namespaces', namespaces, opts.outOfSyncThresholdMs),
      informerCheck('pods', pods, opts.outOfSyncThresholdMs),
      informerCheck('services', services, opts.outOfSyncThresholdMs),
      informerCheck('endpointslices', endpointSlices, opts.outOfSyncThresholdMs),
    ],
    registry,
    version: opts.version,
    logger: log,
    routes: debugRoutes(propagator, { allowRemote: opts.debugAllowRemote ?? false }),
  });

  let adsPort: number;
  try {
    adsPort = (await ads.start({ port: opts.adsPort, host: bindHost(opts.bindAddress) })).port;
  } catch (err) {
    servingCert.stop();
    stopRevoking();
    await ca.stop();
    throw err;
  }
  let healthPort: number;
  try {
    healthPort = (await health.listen(opts.healthPort, opts.bindAddress)).port;
  } catch (err) {
    await ads.stop(0);
    await ca.stop();
    throw err;
  }
  propagator.start();
  meshServices.start();
  bootstrap.start();
  diagnoser.start();
  // Informers retry on their own; a start() rejection only means "stopped before the first sync".
  for (const inf of [namespaces, pods, services, endpointSlices]) {
    inf.start().catch((err: unknown) => log.debug('informer start ended', { error: errorMessage(err) }));
  }
  log.info('fsm-controller started', {
    mesh: opts.meshName,
    fsmNamespace: opts.fsmNamespace,
    adsPort,
    healthPort,
  });

  let stopping: Promise<void> | undefined;
  return {
    adsPort,
    healthPort,
    propagator,
    meshServices,
    ads,
    workloadCerts,
    ca,
    bootstrap,
    proxyPods,
    stop: () =>
      (stopping ??= (async () => {
        const t0 = Date.now();
        const budget = opts.shutdownGraceMs ?? DEFAULT_CONTROLLER_SHUTDOWN_GRACE_MS;
        // ads.stop moves the lifecycle to draining synchronously: /health/ready is 503 from here on.
        // Streams are told to go elsewhere at once; the server stays `draining` (alive, not ready) a
        // moment so a probe or scrape in flight gets a truthful answer.
        const drained = ads.stop(opts.adsDrainGraceMs ?? 0, {
          flushMs: Math.min(ADS_SHUTDOWN_FLUSH_MS, budget / 4),
          holdMs: Math.min(HEALTH_SHUTDOWN_HOLD_MS, budget / 4),
        });
        stopRevoking();
        servingCert.stop();
        await Promise.all([
          propagator.stop(),
          meshServices.stop(),
          diagnoser.stop(),
          pods.stop(),
          namespaces.stop(),
          services.stop(),
          endpointSlices.stop(),
          bootstrap.stop(),
        ]);
        await drained;
        workloadCerts.stop();
        await ca.stop();
        await health.close();
        log.info('fsm-controller stopped', { elapsedMs: Date.now() - t0, budgetMs: budget });
      })()),
  };
}
