/**
 * SotW protocol rules of pkg/ads, one case each, over a real gRPC server on 127.0.0.1:0 and a raw
 * ADS client. "Nothing was resent" is proven without timing: the test then subscribes to a new
 * route configuration (a barrier); RDS is last in push order, so any owed response of another
 * type would arrive before the barrier's response.
 */
import { PassThrough } from 'node:stream';
import * as grpc from '@grpc/grpc-js';
import { createLogger } from '../../../pkg/logger/index.js';
import type { SotwStream } from '../../../pkg/ads/sotw-stream.js';
import { AdsHarness } from '../../support/ads-harness.js';
import { ackOf, nackOf, type RawStream, type SotwResponse } from '../../support/ads-client.js';
import {
  BARRIER_ROUTES,
  CDS,
  EDS,
  LDS,
  RDS,
  baseSnapshot,
  cluster,
  cla,
  listener,
  route,
} from '../../support/ads-resources.js';

let h: AdsHarness;
afterEach(async () => {
  await h?.close();
});

/** A raw SotW stream plus the barrier helper. */
class Probe {
  rdsNames: string[] = [];
  private barriers = 0;
  constructor(readonly s: RawStream<SotwResponse>) {}
  send(req: Record<string, unknown>): void {
    this.s.send(req);
  }
  next(): Promise<SotwResponse> {
    return this.s.next();
  }
  /** ACKs and waits until the server counted it (so a following change cannot overtake it). */
  async ack(r: SotwResponse, names: string[] = []): Promise<void> {
    const before = await h.metric('fsm_ads_acks_total');
    this.s.send(ackOf(r, names));
    await h.until(async () => (await h.metric('fsm_ads_acks_total')) > before);
  }
  async nextOf(typeUrl: string): Promise<SotwResponse> {
    const r = await this.s.next();
    expect(r.type_url).toBe(typeUrl);
    return r;
  }
  /** Subscribes one more barrier route; the next response must be exactly that route. */
  async barrier(): Promise<void> {
    const name = BARRIER_ROUTES[this.barriers++]!.name;
    this.rdsNames = [...this.rdsNames, name];
    this.s.send({ type_url: RDS, resource_names: this.rdsNames });
    const r = await this.s.next();
    expect({ type: r.type_url, names: r.names }).toEqual({ type: RDS, names: [name] });
  }
}

async function open(nodeId = 'n1'): Promise<Probe> {
  const p = new Probe(h.client().sotw());
  p.send({ node: { id: nodeId, cluster: 'test' }, type_url: CDS });
  return p;
}

function serverStream(nodeId = 'n1'): SotwStream {
  const [s] = h.server.streamsOf(nodeId);
  return s as SotwStream;
}

describe('SotW responses', () => {
  it('answers a first request with the full set, a version_info, a nonce and the control plane id', async () => {
    h = await new AdsHarness().start();
    h.cache.setSnapshot('n1', baseSnapshot());
    const p = await open();
    const r = await p.nextOf(CDS);
    expect(r.names.sort()).toEqual(['c1', 'c2']);
    expect(r.version_info).toBe(h.cache.getSnapshot('n1')!.types.get(CDS)!.version);
    expect(r.nonce).not.toBe('');
    expect(r.control_plane?.identifier).toBe('fsm-controller');
    expect(
      r.decoded.find((c: any) => c.name === 'c1').load_assignment.endpoints[0].lb_endpoints[0].endpoint
        .address.socket_address.port_value,
    ).toBe(8081);
  });

  it('gives every response a fresh nonce, across types and pushes', async () => {
    h = await new AdsHarness().start();
    h.cache.setSnapshot('n1', baseSnapshot());
    const p = await open();
    const nonces = new Set<string>();
    const c = await p.nextOf(CDS);
    nonces.add(c.nonce);
    p.send(ackOf(c));
    p.send({ type_url: LDS });
    const l = await p.nextOf(LDS);
    nonces.add(l.nonce);
    p.send(ackOf(l));
    for (let i = 0; i < 3; i++) {
      h.cache.setSnapshot('n1', baseSnapshot({ [CDS]: [cluster('c1', 7000 + i), cluster('c2', 8082)] }));
      const u = await p.nextOf(CDS);
      nonces.add(u.nonce);
      await p.ack(u);
    }
    expect(nonces.size).toBe(5);
  });
});

