/**
 * A real xDS client against our ADS server: @grpc/grpc-js-xds (bootstrap with node.locality)
 * resolves xds:///echo through LDS → RDS → CDS → EDS served by pkg/ads to a real local gRPC
 * backend, follows an EDS update to a second backend, and keeps serving on the last good config
 * when an invalid cluster is pushed (which it NACKs).
 */
import * as grpc from '@grpc/grpc-js';
import * as xds from '@grpc/grpc-js-xds';
import {
  HTTP_CONNECTION_MANAGER_TYPE_URL,
  ROUTER_TYPE_URL,
  packAny,
  type PlainMessage,
} from '../../../pkg/envoy/index.js';
import { AdsHarness } from '../../support/ads-harness.js';
import { CDS, EDS, LDS, RDS } from '../../support/ads-resources.js';
import type { SnapshotInput } from '../../../pkg/ads/index.js';

xds.register();

const METHOD = '/fsm.e2e.Echo/Who';
const NODE_ID = 'e2e-client';
const SERVICE = 'echo';

async function startBackend(id: string): Promise<{ server: grpc.Server; port: number }> {
  const server = new grpc.Server();
  server.register<Buffer, Buffer>(
    METHOD,
    (_call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) =>
      cb(null, Buffer.from(id)),
    (b: Buffer) => b,
    (b: Buffer) => b,
    'unary',
  );
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) =>
      e ? reject(e) : resolve(p),
    ),
  );
  return { server, port };
}

function xdsConfig(backendPort: number, lbPolicy = 'ROUND_ROBIN'): SnapshotInput {
  const hcm: PlainMessage = {
    stat_prefix: SERVICE,
    rds: { route_config_name: 'echo-routes', config_source: { ads: {}, resource_api_version: 'V3' } },
    http_filters: [{ name: 'envoy.filters.http.router', typed_config: packAny(ROUTER_TYPE_URL, {}) }],
  };
  return {
    [LDS]: [
      {
        name: SERVICE,
        resource: {
          name: SERVICE,
          api_listener: { api_listener: packAny(HTTP_CONNECTION_MANAGER_TYPE_URL, hcm) },
        },
      },
    ],
    [RDS]: [
      {
        name: 'echo-routes',
        resource: {
          name: 'echo-routes',
          virtual_hosts: [
            {
              name: 'echo',
              domains: [SERVICE],
              routes: [{ match: { prefix: '' }, route: { cluster: 'echo-cluster' } }],
            },
          ],
        },
      },
    ],
    [CDS]: [
      {
        name: 'echo-cluster',
        resource: {
          name: 'echo-cluster',
          type: 'EDS',
          lb_policy: lbPolicy,
          eds_cluster_config: { eds_config: { ads: {}, resource_api_version: 'V3' } },
        },
      },
    ],
    [EDS]: [
      {
        name: 'echo-cluster',
        resource: {
          cluster_name: 'echo-cluster',
          endpoints: [
            {
              locality: { region: 'local', zone: 'a' },
              load_balancing_weight: { value: 1 },
              lb_endpoints: [
                {
                  endpoint: {
                    address: { socket_address: { address: '127.0.0.1', port_value: backendPort } },
                  },
                },
              ],
            },
          ],
        },
      },
    ],
  };
}

describe('@grpc/grpc-js-xds against the fsm ADS server', () => {
  let h: AdsHarness;
  const backends: grpc.Server[] = [];
  let client: grpc.Client | undefined;

  afterEach(async () => {
    client?.close();
    client = undefined;
    await h?.close();
    for (const b of backends.splice(0)) await new Promise<void>((r) => b.tryShutdown(() => r()));
  });

  function call(): Promise<string> {
    return new Promise((resolve, reject) =>
      client!.makeUnaryRequest<Buffer, Buffer>(
        METHOD,
        (b) => b,
        (b) => b,
        Buffer.alloc(0),
        { deadline: Date.now() + 5000 },
        (err, res) => (err ? reject(err) : resolve(res!.toString())),
      ),
    );
  }

  async function callUntil(want: string): Promise<void> {
    for (;;) {
      const got = await call().catch((e: Error) => `error: ${e.message}`);
      if (got === want) return;
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  function newClient(): grpc.Client {
    const bootstrap = {
      xds_servers: [
        { server_uri: h.address, channel_creds: [{ type: 'insecure' }], server_features: ['xds_v3'] },
      ],
      node: { id: NODE_ID, cluster: 'e2e', locality: { region: 'local', zone: 'a', sub_zone: 'x' } },
    };
    return new grpc.Client(`xds:///${SERVICE}`, grpc.credentials.createInsecure(), {
      'grpc.TEST_ONLY_DO_NOT_USE_IN_PROD.xds_bootstrap_config': JSON.stringify(bootstrap),
    });
  }

  it('resolves xds:///echo to a local backend and follows an EDS update to a second backend', async () => {
    const b1 = await startBackend('backend-1');
    const b2 = await startBackend('backend-2');
    backends.push(b1.server, b2.server);
    h = await new AdsHarness().start();
    h.cache.setSnapshot(NODE_ID, xdsConfig(b1.port));
    client = newClient();
    expect(await call()).toBe('backend-1');
    await h.until(async () => (await h.metric('fsm_ads_acks_total', { type: 'EDS' })) >= 1);
    h.cache.setSnapshot(NODE_ID, xdsConfig(b2.port));
    await callUntil('backend-2');
    expect(await call()).toBe('backend-2');
    expect(await h.metric('fsm_ads_nacks_total')).toBe(0);
  });

  it('NACKs an invalid cluster and keeps routing on the last good config', async () => {
    const b1 = await startBackend('backend-1');
    backends.push(b1.server);
    h = await new AdsHarness().start();
    h.cache.setSnapshot(NODE_ID, xdsConfig(b1.port));
    client = newClient();
    expect(await call()).toBe('backend-1');
    const acked = await h.metric('fsm_ads_acks_total', { type: 'CDS' });
    h.cache.setSnapshot(NODE_ID, xdsConfig(b1.port, 'MAGLEV')); // grpc-js-xds rejects this lb_policy
    await h.until(async () => (await h.metric('fsm_ads_nacks_total', { type: 'CDS' })) === 1);
    expect(await h.metric('fsm_ads_acks_total', { type: 'CDS' })).toBe(acked);
    for (let i = 0; i < 5; i++) expect(await call()).toBe('backend-1');
    // A fixed config is accepted again.
    h.cache.setSnapshot(NODE_ID, xdsConfig(b1.port, 'ROUND_ROBIN'));
    await h.until(async () => (await h.metric('fsm_ads_acks_total', { type: 'CDS' })) > acked);
    expect(await call()).toBe('backend-1');
  });
});
