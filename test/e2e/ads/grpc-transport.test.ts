/**
 * The grpc-js adapter (pkg/ads/grpc-transport.ts) over real gRPC on 127.0.0.1:0: the peer it
 * reports (address; the verified client certificate over mTLS, which mesh identity will bind the
 * stream to) and how a client's half-close reaches the engine.
 */
import { X509Certificate } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { Registry } from 'prom-client';
import { AdsServer, SnapshotCache } from '../../../pkg/ads/index.js';
import { ADS_SOTW_METHOD_PATH } from '../../../pkg/constants/index.js';
import { createCA } from '../../../pkg/tls/index.js';
import {
  RawStream,
  decodeSotwResponse,
  encodeSotwRequest,
  type SotwResponse,
} from '../../support/ads-client.js';
import { AdsHarness } from '../../support/ads-harness.js';
import { CDS, baseSnapshot } from '../../support/ads-resources.js';

async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setTimeout(r, 5));
}

describe('grpc-js transport', () => {
  let h: AdsHarness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('reports the remote address, and no client certificate without TLS', async () => {
    h = await new AdsHarness().start();
    h.cache.setSnapshot('n1', baseSnapshot());
    const s = h.client().sotw();
    s.send({ node: { id: 'n1' }, type_url: CDS });
    await s.next();
    const [stream] = h.server.streamsOf('n1');
    expect(stream!.peer.address).toMatch(/127\.0\.0\.1:\d+/);
    expect(stream!.peer.clientCertificate).toBeUndefined();
  });

  it('a client half-close ends the stream with OK and it is forgotten', async () => {
    h = await new AdsHarness().start();
    h.cache.setSnapshot('n1', baseSnapshot());
    const s = h.client().sotw();
    s.send({ node: { id: 'n1' }, type_url: CDS });
    await s.next();
    s.close();
    expect((await s.status()).code).toBe(grpc.status.OK);
    await until(() => h!.server.openStreams.length === 0);
    expect(await h.metric('fsm_ads_connected_streams')).toBe(0);
  });

  it('over mTLS, reports the client certificate the handshake verified', async () => {
    const ca = await createCA('ads-test-ca');
    const serving = await ca.issue({ commonName: 'ads', ipAddresses: ['127.0.0.1'] });
    const proxy = await ca.issue({ commonName: 'proxy-1', clientAuth: true });
    const cache = new SnapshotCache();
    cache.setSnapshot('n1', baseSnapshot());
    const server = new AdsServer({
      cache,
      registry: new Registry(),
      credentials: grpc.ServerCredentials.createSsl(
        Buffer.from(ca.certPem),
        [{ cert_chain: Buffer.from(serving.certPem), private_key: Buffer.from(serving.keyPem) }],
        true,
      ),
    });
    const { port } = await server.start({ port: 0, host: '127.0.0.1' });
    const client = new grpc.Client(
      `127.0.0.1:${port}`,
      grpc.credentials.createSsl(
        Buffer.from(ca.certPem),
        Buffer.from(proxy.keyPem),
        Buffer.from(proxy.certPem),
      ),
    );
    try {
      const s = new RawStream<SotwResponse>(
        client.makeBidiStreamRequest(ADS_SOTW_METHOD_PATH, encodeSotwRequest, decodeSotwResponse),
      );
      s.send({ node: { id: 'n1' }, type_url: CDS });
      expect((await s.next()).names.sort()).toEqual(['c1', 'c2']);
      const [stream] = server.streamsOf('n1');
      const der = stream!.peer.clientCertificate;
      expect(der).toBeInstanceOf(Buffer);
      expect(new X509Certificate(der!).subject).toBe('CN=proxy-1');
      expect(new X509Certificate(proxy.certPem).raw.equals(der!)).toBe(true);
    } finally {
      client.close();
      await server.stop(0);
    }
  });
});
