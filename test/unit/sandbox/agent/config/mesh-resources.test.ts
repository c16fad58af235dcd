/**
 * The controller's data-path resources as the agent reads them (issue 15): everything the builders
 * produce for strict and permissive inbound ports, meshed Services and the outbound base parses
 * without a problem into what the data plane serves; what the agent does not implement is refused
 * naming the field.
 */
import {
  CLUSTER_LOAD_ASSIGNMENT_TYPE_URL,
  CLUSTER_TYPE_URL,
  DOWNSTREAM_TLS_CONTEXT_TYPE_URL,
  HTTP_CONNECTION_MANAGER_TYPE_URL,
  LISTENER_TYPE_URL,
  ROUTER_TYPE_URL,
  TCP_PROXY_TYPE_URL,
  STDOUT_ACCESS_LOG_TYPE_URL,
  decodeMessage,
  encodeMessage,
  packAny,
  type PlainMessage,
} from '../../../../../pkg/envoy/index.js';
import {
  buildMeshServiceResources,
  buildOutboundBase,
  buildProxyResources,
} from '../../../../../pkg/envoy/builders/index.js';
import { LOAD_ASSIGNMENT_RESOURCE } from '../../../../../pkg/sandbox/agent/config/load-assignment.js';
import { Problems } from '../../../../../pkg/sandbox/agent/config/problems.js';
import type { HttpHandlerModel, TcpHandlerModel } from '../../../../../pkg/sandbox/agent/model.js';
import { parseCluster, parseListener } from '../../../../../pkg/sandbox/agent/xds-config.js';

function wire(typeUrl: string, resource: object): PlainMessage {
  return decodeMessage(typeUrl, encodeMessage(typeUrl, resource as PlainMessage));
}

const PORTS = [
  { container: 'app', port: 8080, protocol: 'http' as const },
  { container: 'db', port: 5432 },
];

describe.each(['strict', 'permissive'] as const)('inbound, %s', (mode) => {
  const r = buildProxyResources({
    probes: [],
    inboundPorts: PORTS,
    inbound: { mode, trustDomain: 'td.local', podIP: '10.1.2.3' },
  });

  it('every listener and cluster parses; inbound_<port> terminates mTLS requiring a mesh identity', () => {
    const listeners = r.listeners.map((l) => parseListener(wire(LISTENER_TYPE_URL, l)));
    for (const c of r.clusters) parseCluster(wire(CLUSTER_TYPE_URL, c));
    const capture = listeners.find((l) => l.name === 'inbound_listener')!;
    expect(capture).toMatchObject({ captures: true, bind: false, configuredPort: 15003 });
    for (const port of [8080, 5432]) {
      const l = listeners.find((x) => x.name === `inbound_${port}`)!;
      expect(l).toMatchObject({ bind: false, configuredHost: '10.1.2.3', configuredPort: port });
      expect(l.tlsInspector).toBe(mode === 'permissive');
      const mtls = l.chains.find((c) => c.tls)!;
      expect(mtls.tls).toEqual({
        certSecret: 'fsm-workload-cert',
        requireClientCertificate: true,
        verify: { bundleSecret: 'fsm-trust-bundle', sans: [{ kind: 'prefix', value: 'spiffe://td.local/' }] },
        minVersion: 'TLSv1.2',
      });
      expect(l.chains.filter((c) => !c.tls)).toHaveLength(mode === 'permissive' ? 1 : 0);
      if (mode === 'permissive') expect(mtls.transportProtocol).toBe('tls');
    }
    const http = listeners.find((x) => x.name === 'inbound_8080')!.chains.find((c) => c.tls)!
      .handler as HttpHandlerModel;
    expect(http).toMatchObject({ kind: 'http', forwardClientCert: 'SANITIZE_SET', clientCertUri: true });
    expect(http.accessLogs).toHaveLength(1);
    const tcp = listeners.find((x) => x.name === 'inbound_5432')!.chains[0]!.handler as TcpHandlerModel;
    expect(tcp.kind).toBe('tcp');
    expect(
      tcp.accessLogs[0]!.format.some((p) => 'operator' in p && p.operator === 'DOWNSTREAM_PEER_URI_SAN'),
    ).toBe(true);
  });
});

