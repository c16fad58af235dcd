/** DeltaAggregatedResources rules over a real server and a raw client. */
import * as grpc from '@grpc/grpc-js';
import type { DeltaStream } from '../../../pkg/ads/delta-stream.js';
import { AdsHarness } from '../../support/ads-harness.js';
import type { DeltaResponse, RawStream } from '../../support/ads-client.js';
import {
  BARRIER_ROUTES,
  CDS,
  LDS,
  RDS,
  baseSnapshot,
  cluster,
  listener,
  route,
} from '../../support/ads-resources.js';

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

  it('initial_resource_versions: after a reconnect, resources the client holds at the current version are not resent', async () => {
    h = await new AdsHarness().start();
    h.cache.setSnapshot('n1', baseSnapshot());
    const s1 = h.client().delta();
    s1.send({ node: { id: 'n1' }, type_url: CDS });
    const first = await s1.next();
    s1.cancel();
    h.cache.setSnapshot(
      'n1',
      baseSnapshot({ [CDS]: [cluster('c1', 8081), cluster('c2', 9999), cluster('c3', 8083)] }),
    );
    const s2 = h.client().delta();
    const held = Object.fromEntries(first.resources.map((r) => [r.name, r.version]));
    s2.send({ node: { id: 'n1' }, type_url: CDS, initial_resource_versions: { ...held, gone: 'v0' } });
    const r = await s2.next();
    expect(r.names.sort()).toEqual(['c2', 'c3']); // c1 unchanged
    // "gone" is held but not in the snapshot: removed, after the additions.
    const rm = await s2.next();
    expect(rm.removed_resources).toEqual(['gone']);
  });

  it('a NACK is counted and the rejected content is not resent; a later change is', async () => {
    h = await new AdsHarness().start();
    h.cache.setSnapshot('n1', baseSnapshot());
    const s = h.client().delta();
    s.send({ node: { id: 'n1' }, type_url: LDS });
    const a = await s.next();
    await ackAndWait(s, a);
    h.cache.setSnapshot('n1', baseSnapshot({ [LDS]: [listener('l1', 1, 'c1')] }));
    const bad = await s.next();
    s.send({ type_url: LDS, response_nonce: bad.nonce, error_detail: { code: 3, message: 'port 1' } });
    await barrier(s);
    expect(await h.metric('fsm_ads_nacks_total', { type: 'LDS', protocol: 'delta' })).toBe(1);
    h.cache.setSnapshot('n1', baseSnapshot({ [LDS]: [listener('l1', 10011, 'c1')] }));
    const fixed = await s.next();
    expect(fixed.type_url).toBe(LDS);
    expect(fixed.names).toEqual(['l1']);
  });

  it('removals go after additions, in reverse type order', async () => {
    h = await new AdsHarness().start();
    h.cache.setSnapshot('n1', baseSnapshot());
    const s = h.client().delta();
    s.send({ node: { id: 'n1' }, type_url: CDS });
    s.send({ type_url: LDS });
    const c = await s.next();
    const l = await s.next();
    await ackAndWait(s, c);
    await ackAndWait(s, l);
    h.cache.setSnapshot(
      'n1',
      baseSnapshot({
        [CDS]: [cluster('c2', 8082), cluster('c9', 8089)],
        [LDS]: [listener('l9', 10009, 'c9')],
      }),
    );
    const seq = [await s.next(), await s.next(), await s.next(), await s.next()];
    expect(seq.map((r) => [r.type_url, r.names, r.removed_resources])).toEqual([
      [CDS, ['c9'], []],
      [LDS, ['l9'], []],
      [LDS, [], ['l1']],
      [CDS, [], ['c1']],
    ]);
  });

  it('a first request without node.id is refused with INVALID_ARGUMENT', async () => {
    h = await new AdsHarness().start();
    const s = h.client().delta();
    s.send({ type_url: CDS });
    expect((await s.status()).code).toBe(grpc.status.INVALID_ARGUMENT);
  });
});