describe('ACK and NACK', () => {
  it('an ACK is counted and causes no resend', async () => {
    h = await new AdsHarness().start();
    h.cache.setSnapshot('n1', baseSnapshot());
    const p = await open();
    const c = await p.nextOf(CDS);
    p.send(ackOf(c));
    await p.barrier();
    expect(await h.metric('fsm_ads_acks_total', { type: 'CDS' })).toBe(1);
    expect(serverStream().types.get(CDS)!.ackedVersion).toBe(c.version_info);
  });

  it('a NACK (error_detail) is logged with node, type, version and message, counted, and the version is never resent', async () => {
    const out = new PassThrough();
    const lines: string[] = [];
    out.on('data', (b: Buffer) => lines.push(...b.toString().split('\n').filter(Boolean)));
    h = await new AdsHarness({ logger: createLogger({ stream: out, json: true }) }).start();
    h.cache.setSnapshot('n1', baseSnapshot());
    const p = await open();
    const c1 = await p.nextOf(CDS);
    await p.ack(c1);
    h.cache.setSnapshot('n1', baseSnapshot({ [CDS]: [cluster('c1', 1), cluster('c2', 8082)] }));
    const bad = await p.nextOf(CDS);
    expect(bad.version_info).not.toBe(c1.version_info);
    // The NACK names the version the client keeps running: version is NOT what decides ACK vs NACK.
    p.send(nackOf(bad, c1.version_info, 'cluster c1: port 1 refused'));
    await p.barrier();
    // Setting the same (rejected) content again changes nothing.
    h.cache.setSnapshot('n1', baseSnapshot({ [CDS]: [cluster('c1', 1), cluster('c2', 8082)] }));
    await p.barrier();
    expect(await h.metric('fsm_ads_nacks_total', { type: 'CDS' })).toBe(1);
    expect(await h.metric('fsm_ads_acks_total', { type: 'CDS' })).toBe(1);
    const nack = lines.map((l) => JSON.parse(l)).find((l) => l.message === 'NACK');
    expect(nack).toMatchObject({
      node: 'n1',
      type: 'CDS',
      version: bad.version_info,
      error: 'cluster c1: port 1 refused',
    });
  });

  it('a NACK whose version_info equals the pushed one is still a NACK (error_detail decides)', async () => {
    h = await new AdsHarness().start();
    h.cache.setSnapshot('n1', baseSnapshot());
    const p = await open();
    const c = await p.nextOf(CDS);
    p.send(nackOf(c, c.version_info, 'rejected'));
    await p.barrier();
    expect(await h.metric('fsm_ads_nacks_total', { type: 'CDS' })).toBe(1);
    expect(await h.metric('fsm_ads_acks_total', { type: 'CDS' })).toBe(0);
  });

  it('recovers after a NACK: the next changed snapshot is pushed and ACKed', async () => {
    h = await new AdsHarness().start();
    h.cache.setSnapshot('n1', baseSnapshot());
    const p = await open();
    const good = await p.nextOf(CDS);
    await p.ack(good);
    h.cache.setSnapshot('n1', baseSnapshot({ [CDS]: [cluster('c1', 1), cluster('c2', 8082)] }));
    const bad = await p.nextOf(CDS);
    p.send(nackOf(bad, good.version_info, 'bad port'));
    h.cache.setSnapshot('n1', baseSnapshot({ [CDS]: [cluster('c1', 8181), cluster('c2', 8082)] }));
    const fixed = await p.nextOf(CDS);
    expect(fixed.nonce).not.toBe(bad.nonce);
    expect(fixed.version_info).not.toBe(bad.version_info);
    expect(fixed.names.sort()).toEqual(['c1', 'c2']);
    p.send(ackOf(fixed));
    await p.barrier();
    expect(serverStream().types.get(CDS)!.ackedVersion).toBe(fixed.version_info);
  });

  it('a stale nonce still updates the subscription but is neither ACK nor NACK', async () => {
    h = await new AdsHarness().start();
    h.cache.setSnapshot('n1', baseSnapshot());
    const p = await open();
    p.send({ type_url: RDS, resource_names: ['r1'] });
    const c = await p.nextOf(CDS);
    const r1 = await p.nextOf(RDS);
    expect(r1.names).toEqual(['r1']);
    h.cache.setSnapshot(
      'n1',
      baseSnapshot({ [RDS]: [route('r1', 'c2', '/one'), route('r2', 'c2', '/two'), ...BARRIER_ROUTES] }),
    );
    const r1b = await p.nextOf(RDS);
    // Answers the OLD nonce with a new subscription and an error: stale, so no NACK is counted.
    p.send({
      type_url: RDS,
      response_nonce: r1.nonce,
      version_info: r1.version_info,
      resource_names: ['r1', 'r2'],
      error_detail: { code: 3, message: 'late' },
    });
    const r2 = await p.nextOf(RDS);
    expect(r2.names).toEqual(['r2']);
    expect(r2.nonce).not.toBe(r1b.nonce);
    p.rdsNames = ['r1', 'r2'];
    p.send(ackOf(c));
    await p.barrier();
    expect(await h.metric('fsm_ads_nacks_total')).toBe(0);
    expect(await h.metric('fsm_ads_acks_total', { type: 'RDS' })).toBe(0);
  });
});

