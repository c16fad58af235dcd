/**
 * Stream rules SotW and Delta share (stream.ts, engine.ts), as table rows run on the engine in
 * memory for both protocols: the node on the first request, the bounded wait for an unknown node,
 * the write loop's bound with a reader that does not read, how a stream ends, draining, metrics.
 */
import type { AdsProtocol } from '../../../pkg/ads/metrics.js';
import type { DeltaStream, SotwStream } from '../../../pkg/ads/index.js';
import type { StreamHandle } from '../../../pkg/ads/stream.js';
import { AdsStatus } from '../../../pkg/ads/transport.js';
import type { DeltaResponse, SotwResponse } from '../../support/ads-client.js';
import { runRow, type Row, type ScriptContext } from '../../support/ads-memory-script.js';
import { BARRIER_ROUTES, CDS, LDS, RDS, baseSnapshot, route } from '../../support/ads-resources.js';

const N1 = { id: 'n1', cluster: 'test' };
const handle = (c: ScriptContext, on?: string): StreamHandle => c.server<SotwStream | DeltaStream>(on);
/** version_info (SotW) or system_version_info (Delta): the type's version when it was sent. */
const versionOf = (r: SotwResponse | DeltaResponse): string =>
  'version_info' in r ? r.version_info : r.system_version_info;

