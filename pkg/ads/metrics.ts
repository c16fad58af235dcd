/** prom-client metrics of the ADS server, registered on a caller-given Registry. */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { WriteBudget } from './write-budget.js';

interface Inc {
  inc(): void;
}
interface Observe {
  observe(v: number): void;
}

export type AdsProtocol = 'sotw' | 'delta';

/** Type labels fsm knows; anything else a client sends is labelled `other` (bounded cardinality). */
const KNOWN_TYPE_LABELS: ReadonlySet<string> = new Set(['LDS', 'CDS', 'RDS', 'EDS', 'SDS']);

function typeLabel(type: string): string {
  return KNOWN_TYPE_LABELS.has(type) ? type : 'other';
}

const STATUS_NAMES: Readonly<Record<number, string>> = {
  3: 'INVALID_ARGUMENT',
  7: 'PERMISSION_DENIED',
  8: 'RESOURCE_EXHAUSTED',
  14: 'UNAVAILABLE',
  16: 'UNAUTHENTICATED',
};

export class AdsMetrics {
  readonly connectedStreams: Gauge<'protocol'>;
  readonly responses: Counter<'type' | 'protocol'>;
  readonly acks: Counter<'type' | 'protocol'>;
  readonly nacks: Counter<'type' | 'protocol'>;
  readonly pushLatency: Histogram<'type'>;
  readonly refusedStreams: Counter<'code'>;
  /** The engine's write budget, read when /metrics is scraped. */
  private budget: WriteBudget | undefined;
  /** Plain running totals (cheap to read synchronously: benchmarks, debug endpoints). */
  readonly totals = { responses: 0, acks: 0, nacks: 0 };

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
    this.refusedStreams = new Counter({
      name: 'fsm_ads_streams_refused_total',
      help: 'ADS streams ended by the server before or instead of serving them (authorization, limits)',
      labelNames: ['code'],
      registers: [registry],
    });
    const budget = (): WriteBudget | undefined => this.budget;
    new Gauge({
      name: 'fsm_ads_write_budget_bytes_in_flight',
      help: 'Response bytes handed to ADS streams and not yet flushed, all streams together',
      registers: [registry],
      collect() {
        this.set(budget()?.inFlightBytes ?? 0);
      },
    });
    new Gauge({
      name: 'fsm_ads_write_budget_waiting_streams',
      help: 'ADS streams waiting for the write budget before building their next response',
      registers: [registry],
      collect() {
        this.set(budget()?.waitingStreams ?? 0);
      },
    });
    this.pushLatency = new Histogram({
      name: 'fsm_ads_push_latency_seconds',
      help: 'From a snapshot change to the response written on the stream',
      labelNames: ['type'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    });
  }

  /** Reports this engine's write budget from now on. */
  observeWriteBudget(budget: WriteBudget): void {
    this.budget = budget;
  }

  private readonly children = new Map<string, Inc | Observe>();

  private child<T extends Inc | Observe>(key: string, make: () => T): T {
    let c = this.children.get(key) as T | undefined;
    if (!c) {
      c = make();
      this.children.set(key, c);
    }
    return c;
  }

  /** One response written (type = short name, e.g. 'CDS'). Label children are cached: hot path. */
  response(t: string, protocol: AdsProtocol): void {
    const type = typeLabel(t);
    this.totals.responses++;
    this.child<Inc>(`r|${type}|${protocol}`, () => this.responses.labels({ type, protocol })).inc();
  }

  ack(t: string, protocol: AdsProtocol): void {
    const type = typeLabel(t);
    this.totals.acks++;
    this.child<Inc>(`a|${type}|${protocol}`, () => this.acks.labels({ type, protocol })).inc();
  }

  nack(t: string, protocol: AdsProtocol): void {
    const type = typeLabel(t);
    this.totals.nacks++;
    this.child<Inc>(`n|${type}|${protocol}`, () => this.nacks.labels({ type, protocol })).inc();
  }

  /** A stream refused or ended by the server (status code). */
  refused(code: number): void {
    const name = STATUS_NAMES[code] ?? String(code);
    this.child<Inc>(`x|${name}`, () => this.refusedStreams.labels({ code: name })).inc();
  }

  latency(t: string, seconds: number): void {
    const type = typeLabel(t);
    this.child<Observe>(`l|${type}`, () => this.pushLatency.labels({ type })).observe(seconds);
  }
}
