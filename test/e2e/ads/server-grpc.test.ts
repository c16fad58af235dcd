/**
 * The AdsServer's gRPC side on 127.0.0.1:0: binding, the lifecycle through a real drain (GOAWAY,
 * streams closed with UNAVAILABLE, new streams refused), metrics of a real stream. The engine's
 * drain rules are also rows of test/unit/ads/stream-rules.test.ts.
 */
import * as grpc from '@grpc/grpc-js';
import { Registry } from 'prom-client';
import { AdsServer, type LifecycleState } from '../../../pkg/ads/index.js';
import { AdsHarness } from '../../support/ads-harness.js';
import { CDS, baseSnapshot } from '../../support/ads-resources.js';

describe('AdsServer lifecycle and metrics', () => {
  let h: AdsHarness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('starting → serving on start; draining closes streams with UNAVAILABLE after the grace period → stopped', async () => {
    h = new AdsHarness();
    const states: LifecycleState[] = [h.server.state];
    h.server.lifecycle.onChange((s) => states.push(s));
    await h.start();
    expect(h.server.state).toBe('serving');
    h.cache.setSnapshot('n1', baseSnapshot());
    const s = h.client().sotw();
    s.send({ node: { id: 'n1' }, type_url: CDS });
    await s.next();
    expect(await h.metric('fsm_ads_connected_streams', { protocol: 'sotw' })).toBe(1);
    expect(await h.metric('fsm_ads_responses_total', { type: 'CDS' })).toBe(1);
    const stopped = h.server.stop(100);
    expect(h.server.state).toBe('draining');
    const st = await s.status();
    expect(st.code).toBe(grpc.status.UNAVAILABLE);
    await stopped;
    expect(h.server.state).toBe('stopped');
    expect(states).toEqual(['starting', 'serving', 'draining', 'stopped']);
    expect(await h.metric('fsm_ads_connected_streams')).toBe(0);
    // A new client cannot open a stream any more.
    const late = h.client().sotw();
    late.send({ node: { id: 'n1' }, type_url: CDS });
    expect((await late.status()).code).toBe(grpc.status.UNAVAILABLE);
  });

  it('stop before start goes straight to stopped; start twice is refused', async () => {
    const server = new AdsServer({ registry: new Registry() });
    await server.stop(0);
    expect(server.state).toBe('stopped');
    await expect(server.start({ port: 0, host: '127.0.0.1' })).rejects.toThrow(
      /cannot start from state stopped/,
    );
  });

  it('a port already in use is a clear start error', async () => {
    h = await new AdsHarness().start();
    const other = new AdsServer({ registry: new Registry() });
    // grpc-js also logs the failed bind itself ("No address added out of total 1 resolved"): expected
    // here, so its log is off for this one start.
    grpc.setLogVerbosity(grpc.logVerbosity.NONE);
    try {
      await expect(other.start({ port: h.server.port, host: '127.0.0.1' })).rejects.toThrow(
        new RegExp(`cannot listen on 127.0.0.1:${h.server.port}`),
      );
    } finally {
      grpc.setLogVerbosity(grpc.logVerbosity.ERROR);
    }
    await other.stop(0);
  });

  it('push latency is observed per type', async () => {
    h = await new AdsHarness().start();
    h.cache.setSnapshot('n1', baseSnapshot());
    const s = h.client().sotw();
    s.send({ node: { id: 'n1' }, type_url: CDS });
    await s.next();
    await h.until(async () => {
      const m = await h!.registry.getSingleMetric('fsm_ads_push_latency_seconds')!.get();
      return m.values.some(
        (v) =>
          (v as { metricName?: string }).metricName === 'fsm_ads_push_latency_seconds_count' && v.value === 1,
      );
    });
  });
});
