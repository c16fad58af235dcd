import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { OUTDATED_INJECTION_METRIC } from '../constants/index.js';

/** Controller-side metrics of change propagation (the ADS server registers its own). */
export class CatalogMetrics {
  readonly reconcileSeconds: Histogram<'result'>;
  readonly proxies: Gauge;
  readonly snapshotsSet: Counter;
  readonly podProblems: Gauge;
  readonly outdatedInjection: Gauge;

  constructor(registry: Registry) {
    this.reconcileSeconds = new Histogram({
      name: 'fsm_controller_reconcile_duration_seconds',
      help: 'Time to reconcile one pod: desired config built and its snapshot set',
      labelNames: ['result'],
      buckets: [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5],
      registers: [registry],
    });
    this.proxies = new Gauge({
      name: 'fsm_controller_proxies',
      help: 'Proxies (meshed pods with a proxy UUID) the controller builds config for',
      registers: [registry],
    });
    this.snapshotsSet = new Counter({
      name: 'fsm_controller_snapshots_changed_total',
      help: 'Snapshots set with changed content (each leads to pushes to that proxy only)',
      registers: [registry],
    });
    this.podProblems = new Gauge({
      name: 'fsm_controller_pods_with_problems',
      help: 'Meshed pods whose probes or annotation have a problem (see the controller log)',
      registers: [registry],
    });
    this.outdatedInjection = new Gauge({
      name: OUTDATED_INJECTION_METRIC,
      help:
        'Meshed pods whose probe rewrite or sidecar bootstrap predates the running control plane ' +
        '(still served; recreate them to update)',
      registers: [registry],
    });
  }
}
