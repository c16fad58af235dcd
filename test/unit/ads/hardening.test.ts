/**
 * The ADS surface an attacker reaches, bounded (in-memory engine, the same request bytes a proxy
 * sends): a 1,000,000-name subscription, 40,000 distinct type URLs, a NACK log flood, and the
 * authorizer's place (refused at open, refused at the first request, nothing written before).
 */
import { PassThrough } from 'node:stream';
import { AdsStatus, type StreamAuthorizer } from '../../../pkg/ads/index.js';
import { CLUSTER_TYPE_URL, LISTENER_TYPE_URL } from '../../../pkg/envoy/index.js';
import { createLogger } from '../../../pkg/logger/index.js';
import { MemoryAds } from '../../support/ads-memory.js';
import { probeSnapshotInput } from '../../support/ads-fixtures.js';

function captured() {
  const out = new PassThrough();
  let bytes = 0;
  const lines: any[] = [];
  out.on('data', (b: Buffer) => {
    bytes += b.length;
    for (const l of b.toString().split('\n')) if (l.trim()) lines.push(JSON.parse(l));
  });
  return { logger: createLogger({ stream: out, json: true }), lines, bytes: () => bytes };
}

const N = { id: 'n1', cluster: 'c' };

describe('1,000,000-name subscription', () => {
  it('Delta: one request of 1,000,000 names is refused before it is applied (RESOURCE_EXHAUSTED)', () => {
    const ads = new MemoryAds();
    const s = ads.delta();
    const names = Array.from({ length: 1_000_000 }, (_, i) => `n${i}`);
    s.send({ node: N, type_url: CLUSTER_TYPE_URL, resource_names_subscribe: names });
    expect(s.status()).toEqual({
      code: AdsStatus.RESOURCE_EXHAUSTED,
      details: 'subscription to 1000000 names of CDS is over the limit of 10000',
    });
    expect(s.server!.types.size).toBe(0);
    expect(s.takeAll()).toEqual([]);
  });

  it('Delta: many small requests adding up are cut at the limit; the stream never holds more', () => {
    const ads = new MemoryAds({ limits: { maxNamesPerSubscription: 5000, maxNamesPerStream: 8000 } });
    const s = ads.delta();
    let sent = 0;
    for (let i = 0; i < 100 && !s.transport.status; i++) {
      s.send({
        ...(i === 0 ? { node: N } : {}),
        type_url: CLUSTER_TYPE_URL,
        resource_names_subscribe: Array.from({ length: 1000 }, (_, j) => `c${i}-${j}`),
      });
      sent++;
      ads.run();
    }
    expect(s.status()?.code).toBe(AdsStatus.RESOURCE_EXHAUSTED);
    expect(sent).toBe(6);
    expect(s.server!.types.get(CLUSTER_TYPE_URL)!.names.size).toBe(5000);
  });

  it('Delta: initial_resource_versions count too', () => {
    const ads = new MemoryAds({ limits: { maxNamesPerSubscription: 100 } });
    const s = ads.delta();
    const initial = Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`r${i}`, 'v']));
    s.send({ node: N, type_url: CLUSTER_TYPE_URL, initial_resource_versions: initial });
    expect(s.status()?.code).toBe(AdsStatus.RESOURCE_EXHAUSTED);
  });

  it('SotW: names over all types of a stream are bounded too', () => {
    const ads = new MemoryAds({ limits: { maxNamesPerSubscription: 600, maxNamesPerStream: 1000 } });
    const s = ads.sotw();
    s.send({
      node: N,
      type_url: CLUSTER_TYPE_URL,
      resource_names: Array.from({ length: 600 }, (_, i) => `c${i}`),
    });
    s.send({ type_url: LISTENER_TYPE_URL, resource_names: Array.from({ length: 600 }, (_, i) => `l${i}`) });
    expect(s.status()).toEqual({
      code: AdsStatus.RESOURCE_EXHAUSTED,
      details: 'the stream subscribed to 1200 names in all, over the limit of 1000',
    });
  });
});

it('40,000 distinct type URLs: the 17th ends the stream; it never keeps state for more than 16', () => {
  const ads = new MemoryAds();
  ads.cache.setSnapshot('n1', probeSnapshotInput());
  const s = ads.sotw();
  let i = 0;
  for (; i < 40_000 && !s.transport.status; i++) {
    s.send({ ...(i === 0 ? { node: N } : {}), type_url: `type.googleapis.com/attack.T${i}` });
  }
  const status = s.status();
  expect(status?.code).toBe(AdsStatus.RESOURCE_EXHAUSTED);
  expect(status?.details).toMatch(/^the stream asked for more than 16 type URLs/);
  expect(i).toBe(17);
  expect(s.server!.types.size).toBe(16);
});

