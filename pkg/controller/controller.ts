/**
 * fsm-controller's composition root: the ADS server binds first; only then does :9091 listen (so
 * kubelet's liveness probe is refused until the gRPC server exists); informers start and the
 * propagator turns pod changes into per-proxy snapshots. stop() reverses it within an explicit budget
 * (--shutdown-grace, derived from the Deployment's terminationGracePeriodSeconds): readiness 503 at
 * once, every ADS stream told to go elsewhere at once (UNAVAILABLE, and GOAWAY on its connection:
 * Envoy reconnects through the Service to another replica and keeps its config meanwhile), informers
 * stop, :9091 closes last.
 */
import type { KubeConfig, V1Namespace, V1Pod } from '@kubernetes/client-node';
import { Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { bindHost } from '../binary/index.js';
import { AdsServer } from '../ads/index.js';
import { CatalogMetrics, ProxyPropagator } from '../catalog/index.js';
import {
  ADS_SHUTDOWN_FLUSH_MS,
  DEFAULT_CONTROLLER_SHUTDOWN_GRACE_MS,
  HEALTH_SHUTDOWN_HOLD_MS,
} from '../constants/index.js';
import { createHealthServer, debugRoutes, type HealthServer, type ReadinessCheck } from '../health/index.js';
import { isMonitoredNamespace, namespaceInformer, podInformer, type ResourceInformer } from '../k8s/index.js';
import { errorMessage, type Logger } from '../logger/index.js';
import { ProbeDiagnoser } from './probe-diagnosis.js';

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
  onReconciled?: (key: string, outcome: string) => void;
  /** Root causes of failed probes: at most one diagnosis per pod, container and probe in this window (ms). */
  probeDiagnosisIntervalMs?: number;
}

export interface RunningController {
  adsPort: number;
  healthPort: number;
  propagator: ProxyPropagator;
  ads: AdsServer;
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

  const ads = new AdsServer({ logger: log, registry });
  const pods: ResourceInformer<V1Pod> = podInformer(opts.kubeConfig, log);
  const namespaces: ResourceInformer<V1Namespace> = namespaceInformer(opts.kubeConfig, log);
  new Gauge({
    name: 'fsm_controller_informer_restarts',
    help: 'Restarts of each informer after failures (dropped sockets, errors, 410s, failed lists)',
    labelNames: ['informer'],
    registers: [registry],
    collect() {
      this.set({ informer: 'pods' }, pods.restartCount());
      this.set({ informer: 'namespaces' }, namespaces.restartCount());
    },
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
      informerCheck('namespaces', namespaces, opts.outOfSyncThresholdMs),
      informerCheck('pods', pods, opts.outOfSyncThresholdMs),
    ],
    registry,
    version: opts.version,
    logger: log,
    routes: debugRoutes(propagator),
  });

  const { port: adsPort } = await ads.start({ port: opts.adsPort, host: bindHost(opts.bindAddress) });
  let healthPort: number;
  try {
    healthPort = (await health.listen(opts.healthPort, opts.bindAddress)).port;
  } catch (err) {
    await ads.stop(0);
    throw err;
  }
  propagator.start();
  diagnoser.start();
  // Informers retry on their own; a start() rejection only means "stopped before the first sync".
  for (const inf of [namespaces, pods]) {
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
    ads,
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
        await Promise.all([propagator.stop(), diagnoser.stop(), pods.stop(), namespaces.stop()]);
        await drained;
        await health.close();
        log.info('fsm-controller stopped', { elapsedMs: Date.now() - t0, budgetMs: budget });
      })()),
  };
}
