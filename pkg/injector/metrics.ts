/** The injector's Prometheus metrics, registered on a caller-supplied Registry (never the global one). */
import { Counter, Histogram, type Registry } from 'prom-client';
import {
  INJECTOR_ADMISSION_DURATION_METRIC,
  INJECTOR_ADMISSIONS_METRIC,
  INJECTOR_CERT_RELOADS_METRIC,
} from '../constants/index.js';

/** `result` label values: MutationOutcome, 'ignored' (non-Pod / non-CREATE) or an HTTP-level refusal. */
export type AdmissionMetricResult =
  | 'injected'
  | 'reinvoked'
  | 'skipped'
  | 'already-injected'
  | 'denied'
  | 'ignored'
  | 'bad-request'
  | 'unsupported-media-type'
  | 'too-large'
  | 'not-ready'
  | 'error';

export class InjectorMetrics {
  readonly admissions: Counter<'result'>;
  readonly duration: Histogram<'result'>;
  readonly certReloads: Counter<'outcome'>;

  constructor(readonly registry: Registry) {
    this.admissions = new Counter({
      name: INJECTOR_ADMISSIONS_METRIC,
      help: 'Admission requests answered by the webhook, by result.',
      labelNames: ['result'],
      registers: [registry],
    });
    this.duration = new Histogram({
      name: INJECTOR_ADMISSION_DURATION_METRIC,
      help: 'Time from receiving an admission request to answering it, in seconds.',
      labelNames: ['result'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers: [registry],
    });
    this.certReloads = new Counter({
      name: INJECTOR_CERT_RELOADS_METRIC,
      help: 'Serving certificate reloads from disk, by outcome (ok, invalid).',
      labelNames: ['outcome'],
      registers: [registry],
    });
  }

  observeAdmission(result: AdmissionMetricResult, seconds: number): void {
    this.admissions.inc({ result });
    this.duration.observe({ result }, seconds);
  }
}