it('NACK flood: 20 NACKs of 3.5 MB → 3 log lines of at most 512 bytes of detail, the cut and the skipped counted; state keeps 512 bytes', async () => {
  const log = captured();
  let now = 0;
  const ads = new MemoryAds({ logger: log.logger, now: () => now });
  ads.cache.setSnapshot('n1', probeSnapshotInput());
  const s = ads.sotw();
  s.send({ node: N, type_url: CLUSTER_TYPE_URL });
  const big = 'x'.repeat(3.5 * 1024 * 1024);
  for (let i = 0; i < 20; i++) {
    const r = s.next();
    s.send({ type_url: CLUSTER_TYPE_URL, response_nonce: r.nonce, error_detail: { code: 3, message: big } });
    // A NACK pushes nothing: make the content change so there is a new response to NACK.
    ads.cache.setSnapshot('n1', probeSnapshotInput({ appPort: 9000 + i }));
  }
  ads.run();
  await new Promise((r) => setImmediate(r));
  const nacks = log.lines.filter((l) => l.message === 'NACK');
  expect(nacks).toHaveLength(3);
  for (const l of nacks) {
    expect(Buffer.byteLength(l.error)).toBeLessThanOrEqual(512);
    expect(l.errorBytesCut).toBe(big.length - 512);
  }
  expect(log.bytes()).toBeLessThan(10_000);
  expect(await ads.metric('fsm_ads_nacks_total', { type: 'CDS', protocol: 'sotw' })).toBe(20);
  expect(Buffer.byteLength(s.server!.types.get(CLUSTER_TYPE_URL)!.nacked!.message)).toBe(512);
  // After the window, NACKs are logged again, with how many were not.
  now += 60_000;
  const r = s.next();
  s.send({
    type_url: CLUSTER_TYPE_URL,
    response_nonce: r.nonce,
    error_detail: { code: 3, message: 'short' },
  });
  ads.run();
  await new Promise((r2) => setImmediate(r2));
  expect(log.lines.filter((l) => l.message === 'NACK').at(-1)).toMatchObject({
    error: 'short',
    nacksNotLogged: 17,
  });
});

describe('authorizer', () => {
  const calls: string[] = [];
  const authorizer: StreamAuthorizer = {
    admit: (peer) =>
      peer.clientCertificate
        ? { ok: true, identity: 'x' }
        : { ok: false, code: AdsStatus.UNAUTHENTICATED, reason: 'no certificate' },
    authorize: (_peer, node) => {
      calls.push(node.id);
      return node.id === 'n1'
        ? { ok: true, identity: 'pod n1', release: () => calls.push('released n1') }
        : { ok: false, code: AdsStatus.PERMISSION_DENIED, reason: `not ${node.id}`, presented: 'n1' };
    },
  };
  const cert = { address: 'memory:tls', clientCertificate: Buffer.from('der') };

  it('a peer without a certificate is refused at open, before any request', () => {
    const ads = new MemoryAds({ authorizer });
    const s = ads.sotw({ address: 'memory:anon' });
    expect(s.server).toBeUndefined();
    expect(s.status()).toEqual({ code: AdsStatus.UNAUTHENTICATED, details: 'no certificate' });
  });

  it('the first request is authorized for its node; refused → its status, nothing written', () => {
    const ads = new MemoryAds({ authorizer });
    ads.cache.setSnapshot('n2', probeSnapshotInput());
    const s = ads.sotw(cert);
    s.send({ node: { id: 'n2' }, type_url: CLUSTER_TYPE_URL });
    expect(s.status()).toEqual({ code: AdsStatus.PERMISSION_DENIED, details: 'not n2' });
    expect(s.transport.written).toEqual([]);
    expect(ads.cache.watcherCount('n2')).toBe(0);
  });

  it('authorized: served, bound, released on close; revoke ends it', () => {
    calls.length = 0;
    const ads = new MemoryAds({ authorizer });
    ads.cache.setSnapshot('n1', probeSnapshotInput());
    const s = ads.sotw(cert);
    s.send({ node: N, type_url: CLUSTER_TYPE_URL });
    expect(s.next().type_url).toBe(CLUSTER_TYPE_URL);
    expect(s.server!.identity).toBe('pod n1');
    expect(ads.engine.revoke('n1', AdsStatus.PERMISSION_DENIED, 'pod gone')).toBe(1);
    expect(s.status()).toEqual({ code: AdsStatus.PERMISSION_DENIED, details: 'pod gone' });
    expect(calls).toEqual(['n1', 'released n1']);
  });
});