describe('subscriptions', () => {
  it('explicit wildcard "*" gets every resource of the type', async () => {
    h = await new AdsHarness().start();
    h.cache.setSnapshot('n1', baseSnapshot());
    const p = new Probe(h.client().sotw());
    p.send({ node: { id: 'n1' }, type_url: RDS, resource_names: ['*'] });
    const r = await p.nextOf(RDS);
    expect(r.names.sort()).toEqual(['r1', 'r2', ...BARRIER_ROUTES.map((b) => b.name)].sort());
  });

  it('legacy wildcard: empty names on the first request, kept while later requests stay empty', async () => {
    h = await new AdsHarness().start();
    h.cache.setSnapshot('n1', baseSnapshot());
    const p = await open();
    const c = await p.nextOf(CDS);
    expect(c.names.sort()).toEqual(['c1', 'c2']);
    await p.ack(c); // empty names again: still wildcard, no resend
    h.cache.setSnapshot(
      'n1',
      baseSnapshot({ [CDS]: [cluster('c1', 8081), cluster('c2', 8082), cluster('c3', 8083)] }),
    );
    const c2 = await p.nextOf(CDS);
    expect(c2.names.sort()).toEqual(['c1', 'c2', 'c3']);
    expect(serverStream().types.get(CDS)!.legacyWildcard).toBe(true);
  });

  it('legacy wildcard ends when names are sent; an empty list after names means nothing', async () => {
    h = await new AdsHarness().start();
    h.cache.setSnapshot('n1', baseSnapshot());
    const p = await open();
    const c = await p.nextOf(CDS);
    p.send(ackOf(c, ['c2']));
    const named = await p.nextOf(CDS);
    expect(named.names).toEqual(['c2']);
    p.send(ackOf(named, []));
    const nothing = await p.nextOf(CDS);
    expect(nothing.resources).toEqual([]);
    p.send(ackOf(nothing, []));
    // Changes to clusters no longer subscribed are not pushed.
    h.cache.setSnapshot('n1', baseSnapshot({ [CDS]: [cluster('c1', 1), cluster('c2', 2)] }));
    await p.barrier();
    const st = serverStream().types.get(CDS)!;
    expect({ wildcard: st.wildcard, legacy: st.legacyWildcard, names: [...st.names] }).toEqual({
      wildcard: false,
      legacy: false,
      names: [],
    });
  });

  it('named subscriptions receive only the named resources; a new name triggers a push', async () => {
    h = await new AdsHarness().start();
    h.cache.setSnapshot('n1', baseSnapshot());
    const p = new Probe(h.client().sotw());
    p.send({ node: { id: 'n1' }, type_url: CDS, resource_names: ['c1'] });
    const c = await p.nextOf(CDS);
    expect(c.names).toEqual(['c1']);
    p.send(ackOf(c, ['c1', 'c2']));
    const both = await p.nextOf(CDS);
    expect(both.names.sort()).toEqual(['c1', 'c2']);
  });
});

