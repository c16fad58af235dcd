/**
 * What a NACK says: the real agent against a scripted grpc-js ADS server lists every problem of a
 * refused response in error_detail (and in its status), bounded for a huge bad configuration, and
 * keeps the last good configuration. Also every problem of the two checks outside the parsers:
 * resources that are not of the response's type, and listeners that would share an address.
 */
import {
  CLUSTER_TYPE_URL,
  LISTENER_TYPE_URL,
  TCP_PROXY_TYPE_URL,
  decodeMessage,
  encodeMessage,
  packAny,
  type PlainMessage,
} from '../../../../pkg/envoy/index.js';
import { silentLogger } from '../../../../pkg/logger/index.js';
import { ConfigError, NACK_DETAIL_LIMITS } from '../../../../pkg/sandbox/agent/config/problems.js';
import { EndpointPicker } from '../../../../pkg/sandbox/agent/upstream.js';
import { ListenerSet } from '../../../../pkg/sandbox/agent/listeners.js';
import { NACK_CODE, decodeResources } from '../../../../pkg/sandbox/agent/ads-client.js';
import { parseListener } from '../../../../pkg/sandbox/agent/xds-config.js';
import { startProbeAgent, type ProbeAgent } from '../../../../pkg/sandbox/agent/index.js';
import { ScriptedAds } from '../../../support/agent-ads-script.js';
import { waitForStatus } from '../../../support/agent.js';

const POD = '127.0.65.1';

const sock = (address: string, port_value: number) => ({ socket_address: { address, port_value } });

function cluster(name: string, address: string, port: number, extra: PlainMessage = {}): PlainMessage {
  return {
    name,
    type: 'STATIC',
    load_assignment: {
      cluster_name: name,
      endpoints: [{ lb_endpoints: [{ endpoint: { address: sock(address, port) } }] }],
    },
    ...extra,
  };
}

function tcpListener(name: string, port: number, extra: PlainMessage = {}): PlainMessage {
  return {
    name,
    address: sock('0.0.0.0', port),
    filter_chains: [
      {
        filters: [
          {
            name: 'envoy.filters.network.tcp_proxy',
            typed_config: packAny(TCP_PROXY_TYPE_URL, { stat_prefix: name, cluster: 'c' }),
          },
        ],
      },
    ],
    ...extra,
  };
}

describe('the agent NACKs a response with every problem listed', () => {
  let ads: ScriptedAds;
  let agent: ProbeAgent | undefined;

  beforeEach(async () => {
    ads = await new ScriptedAds().start();
  });

  afterEach(async () => {
    await agent?.stop();
    agent = undefined;
    await ads.stop();
  });

  async function start(): Promise<ProbeAgent> {
    agent = await startProbeAgent({
      adsAddress: ads.address,
      nodeId: 'nack-detail-node',
      podAddress: POD,
      portMap: { 15901: 0 },
      backoff: { initialMs: 20, maxMs: 200 },
    });
    await ads.request(0, 1); // CDS, then LDS
    return agent;
  }

  test('clusters: error_detail and status list each problem with its path; the last good clusters stay', async () => {
    const ag = await start();
    const s = ads.streams[0]!;
    s.respond(CLUSTER_TYPE_URL, 'v1', [cluster('good', '127.0.0.1', 8080)], 'n1');
    expect(await ads.request(0, 2)).toMatchObject({ type_url: CLUSTER_TYPE_URL, version_info: 'v1' });

    s.respond(
      CLUSTER_TYPE_URL,
      'v2',
      [
        cluster('good', '127.0.0.1', 8081),
        cluster('bad', 'app.local', 0),
        cluster('worse', '127.0.0.1', 80, { type: 'STRICT_DNS' }),
      ],
      'n2',
    );
    const nack = await ads.request(0, 3);
    const detail = [
      'Cluster "bad".load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address.address: not an IP address: "app.local"',
      'Cluster "bad".load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address.port_value: invalid port 0',
      'Cluster "worse".type: cluster type "STRICT_DNS" is not supported (STATIC, EDS or ORIGINAL_DST)',
    ].join('\n');
    expect(nack).toMatchObject({ type_url: CLUSTER_TYPE_URL, version_info: 'v1', response_nonce: 'n2' });
    expect(nack.error_detail).toEqual({ code: NACK_CODE, message: detail });
    const st = await waitForStatus(ag, (x) => x.nacks.CDS !== undefined, 'CDS NACK');
    expect(st.nacks.CDS).toEqual({ version: 'v2', message: detail });
    expect(st.versions.CDS).toBe('v1');
    expect(st.clusters).toEqual(['good']);
  });

  test('a huge bad configuration: the NACK stays bounded and says how many problems it left out', async () => {
    const ag = await start();
    const listeners = Array.from({ length: 300 }, (_, i) =>
      tcpListener(`l${i}`, 20000 + i, { listener_filters: [{ name: `envoy.filters.listener.x${i}` }] }),
    );
    ads.streams[0]!.respond(LISTENER_TYPE_URL, 'v1', listeners, 'n1');
    const nack = await ads.request(0, 2);
    expect(nack.type_url).toBe(LISTENER_TYPE_URL);
    const message = nack.error_detail!.message;
    expect(message.length).toBeLessThanOrEqual(NACK_DETAIL_LIMITS.maxChars);
    const lines = message.split('\n');
    const listed = lines.slice(0, -1);
    expect(listed).toHaveLength(NACK_DETAIL_LIMITS.maxProblems);
    listed.forEach((line, i) =>
      expect(line).toBe(
        `Listener "l${i}".listener_filters[0]: unknown listener filter "envoy.filters.listener.x${i}" ("no typed_config"): only the TLS inspector is supported`,
      ),
    );
    expect(lines.at(-1)).toBe(`… and ${300 - listed.length} more problems not listed (300 in all)`);
    const st = await waitForStatus(ag, (x) => x.nacks.LDS !== undefined, 'LDS NACK');
    expect(st.nacks.LDS!.message).toBe(message);
    expect(st.listeners).toEqual([]);
  });
});

