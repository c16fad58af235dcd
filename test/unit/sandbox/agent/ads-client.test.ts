/**
 * The agent's ADS client request by request, against a scripted grpc-js ADS server: node on the
 * first request of each stream, ACK and NACK fields, ordered application, subscriptions, and the
 * versions it sends after a reconnect.
 */
import { status as GrpcStatus } from '@grpc/grpc-js';
import {
  CLUSTER_TYPE_URL,
  LISTENER_TYPE_URL,
  ROUTE_CONFIGURATION_TYPE_URL,
} from '../../../../pkg/envoy/index.js';
import { silentLogger } from '../../../../pkg/logger/index.js';
import { AdsClient, NACK_CODE, type XdsResource } from '../../../../pkg/sandbox/agent/ads-client.js';
import { ScriptedAds } from '../../../support/agent-ads-script.js';

const CDS = CLUSTER_TYPE_URL;
const LDS = LISTENER_TYPE_URL;
const RDS = ROUTE_CONFIGURATION_TYPE_URL;

function cluster(name: string, port: number) {
  return {
    name,
    type: 'STATIC',
    load_assignment: {
      cluster_name: name,
      endpoints: [
        {
          lb_endpoints: [
            { endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: port } } } },
          ],
        },
      ],
    },
  };
}

interface Applied {
  typeUrl: string;
  names: string[];
  version: string;
}

let ads: ScriptedAds;
let client: AdsClient | undefined;
let applied: Applied[];
let reject: ((typeUrl: string, resources: XdsResource[]) => string | undefined) | undefined;
let gate: Promise<void> | undefined;

function newClient(address = ads.address): AdsClient {
  client = new AdsClient({
    address,
    node: { id: 'proxy-uuid-1', cluster: 'bookstore.bookstore', locality: { zone: 'sandbox' } },
    logger: silentLogger(),
    backoff: { initialMs: 10, maxMs: 50 },
    apply: async (typeUrl, resources, version) => {
      if (gate) await gate;
      const why = reject?.(typeUrl, resources);
      if (why) throw new Error(why);
      applied.push({ typeUrl, names: resources.map((r) => r.name), version });
    },
  });
  return client;
}

beforeEach(async () => {
  applied = [];
  reject = undefined;
  gate = undefined;
  ads = await new ScriptedAds().start();
});

afterEach(async () => {
  await client?.stop();
  client = undefined;
  await ads.stop();
});