describe('full state vs changed only', () => {
  it('Listener and Cluster responses always carry the full subscribed set', async () => {
    h = await new AdsHarness().start();
    h.cache.setSnapshot(
      'n1',
      baseSnapshot({ [LDS]: [listener('l1', 10001, 'c1'), listener('l2', 10002, 'c2')] }),
    );
    const p = await open();
    p.send({ type_url: LDS });
    const c = await p.nextOf(CDS);
    const l = await p.nextOf(LDS);
    await p.ack(c);
    await p.ack(l);
    h.cache.setSnapshot(
      'n1',
      baseSnapshot({
        [CDS]: [cluster('c1', 8081), cluster('c2', 9999)],
        [LDS]: [listener('l1', 10001, 'c1'), listener('l2', 10003, 'c2')],
      }),
    );
    const c2 = await p.nextOf(CDS);
    const l2 = await p.nextOf(LDS);
    expect(c2.names.sort()).toEqual(['c1', 'c2']);
    expect(l2.names.sort()).toEqual(['l1', 'l2']);
  });

  it('RouteConfiguration and ClusterLoadAssignment responses carry only what changed', async () => {
    h = await new AdsHarness().start();
    h.cache.setSnapshot('n1', baseSnapshot({ [EDS]: [cla('e1', 9001), cla('e2', 9002)] }));
    const p = new Probe(h.client().sotw());
    p.send({ node: { id: 'n1' }, type_url: EDS, resource_names: ['e1', 'e2'] });
    p.send({ type_url: RDS, resource_names: ['r1', 'r2'] });
    p.rdsNames = ['r1', 'r2'];
    const e = await p.nextOf(EDS);
    const r = await p.nextOf(RDS);
    expect(e.names.sort()).toEqual(['e1', 'e2']);
    expect(r.names.sort()).toEqual(['r1', 'r2']);
    await p.ack(e, ['e1', 'e2']);
    await p.ack(r, ['r1', 'r2']);
    h.cache.setSnapshot(
      'n1',
      baseSnapshot({
        [EDS]: [cla('e1', 9001), cla('e2', 9102)],
        [RDS]: [route('r1', 'c1', '/uno'), route('r2', 'c2', '/two'), ...BARRIER_ROUTES],
      }),
    );
    const e2 = await p.nextOf(EDS);
    const r2 = await p.nextOf(RDS);
    expect(e2.names).toEqual(['e2']);
    expect(r2.names).toEqual(['r1']);
  });

  it("setting identical content pushes nothing; another node's change never reaches this stream", async () => {
    h = await new AdsHarness().start();
    h.cache.setSnapshot('n1', baseSnapshot());
    h.cache.setSnapshot('n2', baseSnapshot());
    const p = await open('n1');
    const c = await p.nextOf(CDS);
    await p.ack(c);
    expect(h.cache.setSnapshot('n1', baseSnapshot()).changed).toBe(false);
    h.cache.setSnapshot('n2', baseSnapshot({ [CDS]: [cluster('c1', 1)] }));
    await p.barrier();
    expect(serverStream('n1').responsesSent).toBe(2);
  });
});

