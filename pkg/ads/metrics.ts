/** prom-client metrics of the ADS server, registered on a caller-given Registry. */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export type AdsProtocol = 'sotw' | 'delta';

export class AdsMetrics {
  readonly connectedStreams: Gauge<'protocol'>;
  readonly responses: Counter<'type' | 'protocol'>;
  readonly acks: Counter<'type' | 'protocol'>;
  readonly nacks: Counter<'type' | 'protocol'>;
  readonly pushLatency: Histogram<'type'>;

  constructor(registry: Registry) {
    this.connectedStreams = new Gauge({
      name: 'fsm_ads_connected_streams',
      help: 'ADS streams currently open',
      labelNames: ['protocol'],
      registers: [registry],
    });
    this.responses = new Counter({
      name: 'fsm_ads_responses_total',
      help: 'Discovery responses sent, by resource type',
      labelNames: ['type', 'protocol'],
      registers: [registry],
    });
    this.acks = new Counter({
      name: 'fsm_ads_acks_total',
      help: 'Responses acknowledged by proxies (ACK)',
      labelNames: ['type', 'protocol'],
      registers: [registry],
    });
    this.nacks = new Counter({
      name: 'fsm_ads_nacks_total',
      help: 'Responses rejected by proxies (NACK, error_detail set)',
      labelNames: ['type', 'protocol'],
      registers: [registry],
    });
    this.pushLatency = new Histogram({
      name: 'fsm_ads_push_latency_seconds',
      help: 'From a snapshot change to the response written on the stream',
      labelNames: ['type'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    });
  }
}
