/**
 * SotW over a real gRPC server on 127.0.0.1:0 and a raw ADS client: what depends on the transport
 * (the wire bytes, statuses sent through grpc-js, cancel, HTTP/2 backpressure, the request
 * deserializer) and one full NACK and one removal-order flow end to end. Every protocol rule is a
 * row of the in-memory tables (test/unit/ads/sotw-rules.test.ts, stream-rules.test.ts).
 * "Nothing was resent" is proven without timing: the test then subscribes to a new route
 * configuration (a barrier); RDS is last in push order, so any owed response of another type
 * would arrive before the barrier's response.
 */
import { PassThrough } from 'node:stream';
import * as grpc from '@grpc/grpc-js';
import { createLogger } from '../../../pkg/logger/index.js';
import type { SotwStream } from '../../../pkg/ads/index.js';
import { AdsHarness } from '../../support/ads-harness.js';
import { ackOf, nackOf, type RawStream, type SotwResponse } from '../../support/ads-client.js';
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
});

describe('ACK and NACK', () => {
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
});

describe('push order', () => {
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