describe('push order', () => {
  it('additions go CDS → EDS → LDS → RDS', async () => {
    h = await new AdsHarness().start();
    const p = new Probe(h.client().sotw());
    // Subscribe in the "wrong" order on purpose, before the node has a snapshot.
    p.send({ node: { id: 'n1' }, type_url: RDS, resource_names: ['r1'] });
    p.send({ type_url: LDS });
    p.send({ type_url: EDS, resource_names: ['e1'] });
    p.send({ type_url: CDS });
    await h.until(() => h.server.streamsOf('n1')[0]?.nodeId === 'n1' && serverStream().types.size === 4);
    h.cache.setSnapshot('n1', baseSnapshot());
    const first = [await p.next(), await p.next(), await p.next(), await p.next()];
    expect(first.map((r) => r.type_url)).toEqual([CDS, EDS, LDS, RDS]);
    for (const r of first) await p.ack(r, r.type_url === RDS ? ['r1'] : r.type_url === EDS ? ['e1'] : []);
    h.cache.setSnapshot(
      'n1',
      baseSnapshot({
        [CDS]: [cluster('c1', 8081), cluster('c2', 8082), cluster('c3', 8083)],
        [EDS]: [cla('e1', 9011)],
        [LDS]: [listener('l1', 10001, 'c3')],
        [RDS]: [route('r1', 'c3', '/one'), route('r2', 'c2'), ...BARRIER_ROUTES],
      }),
    );
    const pushes = [await p.next(), await p.next(), await p.next(), await p.next()];
    expect(pushes.map((r) => r.type_url)).toEqual([CDS, EDS, LDS, RDS]);
  });

  it('removals come after additions, in reverse order: a replaced cluster disappears after the listener moved', async () => {
    h = await new AdsHarness().start();
    h.cache.setSnapshot('n1', baseSnapshot());
    const p = await open();
    p.send({ type_url: LDS });
    const c = await p.nextOf(CDS);
    const l = await p.nextOf(LDS);
    await p.ack(c);
    await p.ack(l);
    // l1 → c1 is replaced by l9 → c9: c1 and l1 go away.
    h.cache.setSnapshot(
      'n1',
      baseSnapshot({
        [CDS]: [cluster('c2', 8082), cluster('c9', 8089)],
        [LDS]: [listener('l9', 10009, 'c9')],
      }),
    );
    const seq = [await p.next(), await p.next(), await p.next(), await p.next()];
    expect(seq.map((r) => [r.type_url, r.names.sort()])).toEqual([
      [CDS, ['c1', 'c2', 'c9']], // new cluster added, old one kept while still referenced
      [LDS, ['l1', 'l9']],
      [LDS, ['l9']], // removals: listeners first ...
      [CDS, ['c2', 'c9']], // ... then clusters
    ]);
  });
});