describe('decodeResources', () => {
  const good = encodeMessage(CLUSTER_TYPE_URL, cluster('a', '127.0.0.1', 80));

  test('resources of the response type are decoded, named', () => {
    const out = decodeResources(CLUSTER_TYPE_URL, [{ type_url: CLUSTER_TYPE_URL, value: good }]);
    expect(out.map((r) => r.name)).toEqual(['a']);
    expect(out[0]!.bytes).toBe(good);
  });

  test('every resource of another type or that cannot be decoded is listed', () => {
    let err: unknown;
    try {
      decodeResources(CLUSTER_TYPE_URL, [
        { type_url: LISTENER_TYPE_URL, value: good },
        { type_url: CLUSTER_TYPE_URL, value: good },
        { type_url: '', value: good },
        { type_url: CLUSTER_TYPE_URL, value: Uint8Array.of(0x0a, 0xff) },
      ]);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const lines = (err as ConfigError).message.split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toBe(`resources[0]: type "${LISTENER_TYPE_URL}" in a ${CLUSTER_TYPE_URL} response`);
    expect(lines[1]).toBe(`resources[2]: type "" in a ${CLUSTER_TYPE_URL} response`);
    expect(lines[2]).toMatch(/^resources\[3\]: cannot decode: ./);
  });
});

describe('ListenerSet refuses an update whose listeners share addresses, naming every clash', () => {
  test('two clashes: both listed, nothing bound', async () => {
    const picker = new EndpointPicker({});
    const set = new ListenerSet({
      podAddress: POD,
      portMap: {},
      context: {
        logger: silentLogger(),
        cluster: () => undefined,
        routeConfig: () => undefined,
        pickEndpoint: (c) => picker.pick(c),
        secret: () => undefined,
        accessLog: () => undefined,
      },
      logger: silentLogger(),
    });
    const models = [
      tcpListener('a', 15901),
      tcpListener('b', 15901),
      tcpListener('c', 15902),
      tcpListener('d', 15902),
    ].map((l) => parseListener(decodeMessage(LISTENER_TYPE_URL, encodeMessage(LISTENER_TYPE_URL, l))));
    await expect(set.update(models)).rejects.toThrow(
      new ConfigError(
        [
          `Listener "b": address ${POD}:15901 is already used by listener "a"`,
          `Listener "d": address ${POD}:15902 is already used by listener "c"`,
        ].join('\n'),
      ),
    );
    expect(set.status()).toEqual([]);
    await set.closeAll();
  });
});