describe('outbound', () => {
  it('the base: a capture listener on 15001 and an ORIGINAL_DST passthrough', () => {
    const base = buildOutboundBase();
    expect(parseListener(wire(LISTENER_TYPE_URL, base.listeners[0]!))).toMatchObject({
      name: 'outbound_listener',
      captures: true,
      configuredPort: 15001,
    });
    expect(parseCluster(wire(CLUSTER_TYPE_URL, base.clusters[0]!))).toMatchObject({ kind: 'original_dst' });
  });

  it('a meshed Service with two ports: virtual listeners, EDS clusters with mTLS to exact SPIFFE IDs, load assignments', () => {
    const r = buildMeshServiceResources({
      namespace: 'ns',
      name: 'svc',
      clusterIP: '10.96.0.7',
      ports: [
        {
          port: 80,
          endpoints: [
            { address: '10.1.0.2', port: 8080 },
            { address: '10.1.0.1', port: 8080 },
          ],
        },
        { port: 443, endpoints: [] },
      ],
      server: { spiffeIds: ['spiffe://td/ns/ns/sa/svc'], namespacePrefix: 'spiffe://td/ns/ns/sa/' },
    });
    const listeners = r.listeners.map((l) => parseListener(wire(LISTENER_TYPE_URL, l)));
    expect(listeners.map((l) => [l.name, l.configuredHost, l.configuredPort, l.bind])).toEqual([
      ['outbound_ns/svc|80', '10.96.0.7', 80, false],
      ['outbound_ns/svc|443', '10.96.0.7', 443, false],
    ]);
    const clusters = r.clusters.map((c) => parseCluster(wire(CLUSTER_TYPE_URL, c)));
    expect(clusters[0]).toEqual({
      name: 'ns/svc|80',
      kind: 'eds',
      connectTimeoutMs: 5000,
      endpoints: [],
      edsName: 'ns/svc|80',
      tls: {
        alpn: [],
        certSecret: 'fsm-workload-cert',
        verify: {
          bundleSecret: 'fsm-trust-bundle',
          sans: [{ kind: 'exact', value: 'spiffe://td/ns/ns/sa/svc' }],
        },
        minVersion: 'TLSv1.2',
      },
    });
    const p = new Problems();
    const las = r.loadAssignments.map((a) =>
      LOAD_ASSIGNMENT_RESOURCE.parse(wire(CLUSTER_LOAD_ASSIGNMENT_TYPE_URL, a), p),
    );
    expect(p.list()).toEqual([]);
    expect(las).toEqual([
      {
        name: 'ns/svc|80',
        endpoints: [
          { host: '10.1.0.1', port: 8080 },
          { host: '10.1.0.2', port: 8080 },
        ],
      },
      { name: 'ns/svc|443', endpoints: [] },
    ]);
  });

  it('endpoints not HEALTHY are left out of a load assignment', () => {
    const p = new Problems();
    const la = LOAD_ASSIGNMENT_RESOURCE.parse(
      wire(CLUSTER_LOAD_ASSIGNMENT_TYPE_URL, {
        cluster_name: 'c',
        endpoints: [
          {
            lb_endpoints: [
              {
                endpoint: { address: { socket_address: { address: '10.0.0.1', port_value: 1 } } },
                health_status: 'UNHEALTHY',
              },
              {
                endpoint: { address: { socket_address: { address: '10.0.0.2', port_value: 1 } } },
                health_status: 'HEALTHY',
              },
              {
                endpoint: { address: { socket_address: { address: '10.0.0.3', port_value: 1 } } },
                health_status: 'DRAINING',
              },
            ],
          },
        ],
      }),
      p,
    );
    expect(p.list()).toEqual([]);
    expect(la).toEqual({ name: 'c', endpoints: [{ host: '10.0.0.2', port: 1 }] });
  });
});