describe('streams and nodes', () => {
  it('a reconnect carrying an old version_info and nonce gets the current state', async () => {
    h = await new AdsHarness().start();
    h.cache.setSnapshot('n1', baseSnapshot());
    const p = await open();
    const old = await p.nextOf(CDS);
    p.s.cancel();
    h.cache.setSnapshot('n1', baseSnapshot({ [CDS]: [cluster('c1', 1234)] }));
    const q = new Probe(h.client().sotw());
    q.send({ node: { id: 'n1' }, type_url: CDS, version_info: old.version_info, response_nonce: old.nonce });
    const now = await q.nextOf(CDS);
    expect(now.names).toEqual(['c1']);
    expect(now.version_info).not.toBe(old.version_info);
  });

  it('a first request without node.id closes the stream with INVALID_ARGUMENT', async () => {
    h = await new AdsHarness().start();
    const s = h.client().sotw();
    s.send({ type_url: CDS });
    const st = await s.status();
    expect(st.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(st.details).toMatch(/node\.id/);
  });

  it('an unknown node waits and is served as soon as its snapshot appears', async () => {
    h = await new AdsHarness().start();
    const p = await open('later');
    p.send({ type_url: LDS });
    await h.until(() => h.server.streamsOf('later').length === 1 && serverStream('later').types.size === 2);
    expect(serverStream('later').responsesSent).toBe(0);
    h.cache.setSnapshot('later', baseSnapshot());
    expect((await p.nextOf(CDS)).names.sort()).toEqual(['c1', 'c2']);
    expect((await p.nextOf(LDS)).names).toEqual(['l1']);
  });

  it('the wait for an unknown node is bounded: the stream is closed with UNAVAILABLE', async () => {
    h = await new AdsHarness({ unknownNodeWaitMs: 50 }).start();
    const p = await open('never');
    const st = await p.s.status();
    expect(st.code).toBe(grpc.status.UNAVAILABLE);
    expect(st.details).toMatch(/never/);
    expect(h.server.openStreams).toHaveLength(0);
  });
});

describe('slow consumers', () => {
  it('a stream that does not read holds at most maxInFlight responses, does not block others, and gets the newest when it reads', async () => {
    h = await new AdsHarness({ maxInFlightPerStream: 2 }).start();
    const big = (i: number) => route('big', 'c1', '/' + String(i).padStart(6, '0') + 'x'.repeat(200_000));
    const snap = (i: number) => baseSnapshot({ [RDS]: [big(i), ...BARRIER_ROUTES] });
    h.cache.setSnapshot('slow', snap(0));
    h.cache.setSnapshot('fast', snap(0));
    const slow = h.client().sotw();
    slow.send({ node: { id: 'slow' }, type_url: RDS, resource_names: ['big'] });
    const first = await slow.next();
    expect(first.names).toEqual(['big']);
    slow.call.pause();
    const fast = new Probe(h.client().sotw());
    fast.send({ node: { id: 'fast' }, type_url: RDS, resource_names: ['big'] });
    await fast.nextOf(RDS);
    const changes = 40;
    for (let i = 1; i <= changes; i++) {
      h.cache.setSnapshot('slow', snap(i));
      h.cache.setSnapshot('fast', snap(i));
      const r = await fast.nextOf(RDS); // the fast proxy keeps receiving every change
      expect(
        r.decoded[0].virtual_hosts[0].routes[0].match.path.startsWith('/' + String(i).padStart(6, '0')),
      ).toBe(true);
      expect(serverStream('slow').pendingWrites).toBeLessThanOrEqual(2);
    }
    const sentWhilePaused = serverStream('slow').responsesSent;
    expect(sentWhilePaused).toBeLessThan(changes);
    slow.call.resume();
    // The slow proxy eventually gets the newest content; intermediate versions were coalesced.
    const want = h.cache.getSnapshot('slow')!.types.get(RDS)!.version;
    let last = first;
    while (last.version_info !== want) last = await slow.next();
    expect(
      last.decoded[0].virtual_hosts[0].routes[0].match.path.startsWith(
        '/' + String(changes).padStart(6, '0'),
      ),
    ).toBe(true);
    expect(serverStream('slow').responsesSent).toBeLessThan(changes);
  });
});

describe('bad input', () => {
  it('malformed request bytes fail only that stream; the server keeps serving others', async () => {
    h = await new AdsHarness().start();
    h.cache.setSnapshot('n1', baseSnapshot());
    const raw = new grpc.Client(h.address, grpc.credentials.createInsecure());
    const call = raw.makeBidiStreamRequest<Buffer, Buffer>(
      '/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources',
      (b) => b,
      (b) => b,
    );
    const status = new Promise<grpc.StatusObject>((resolve) => call.on('status', resolve));
    call.on('error', () => undefined);
    call.write(Buffer.from([0x12, 0xff, 0xff, 0xff, 0x0f, 0x01])); // length far beyond the message
    const st = await status;
    expect(st.code).not.toBe(grpc.status.OK);
    raw.close();
    const p = await open();
    expect((await p.nextOf(CDS)).names.sort()).toEqual(['c1', 'c2']);
    expect(h.server.state).toBe('serving');
  });

  it('a cancelled stream is forgotten: gauge and watchers go back to zero', async () => {
    h = await new AdsHarness().start();
    h.cache.setSnapshot('n1', baseSnapshot());
    const p = await open();
    await p.nextOf(CDS);
    expect(await h.metric('fsm_ads_connected_streams')).toBe(1);
    expect(h.cache.watcherCount('n1')).toBe(1);
    p.s.cancel();
    await h.until(() => h.server.openStreams.length === 0);
    expect(await h.metric('fsm_ads_connected_streams')).toBe(0);
    expect(h.cache.watcherCount('n1')).toBe(0);
  });
});
