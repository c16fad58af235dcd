/** Starts a real AdsServer on 127.0.0.1:0 with raw clients, and tears everything down. */
import { Registry } from 'prom-client';
import { AdsServer, SnapshotCache, type AdsServerOptions } from '../../pkg/ads/index.js';
import { RawAdsClient } from './ads-client.js';

/** Sum of a counter/gauge's values with the given labels (0 when never set). */
export async function metricValue(
  registry: Registry,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const m = await registry.getSingleMetric(name)?.get();
  if (!m) return 0;
  let sum = 0;
  for (const v of m.values) {
    if (
      Object.entries(labels).every(([k, val]) => String((v.labels as Record<string, unknown>)[k]) === val)
    ) {
      sum += v.value;
    }
  }
  return sum;
}

export class AdsHarness {
  readonly cache = new SnapshotCache();
  readonly registry = new Registry();
  readonly server: AdsServer;
  private readonly clients: RawAdsClient[] = [];
  address = '';

  constructor(options: AdsServerOptions = {}) {
    this.server = new AdsServer({ cache: this.cache, registry: this.registry, ...options });
  }

  async start(): Promise<this> {
    const { port } = await this.server.start({ port: 0, host: '127.0.0.1' });
    this.address = `127.0.0.1:${port}`;
    return this;
  }

  client(): RawAdsClient {
    const c = new RawAdsClient(this.address);
    this.clients.push(c);
    return c;
  }

  /** Value of a counter/gauge with the given labels (0 when never set). */
  metric(name: string, labels: Record<string, string> = {}): Promise<number> {
    return metricValue(this.registry, name, labels);
  }

  /** Resolves once `cond()` holds (checked every turn of the event loop; no timing assertions). */
  async until(cond: () => boolean | Promise<boolean>): Promise<void> {
    while (!(await cond())) await new Promise((r) => setTimeout(r, 5));
  }

  async close(): Promise<void> {
    for (const c of this.clients.splice(0)) c.close();
    await this.server.stop(0);
  }
}
