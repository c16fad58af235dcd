/**
 * DeltaAggregatedResources over a real gRPC server and a raw client: the wire bytes, one full
 * subscribe / unsubscribe / removal flow, and the INVALID_ARGUMENT status through grpc-js. Every
 * protocol rule is a row of the in-memory tables (test/unit/ads/delta-rules.test.ts,
 * stream-rules.test.ts).
 */
import * as grpc from '@grpc/grpc-js';
import type { DeltaStream } from '../../../pkg/ads/index.js';
import { AdsHarness } from '../../support/ads-harness.js';
import type { DeltaResponse, RawStream } from '../../support/ads-client.js';
import { BARRIER_ROUTES, CDS, RDS, baseSnapshot, route } from '../../support/ads-resources.js';

let h: AdsHarness;
afterEach(async () => {
  await h?.close();
});

function ack(s: RawStream<DeltaResponse>, r: DeltaResponse): void {
  s.send({ type_url: r.type_url, response_nonce: r.nonce });
}

async function ackAndWait(s: RawStream<DeltaResponse>, r: DeltaResponse): Promise<void> {
  const before = await h.metric('fsm_ads_acks_total', { protocol: 'delta' });
  ack(s, r);
  await h.until(async () => (await h.metric('fsm_ads_acks_total', { protocol: 'delta' })) > before);
}

/** Subscribes one barrier route; the next response must carry exactly it. */
let barriers = 0;
async function barrier(s: RawStream<DeltaResponse>): Promise<void> {
  const name = BARRIER_ROUTES[barriers++ % BARRIER_ROUTES.length]!.name;
  s.send({ type_url: RDS, resource_names_subscribe: [name] });
  const r = await s.next();
  expect({ type: r.type_url, names: r.names, removed: r.removed_resources }).toEqual({
    type: RDS,
    names: [name],
    removed: [],
  });
}

describe('Delta ADS', () => {
  it('wildcard first request: every resource with its own content-hash version, a nonce, a system version', async () => {
    h = await new AdsHarness().start();
    h.cache.setSnapshot('n1', baseSnapshot());
    const s = h.client().delta();
    s.send({ node: { id: 'n1' }, type_url: CDS });
    const r = await s.next();
    expect(r.type_url).toBe(CDS);
    expect(r.names.sort()).toEqual(['c1', 'c2']);
    const snap = h.cache.getSnapshot('n1')!.types.get(CDS)!;
    for (const res of r.resources) expect(res.version).toBe(snap.resources.get(res.name)!.version);
    expect(r.nonce).not.toBe('');
    expect(r.system_version_info).toBe(snap.version);
  });

  it('named subscribe / unsubscribe; only changed resources are sent; removal is signalled', async () => {
    h = await new AdsHarness().start();
    h.cache.setSnapshot('n1', baseSnapshot());
    const s = h.client().delta();
    s.send({ node: { id: 'n1' }, type_url: RDS, resource_names_subscribe: ['r1'] });
    const a = await s.next();
    expect(a.names).toEqual(['r1']);
    await ackAndWait(s, a);
    s.send({ type_url: RDS, resource_names_subscribe: ['r2'] });
    const b = await s.next();
    expect(b.names).toEqual(['r2']);
    expect(b.nonce).not.toBe(a.nonce);
    await ackAndWait(s, b);
    // Change r2 only: only r2 comes.
    h.cache.setSnapshot(
      'n1',
      baseSnapshot({ [RDS]: [route('r1', 'c1', '/one'), route('r2', 'c1', '/deux'), ...BARRIER_ROUTES] }),
    );
    const c = await s.next();
    expect(c.names).toEqual(['r2']);
    await ackAndWait(s, c);
    // Unsubscribe r2, then change it: nothing for r2.
    s.send({ type_url: RDS, resource_names_unsubscribe: ['r2'] });
    const st = () => (h.server.streamsOf('n1')[0] as DeltaStream).types.get(RDS)!;
    await h.until(() => !st().names.has('r2'));
    h.cache.setSnapshot(
      'n1',
      baseSnapshot({ [RDS]: [route('r1', 'c1', '/one'), route('r2', 'c2', '/zwei'), ...BARRIER_ROUTES] }),
    );
    await barrier(s);
    // Remove r1 from the snapshot: removed_resources names it.
    h.cache.setSnapshot('n1', baseSnapshot({ [RDS]: [route('r2', 'c2', '/zwei'), ...BARRIER_ROUTES] }));
    const d = await s.next();
    expect(d.names).toEqual([]);
    expect(d.removed_resources).toEqual(['r1']);
  });

  it('a first request without node.id is refused with INVALID_ARGUMENT', async () => {
    h = await new AdsHarness().start();
    const s = h.client().delta();
    s.send({ type_url: CDS });
    expect((await s.status()).code).toBe(grpc.status.INVALID_ARGUMENT);
  });
});