describe('AdsClient (SotW)', () => {
  test('the first request carries the node; Cluster then Listener, wildcard, no version, no nonce', async () => {
    const c = newClient();
    c.subscribe(CDS);
    c.subscribe(LDS);
    c.start();
    const first = await ads.request(0, 0);
    const second = await ads.request(0, 1);
    expect(first.node).toMatchObject({ id: 'proxy-uuid-1', cluster: 'bookstore.bookstore' });
    expect((first.node!.raw as { locality?: { zone?: string } }).locality?.zone).toBe('sandbox');
    expect((first.node!.raw as { user_agent_name?: string }).user_agent_name).toBe('fsm-probe-agent');
    expect(first).toMatchObject({ type_url: CDS, version_info: '', response_nonce: '', resource_names: [] });
    expect(second.node).toBeUndefined();
    expect(second).toMatchObject({ type_url: LDS, version_info: '', response_nonce: '', resource_names: [] });
  });

  test('a response applied is ACKed with its version and nonce', async () => {
    const c = newClient();
    c.subscribe(CDS);
    c.start();
    await ads.request(0, 0);
    ads.streams[0]!.respond(CDS, 'v1', [cluster('a', 1000), cluster('b', 1001)], 'n1');
    const ack = await ads.request(0, 1);
    expect(ack).toMatchObject({
      type_url: CDS,
      version_info: 'v1',
      response_nonce: 'n1',
      resource_names: [],
    });
    expect(ack.error_detail).toBeUndefined();
    expect(applied).toEqual([{ typeUrl: CDS, names: ['a', 'b'], version: 'v1' }]);
    expect(c.status()).toMatchObject({ connected: true, streams: 1 });
    expect(c.status().types[CDS]).toMatchObject({ version: 'v1', nonce: 'n1', acks: 1, nacks: 0 });
  });

  test('a response refused is NACKed: the previous version, the nonce, error_detail with the message', async () => {
    const c = newClient();
    c.subscribe(CDS);
    c.start();
    await ads.request(0, 0);
    ads.streams[0]!.respond(CDS, 'v1', [cluster('a', 1000)], 'n1');
    await ads.request(0, 1);
    reject = (_t, resources) =>
      resources.some((r) => r.name === 'bad') ? 'Cluster "bad": no thanks' : undefined;
    ads.streams[0]!.respond(CDS, 'v2', [cluster('a', 1000), cluster('bad', 1)], 'n2');
    const nack = await ads.request(0, 2);
    expect(nack).toMatchObject({ type_url: CDS, version_info: 'v1', response_nonce: 'n2' });
    expect(nack.error_detail).toEqual({ code: NACK_CODE, message: 'Cluster "bad": no thanks' });
    expect(c.status().types[CDS]).toMatchObject({
      version: 'v1',
      nacks: 1,
      lastNack: { version: 'v2', message: 'Cluster "bad": no thanks' },
    });
    // The next good response is ACKed and clears the NACK.
    ads.streams[0]!.respond(CDS, 'v3', [cluster('a', 1002)], 'n3');
    expect(await ads.request(0, 3)).toMatchObject({ version_info: 'v3', response_nonce: 'n3' });
    expect(c.status().types[CDS]!.lastNack).toBeUndefined();
    expect(applied.map((a) => a.version)).toEqual(['v1', 'v3']);
  });

  test('responses are applied one at a time, in the order received', async () => {
    const c = newClient();
    c.subscribe(CDS);
    c.subscribe(LDS);
    c.start();
    await ads.request(0, 1);
    let open: () => void = () => undefined;
    gate = new Promise<void>((r) => (open = r));
    ads.streams[0]!.respond(CDS, 'c1', [cluster('a', 1000)], 'n1');
    ads.streams[0]!.respond(LDS, 'l1', [], 'n2');
    ads.streams[0]!.respond(CDS, 'c2', [cluster('b', 1000)], 'n3');
    open();
    await ads.request(0, 4);
    expect(applied.map((a) => a.version)).toEqual(['c1', 'l1', 'c2']);
    expect(ads.streams[0]!.requests.slice(2).map((r) => r.response_nonce)).toEqual(['n1', 'n2', 'n3']);
  });

  test('a named subscription is sent at once and again after a change, with the latest nonce', async () => {
    const c = newClient();
    c.subscribe(LDS);
    c.start();
    await ads.request(0, 0);
    c.subscribe(RDS, ['routes_b', 'routes_a']);
    const rds = await ads.request(0, 1);
    expect(rds).toMatchObject({
      type_url: RDS,
      resource_names: ['routes_a', 'routes_b'],
      response_nonce: '',
    });
    ads.streams[0]!.respond(RDS, 'r1', [{ name: 'routes_a' }], 'n1');
    await ads.request(0, 2);
    c.subscribe(RDS, ['routes_a', 'routes_b']); // same set: nothing sent
    c.subscribe(RDS, ['routes_a']);
    expect(await ads.request(0, 3)).toMatchObject({
      type_url: RDS,
      resource_names: ['routes_a'],
      version_info: 'r1',
      response_nonce: 'n1',
    });
    expect(ads.streams[0]!.requests).toHaveLength(4);
  });

  test('after the stream ends it reconnects and requests every type with its last ACKed version', async () => {
    const c = newClient();
    c.subscribe(CDS);
    c.subscribe(LDS);
    c.subscribe(RDS, ['r']);
    c.start();
    await ads.request(0, 2);
    ads.streams[0]!.respond(CDS, 'c1', [cluster('a', 1000)], 'n1');
    ads.streams[0]!.respond(RDS, 'r1', [{ name: 'r' }], 'n2');
    await ads.request(0, 4);
    ads.streams[0]!.fail(GrpcStatus.UNAVAILABLE, 'controller restarting');
    const first = await ads.request(1, 0);
    const second = await ads.request(1, 1);
    const third = await ads.request(1, 2);
    expect(first.node?.id).toBe('proxy-uuid-1');
    expect(
      [first, second, third].map((r) => [r.type_url, r.version_info, r.response_nonce, r.resource_names]),
    ).toEqual([
      [CDS, 'c1', '', []],
      [LDS, '', '', []],
      [RDS, 'r1', '', ['r']],
    ]);
    await ads.until(() => c.status().connected === false || c.status().streams === 2);
    expect(c.status().streams).toBe(2);
    expect(c.status().lastDisconnect).toContain('controller restarting');
  });

  test('a controller that is down is retried until it is back, on the same address', async () => {
    const c = newClient();
    c.subscribe(CDS);
    c.start();
    await ads.request(0, 0);
    ads.streams[0]!.respond(CDS, 'c1', [cluster('a', 1000)], 'n1');
    await ads.request(0, 1);
    const port = ads.port;
    await ads.stop();
    // Several failed attempts while nobody listens.
    while (c.status().streams < 4) await new Promise((r) => setTimeout(r, 5));
    expect(c.status().connected).toBe(false);
    ads = await new ScriptedAds().start(port);
    const again = await ads.request(0, 0);
    expect(again).toMatchObject({ type_url: CDS, version_info: 'c1', response_nonce: '' });
    expect(again.node?.id).toBe('proxy-uuid-1');
  });

  test('stop() closes the stream and never reconnects', async () => {
    const c = newClient();
    c.subscribe(CDS);
    c.start();
    await ads.request(0, 0);
    await c.stop();
    await ads.until(() => ads.streams[0]!.ended);
    expect(c.status()).toMatchObject({ connected: false, streams: 1 });
  });
});
