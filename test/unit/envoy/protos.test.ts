import {
  CLUSTER_LOAD_ASSIGNMENT_TYPE_URL,
  CLUSTER_TYPE_URL,
  HTTP_CONNECTION_MANAGER_TYPE_URL,
  LISTENER_TYPE_URL,
  ROUTER_TYPE_URL,
  ROUTE_CONFIGURATION_TYPE_URL,
  TCP_PROXY_TYPE_URL,
  decodeMessage,
  encodeMessage,
  envoyRoot,
  hasMessageType,
  messageNameOf,
  messageType,
  packAny,
  shortTypeName,
  unpackAny,
} from '../../../pkg/envoy/index.js';
import { ENVOY_PROTO_FILES } from '../../../pkg/envoy/type-urls.js';
import { encodeAny } from '../../../pkg/envoy/protos.js';
import { protoIncludeDirs } from '../../../pkg/envoy/proto-paths.js';
import { existsSync } from 'node:fs';
import path from 'node:path';

describe('proto include dirs', () => {
  it('point at the four deps folders of the installed @grpc/grpc-js-xds, each holding a proto we load', () => {
    const dirs = protoIncludeDirs();
    for (const d of ['envoy-api', 'xds', 'googleapis', 'protoc-gen-validate']) {
      expect(dirs.some((x) => x.includes(path.join('grpc-js-xds', 'deps', d)))).toBe(true);
    }
    for (const f of ENVOY_PROTO_FILES) {
      expect(dirs.some((d) => existsSync(path.join(d, f)))).toBe(true);
    }
  });
});

describe('type URLs', () => {
  it.each([
    [LISTENER_TYPE_URL, 'envoy.config.listener.v3.Listener', 'LDS'],
    [CLUSTER_TYPE_URL, 'envoy.config.cluster.v3.Cluster', 'CDS'],
    [ROUTE_CONFIGURATION_TYPE_URL, 'envoy.config.route.v3.RouteConfiguration', 'RDS'],
    [CLUSTER_LOAD_ASSIGNMENT_TYPE_URL, 'envoy.config.endpoint.v3.ClusterLoadAssignment', 'EDS'],
    [
      HTTP_CONNECTION_MANAGER_TYPE_URL,
      'envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
      'envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
    ],
    [
      ROUTER_TYPE_URL,
      'envoy.extensions.filters.http.router.v3.Router',
      'envoy.extensions.filters.http.router.v3.Router',
    ],
    [
      TCP_PROXY_TYPE_URL,
      'envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy',
      'envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy',
    ],
  ])('%s is full, known to the root, named %s', (url, name, short) => {
    expect(url.startsWith('type.googleapis.com/')).toBe(true);
    expect(messageNameOf(url)).toBe(name);
    expect(hasMessageType(url)).toBe(true);
    expect(messageType(url).fullName).toBe('.' + name);
    expect(shortTypeName(url)).toBe(short);
  });

  it('the ADS service and discovery messages are in the same root', () => {
    const root = envoyRoot();
    expect(
      root.lookupService('envoy.service.discovery.v3.AggregatedDiscoveryService').methods,
    ).toHaveProperty('StreamAggregatedResources');
    expect(hasMessageType('envoy.service.discovery.v3.DeltaDiscoveryRequest')).toBe(true);
    expect(hasMessageType('type.googleapis.com/envoy.config.nope.v3.Nope')).toBe(false);
    expect(() => messageType('type.googleapis.com/envoy.config.nope.v3.Nope')).toThrow(
      /envoy.config.nope.v3.Nope/,
    );
  });
});

const hcm = {
  stat_prefix: 'liveness',
  route_config: {
    name: 'probe_routes',
    virtual_hosts: [
      {
        name: 'probe',
        domains: ['*'],
        routes: [
          {
            match: { path: '/fsm-liveness-probe' },
            route: { cluster: 'app_liveness_cluster', prefix_rewrite: '/healthz' },
          },
        ],
      },
    ],
  },
  http_filters: [{ name: 'envoy.filters.http.router', typed_config: packAny(ROUTER_TYPE_URL, {}) }],
};

const listener = {
  name: 'liveness_listener',
  address: { socket_address: { address: '0.0.0.0', port_value: 15901 } },
  filter_chains: [
    {
      filters: [
        {
          name: 'envoy.filters.network.http_connection_manager',
          typed_config: packAny(HTTP_CONNECTION_MANAGER_TYPE_URL, hcm),
        },
      ],
    },
  ],
};