function rows(protocol: AdsProtocol): Row[] {
  const rds = (names: string[]) =>
    protocol === 'sotw' ? { resource_names: names } : { resource_names_subscribe: names };
  const big = (i: number) => route('big', 'c1', '/' + String(i).padStart(6, '0') + 'x'.repeat(200_000));
  const bigSnap = (i: number) => baseSnapshot({ [RDS]: [big(i), ...BARRIER_ROUTES] });
  const changes = 40;
  const nodeTag = protocol === 'sotw' ? 0x12 : 0x0a;

  return [
    {
      rule: 'a first request without node.id closes the stream with INVALID_ARGUMENT',
      steps: [
        { send: { type_url: CDS } },
        { status: AdsStatus.INVALID_ARGUMENT, details: /node\.id/ },
        { check: (c) => expect(c.h.engine.openStreams).toHaveLength(0) },
      ],
    },
    {
      rule: 'a request without type_url is ignored; the stream stays open',
      steps: [
        { set: baseSnapshot() },
        { send: { node: N1 } },
        { expect: [] },
        { status: undefined },
        { send: { type_url: CDS } },
        { expect: ['CDS c1,c2'] },
      ],
    },
    {
      rule: 'an unknown node waits and is served as soon as its snapshot appears',
      steps: [
        { send: { node: { id: 'later' }, type_url: CDS } },
        { send: { type_url: LDS } },
        { expect: [] },
        {
          check: (c) => {
            expect(c.server<SotwStream | DeltaStream>().types.size).toBe(2);
            expect(handle(c).responsesSent).toBe(0);
          },
        },
        { set: baseSnapshot(), node: 'later' },
        { expect: ['CDS c1,c2', 'LDS l1'] },
        { advance: 60_000 }, // the wait ended when the snapshot came: the stream stays open
        { status: undefined },
      ],
    },
    {
      rule: 'the wait for an unknown node is bounded: the stream is closed with UNAVAILABLE',
      options: { unknownNodeWaitMs: 50 },
      steps: [
        { send: { node: { id: 'never' }, type_url: CDS } },
        { advance: 49 },
        { status: undefined },
        { advance: 1 },
        { status: AdsStatus.UNAVAILABLE, details: /never/ },
        {
          check: async (c) => {
            expect(c.h.engine.openStreams).toHaveLength(0);
            expect(await c.h.metric('fsm_ads_connected_streams')).toBe(0);
            expect(c.h.cache.watcherCount('never')).toBe(0);
          },
        },
      ],
    },
    {
      rule: 'a stream that does not read holds at most maxInFlight responses, does not block others, and gets the newest when it reads',
      options: { maxInFlightPerStream: 2 },
      steps: [
        { set: bigSnap(0), node: 'slow' },
        { set: bigSnap(0), node: 'fast' },
        { send: { node: { id: 'slow' }, type_url: RDS, ...rds(['big']) } },
        { expect: ['RDS big'] },
        { peer: 'pause' },
        { open: 'fast' },
        { on: 'fast', send: { node: { id: 'fast' }, type_url: RDS, ...rds(['big']) } },
        { on: 'fast', expect: ['RDS big'] },
        ...Array.from({ length: changes }, (_, k) => k + 1).flatMap((i) => [
          { set: bigSnap(i), node: 'slow' },
          { set: bigSnap(i), node: 'fast' },
          { on: 'fast', expect: ['RDS big'] }, // the fast proxy keeps receiving every change
          {
            check: (c: ScriptContext) => {
              const want = c.h.cache.getSnapshot('fast')!.types.get(RDS)!.version;
              expect(versionOf(c.last('RDS', 'fast'))).toBe(want);
              expect(handle(c).pendingWrites).toBeLessThanOrEqual(2);
            },
          },
        ]),
        { check: (c) => expect(handle(c).responsesSent).toBeLessThan(changes) },
        { peer: 'resume' },
        {
          check: (c) => {
            // The slow proxy gets the newest content; intermediate versions were coalesced.
            const want = c.h.cache.getSnapshot('slow')!.types.get(RDS)!.version;
            expect(versionOf(c.last('RDS'))).toBe(want);
            expect(handle(c).responsesSent).toBeLessThan(changes);
            expect(handle(c).pendingWrites).toBe(0);
            if (protocol === 'sotw') {
              const path = c.last<SotwResponse>('RDS').decoded[0].virtual_hosts[0].routes[0].match.path;
              expect(path.startsWith('/' + String(changes).padStart(6, '0'))).toBe(true);
            }
          },
        },
      ],
    },
    {
      rule: 'a cancelled stream is forgotten: gauge and watchers go back to zero',
      steps: [
        { set: baseSnapshot() },
        { send: { node: N1, type_url: CDS } },
        { expect: ['CDS c1,c2'] },
        {
          check: async (c) => {
            expect(await c.h.metric('fsm_ads_connected_streams', { protocol })).toBe(1);
            expect(c.h.cache.watcherCount('n1')).toBe(1);
          },
        },
        { peer: 'cancel' },
        {
          check: async (c) => {
            expect(c.h.engine.openStreams).toHaveLength(0);
            expect(await c.h.metric('fsm_ads_connected_streams')).toBe(0);
            expect(c.h.cache.watcherCount('n1')).toBe(0);
          },
        },
        { set: baseSnapshot({ [RDS]: [route('r1', 'c2')] }) }, // nothing is written to it any more
        { expect: [] },
      ],
    },
    {
      rule: 'a client that half-closes gets OK and the stream is forgotten',
      steps: [
        { set: baseSnapshot() },
        { send: { node: N1, type_url: CDS } },
        { expect: ['CDS c1,c2'] },
        { peer: 'half-close' },
        { status: AdsStatus.OK },
        { check: (c) => expect(c.h.engine.openStreams).toHaveLength(0) },
      ],
    },
    {
      rule: 'request bytes that cannot be decoded fail only that stream; others are served',
      steps: [
        { set: baseSnapshot() },
        // node (field 2 of DiscoveryRequest, 1 of DeltaDiscoveryRequest) with a length far beyond the message.
        { check: (c) => c.client().transport.send(Buffer.from([nodeTag, 0xff, 0xff, 0xff, 0x0f, 0x01])) },
        { status: AdsStatus.INTERNAL, details: /deserializing/ },
        { open: 'b' },
        { on: 'b', send: { node: N1, type_url: CDS } },
        { on: 'b', expect: ['CDS c1,c2'] },
        {
          check: async (c) => {
            expect(c.h.engine.openStreams).toEqual([handle(c, 'b')]);
            expect(await c.h.metric('fsm_ads_connected_streams')).toBe(1);
          },
        },
      ],
    },
    {
      rule: 'draining: open streams end with UNAVAILABLE after the grace period; new ones are refused',
      steps: [
        { set: baseSnapshot() },
        { send: { node: N1, type_url: CDS } },
        { expect: ['CDS c1,c2'] },
        {
          check: async (c) => {
            c.h.lifecycle.transition('draining');
            let closed = false;
            const all = c.h.engine.closeAll(100).then(() => (closed = true));
            c.h.scheduler.advance(99);
            await Promise.resolve();
            expect(closed).toBe(false);
            expect(c.client().status()).toBeUndefined();
            c.h.scheduler.advance(1);
            await all;
            expect(c.client().status()).toEqual({
              code: AdsStatus.UNAVAILABLE,
              details: 'ADS server is shutting down',
            });
            expect(await c.h.metric('fsm_ads_connected_streams')).toBe(0);
          },
        },
        { open: 'late' },
        { status: AdsStatus.UNAVAILABLE, details: /draining/, on: 'late' },
        { check: (c) => expect(c.client('late').server).toBeUndefined() },
      ],
    },
    {
      rule: 'draining ends as soon as the last stream is gone, before the grace period',
      steps: [
        { set: baseSnapshot() },
        { send: { node: N1, type_url: CDS } },
        { expect: ['CDS c1,c2'] },
        {
          check: async (c) => {
            c.h.lifecycle.transition('draining');
            const all = c.h.engine.closeAll(60_000);
            c.client().transport.halfClose();
            await all; // no clock advanced
            expect(c.client().status()).toEqual({ code: AdsStatus.OK, details: '' });
            expect(c.h.scheduler.pendingTimers).toBe(0);
          },
        },
      ],
    },
    {
      rule: 'responses, connected streams and push latency are measured per type and protocol',
      steps: [
        { set: baseSnapshot() },
        { send: { node: N1, type_url: CDS } },
        { expect: ['CDS c1,c2'] },
        {
          check: async (c) => {
            expect(await c.h.metric('fsm_ads_connected_streams', { protocol })).toBe(1);
            expect(await c.h.metric('fsm_ads_responses_total', { type: 'CDS', protocol })).toBe(1);
            expect(c.h.metrics.totals.responses).toBe(1);
            const m = await c.h.registry.getSingleMetric('fsm_ads_push_latency_seconds')!.get();
            const count = m.values.find(
              (v) => (v as { metricName?: string }).metricName === 'fsm_ads_push_latency_seconds_count',
            );
            expect({ type: count?.labels.type, count: count?.value }).toEqual({ type: 'CDS', count: 1 });
          },
        },
      ],
    },
    {
      rule: 'the stream handle names its peer and protocol',
      steps: [
        { send: { node: N1, type_url: CDS } },
        {
          check: (c) => {
            expect(handle(c).peer).toEqual(c.client().transport.peer);
            expect(handle(c).protocol).toBe(protocol);
            expect(handle(c).nodeId).toBe('n1');
            expect(c.h.engine.streamsOf('n1')).toEqual([handle(c)]);
          },
        },
      ],
    },
  ];
}

describe.each(['sotw', 'delta'] as const)('%s streams in memory', (protocol) => {
  it.each(rows(protocol).map((r) => [r.rule, r] as const))('%s', async (_rule, row) => {
    await runRow(protocol, row);
  });
});