describe('refused, naming the field', () => {
  const hcm = (extra: PlainMessage): PlainMessage => ({
    name: 'l',
    address: { socket_address: { address: '10.0.0.1', port_value: 80 } },
    bind_to_port: { value: false },
    filter_chains: [
      {
        filters: [
          {
            name: 'envoy.filters.network.http_connection_manager',
            typed_config: packAny(HTTP_CONNECTION_MANAGER_TYPE_URL, {
              stat_prefix: 's',
              route_config: {
                name: 'r',
                virtual_hosts: [
                  {
                    name: 'v',
                    domains: ['*'],
                    routes: [{ match: { prefix: '/' }, route: { cluster: 'c' } }],
                  },
                ],
              },
              http_filters: [
                { name: 'envoy.filters.http.router', typed_config: packAny(ROUTER_TYPE_URL, {}) },
              ],
              ...extra,
            }),
          },
        ],
      },
    ],
  });
  const tcpWithLog = (format: PlainMessage): PlainMessage => ({
    name: 'l',
    address: { socket_address: { address: '10.0.0.1', port_value: 80 } },
    bind_to_port: { value: false },
    filter_chains: [
      {
        filters: [
          {
            name: 'envoy.filters.network.tcp_proxy',
            typed_config: packAny(TCP_PROXY_TYPE_URL, {
              stat_prefix: 's',
              cluster: 'c',
              access_log: [
                {
                  name: 'envoy.access_loggers.stdout',
                  typed_config: packAny(STDOUT_ACCESS_LOG_TYPE_URL, { log_format: format }),
                },
              ],
            }),
          },
        ],
      },
    ],
  });

  it.each<[string, PlainMessage, string]>([
    [
      'x-forwarded-client-cert FORWARD_ONLY',
      hcm({ forward_client_cert_details: 'FORWARD_ONLY' }),
      'forward_client_cert_details: only SANITIZE and SANITIZE_SET are supported, got "FORWARD_ONLY"',
    ],
    [
      'client cert subject in XFCC',
      hcm({ set_current_client_cert_details: { subject: { value: true } } }),
      'set_current_client_cert_details.subject: not supported by the probe agent',
    ],
    [
      'an unknown access log operator',
      tcpWithLog({ text_format_source: { inline_string: '%UPSTREAM_TRANSPORT_FAILURE_REASON%\n' } }),
      'access log operator %UPSTREAM_TRANSPORT_FAILURE_REASON% is not supported by the probe agent',
    ],
    [
      'an access log option the agent does not implement',
      tcpWithLog({ text_format_source: { inline_string: '%START_TIME%\n' }, omit_empty_values: true }),
      '.log_format.omit_empty_values: not supported by the probe agent',
    ],
    [
      'a downstream context verifying without requiring a client certificate',
      {
        ...hcm({}),
        filter_chains: [
          {
            ...(hcm({}).filter_chains as PlainMessage[])[0],
            transport_socket: {
              name: 'envoy.transport_sockets.tls',
              typed_config: packAny(DOWNSTREAM_TLS_CONTEXT_TYPE_URL, {
                common_tls_context: {
                  tls_certificate_sds_secret_configs: [{ name: 'c', sds_config: { ads: {} } }],
                  validation_context_sds_secret_config: { name: 'b', sds_config: { ads: {} } },
                },
              }),
            },
          },
        ],
      },
      'require_client_certificate: a validation context without require_client_certificate (verify only when presented) is not supported by the probe agent',
    ],
  ])('%s', (_n, listener, message) => {
    expect(() => parseListener(wire(LISTENER_TYPE_URL, listener))).toThrow(message);
  });
});