describe('encode / decode / Any', () => {
  it('round-trips a listener whose filter is a packed HttpConnectionManager (Any carries real bytes)', () => {
    const bytes = encodeMessage(LISTENER_TYPE_URL, listener);
    const back = decodeMessage<any>(LISTENER_TYPE_URL, bytes);
    expect(back.name).toBe('liveness_listener');
    expect(back.address.socket_address.port_value).toBe(15901);
    const any = back.filter_chains[0].filters[0].typed_config;
    expect(any.type_url).toBe(HTTP_CONNECTION_MANAGER_TYPE_URL);
    expect(any.value.length).toBeGreaterThan(20);
    const h = unpackAny<any>(any);
    expect(h.route_config.virtual_hosts[0].routes[0].route.prefix_rewrite).toBe('/healthz');
    expect(h.http_filters[0].typed_config.type_url).toBe(ROUTER_TYPE_URL);
  });

  it('round-trips a STATIC cluster with an enum and a duration', () => {
    const cluster = {
      name: 'app_liveness_cluster',
      type: 'STATIC',
      connect_timeout: { seconds: 1, nanos: 0 },
      load_assignment: {
        cluster_name: 'app_liveness_cluster',
        endpoints: [
          {
            lb_endpoints: [
              { endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: 8080 } } } },
            ],
          },
        ],
      },
    };
    const back = decodeMessage<any>(CLUSTER_TYPE_URL, encodeMessage(CLUSTER_TYPE_URL, cluster));
    expect(back.type).toBe('STATIC');
    expect(back.connect_timeout).toMatchObject({ seconds: '1' });
    expect(back.load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address.port_value).toBe(
      8080,
    );
  });

  it('packAny accepts pre-encoded bytes and a bare message name; encodeAny writes a decodable Any', () => {
    const bytes = encodeMessage(ROUTE_CONFIGURATION_TYPE_URL, { name: 'rc' });
    const any = packAny('envoy.config.route.v3.RouteConfiguration', bytes);
    expect(any.type_url).toBe(ROUTE_CONFIGURATION_TYPE_URL);
    const decodedAny = decodeMessage<any>('google.protobuf.Any', encodeAny(any));
    expect(decodedAny.type_url).toBe(ROUTE_CONFIGURATION_TYPE_URL);
    expect(unpackAny<any>(decodedAny).name).toBe('rc');
  });

  it.each([
    [{ name: 'l', nmae: 'typo' }, /Listener\.nmae: no such field/],
    [{ name: 7 }, /Listener\.name: expected a string, got number 7/],
    [
      { address: { socket_address: { port_value: 'x' } } },
      /address\.socket_address\.port_value: expected a uint32/,
    ],
    [{ filter_chains: {} }, /filter_chains: expected an array/],
    [
      { filter_chains: [{ filters: [{ typed_config: { '@type': 'nope' } }] }] },
      /unknown message type "nope"/,
    ],
    [
      { filter_chains: [{ filters: [{ typed_config: { stat_prefix: 'x' } }] }] },
      /typed_config\.stat_prefix: no such field in google.protobuf.Any/,
    ],
    [{ traffic_direction: 'SIDEWAYS' }, /traffic_direction: unknown TrafficDirection value "SIDEWAYS"/],
    [
      { listener_filters_timeout: { seconds: 1, minutes: 2 } },
      /listener_filters_timeout\.minutes: no such field/,
    ],
    [{ address: 'x' }, /Listener\.address: expected an object, got string "x"/],
  ])('rejects bad input %j naming the field', (obj, re) => {
    expect(() => encodeMessage(LISTENER_TYPE_URL, obj as any)).toThrow(re);
  });

  it('accepts the protobufjs "@type" Any form when the type is in the root', () => {
    const l = {
      name: 'x',
      filter_chains: [
        {
          filters: [
            { name: 'tcp', typed_config: { '@type': TCP_PROXY_TYPE_URL, stat_prefix: 's', cluster: 'c' } },
          ],
        },
      ],
    };
    const back = decodeMessage<any>(LISTENER_TYPE_URL, encodeMessage(LISTENER_TYPE_URL, l));
    const tcp = unpackAny<any>(back.filter_chains[0].filters[0].typed_config);
    expect(tcp).toMatchObject({ stat_prefix: 's', cluster: 'c' });
  });
});
