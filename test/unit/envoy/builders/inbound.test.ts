import {
  buildInboundCaptureListener,
  buildInboundListener,
  buildInboundResources,
} from '../../../../pkg/envoy/builders/inbound.js';
import {
  DOWNSTREAM_TLS_CONTEXT_TYPE_URL,
  HTTP_CONNECTION_MANAGER_TYPE_URL,
  STDOUT_ACCESS_LOG_TYPE_URL,
  TCP_PROXY_TYPE_URL,
} from '../../../../pkg/envoy/type-urls.js';
import {
  INBOUND_HTTP_ACCESS_LOG_FORMAT,
  INBOUND_TCP_ACCESS_LOG_FORMAT,
  TLS_INSPECTOR_TYPE_URL,
  type InboundOptions,
} from '../../../../pkg/envoy/builders/index.js';

const STRICT: InboundOptions = { mode: 'strict', trustDomain: 'mesh.example' };

describe('inbound listeners', () => {
  // Issue 15 replaced the plaintext tcp_proxy this test pinned (`inbound_8080` → the app, any
  // caller) with mTLS chains: that was the gap the issue closes. The shapes are pinned below.
  it('per-port listener: not bound (the app owns the port), one mTLS chain (strict)', () => {
    const l = buildInboundListener({ container: 'app', port: 8080 }, STRICT);
    expect(l).toEqual({
      name: 'inbound_8080',
      address: { socket_address: { protocol: 'TCP', address: '0.0.0.0', port_value: 8080 } },
      traffic_direction: 'INBOUND',
      bind_to_port: { value: false },
      filter_chains: [
        {
          name: 'inbound_8080_mtls',
          transport_socket: {
            name: 'envoy.transport_sockets.tls',
            typed_config: {
              '@type': DOWNSTREAM_TLS_CONTEXT_TYPE_URL,
              require_client_certificate: { value: true },
              common_tls_context: {
                tls_params: { tls_minimum_protocol_version: 'TLSv1_2' },
                tls_certificate_sds_secret_configs: [
                  { name: 'fsm-workload-cert', sds_config: { ads: {}, resource_api_version: 'V3' } },
                ],
                combined_validation_context: {
                  default_validation_context: {
                    match_typed_subject_alt_names: [
                      { san_type: 'URI', matcher: { prefix: 'spiffe://mesh.example/' } },
                    ],
                  },
                  validation_context_sds_secret_config: {
                    name: 'fsm-trust-bundle',
                    sds_config: { ads: {}, resource_api_version: 'V3' },
                  },
                },
              },
            },
          },
          filters: [
            {
              name: 'envoy.filters.network.tcp_proxy',
              typed_config: {
                '@type': TCP_PROXY_TYPE_URL,
                stat_prefix: 'inbound_8080',
                cluster: 'inbound_app_8080_cluster',
                access_log: [
                  {
                    name: 'envoy.access_loggers.stdout',
                    typed_config: {
                      '@type': STDOUT_ACCESS_LOG_TYPE_URL,
                      log_format: { text_format_source: { inline_string: INBOUND_TCP_ACCESS_LOG_FORMAT } },
                    },
                  },
                ],
              },
            },
          ],
        },
      ],
    });
  });

  it('on the pod IP once known: only connections to the pod are handed to it, not the app’s own outbound ones', () => {
    const l = buildInboundListener({ container: 'app', port: 8080 }, { ...STRICT, podIP: '10.244.1.7' });
    expect(l.address).toEqual({
      socket_address: { protocol: 'TCP', address: '10.244.1.7', port_value: 8080 },
    });
  });

  it('permissive adds a TLS inspector and a plaintext chain (raw_buffer) to the same app; strict has neither', () => {
    const chains = (mode: 'strict' | 'permissive') =>
      buildInboundListener({ container: 'app', port: 5432 }, { mode, trustDomain: 'td' }).filter_chains.map(
        (c) => [c.name, c.filter_chain_match?.transport_protocol, c.transport_socket !== undefined],
      );
    expect(chains('strict')).toEqual([['inbound_5432_mtls', undefined, true]]);
    expect(chains('permissive')).toEqual([
      ['inbound_5432_mtls', 'tls', true],
      ['inbound_5432_plaintext', 'raw_buffer', false],
    ]);
    expect(
      buildInboundListener({ container: 'app', port: 5432 }, { mode: 'permissive', trustDomain: 'td' })
        .listener_filters,
    ).toEqual([
      {
        name: 'envoy.filters.listener.tls_inspector',
        typed_config: { type_url: TLS_INSPECTOR_TYPE_URL, value: new Uint8Array(0) },
      },
    ]);
    const plain = buildInboundListener(
      { container: 'app', port: 5432 },
      { mode: 'permissive', trustDomain: 'td' },
    ).filter_chains[1]!.filters[0]!.typed_config;
    expect(plain.cluster).toBe('inbound_app_5432_cluster');
  });

  it.each<['strict' | 'permissive', number]>([
    ['strict', 1],
    ['permissive', 2],
  ])(
    "an HTTP port (%s): HCM routing everything to the app, the caller's URI in XFCC, access log",
    (mode, n) => {
      const l = buildInboundListener(
        { container: 'web', port: 14001, protocol: 'http' },
        { mode, trustDomain: 'td' },
      );
      expect(l.filter_chains).toHaveLength(n);
      const [mtls, plain] = l.filter_chains.map((c) => c.filters[0]!);
      expect(mtls!.name).toBe('envoy.filters.network.http_connection_manager');
      const hcm = mtls!.typed_config;
      expect(hcm['@type']).toBe(HTTP_CONNECTION_MANAGER_TYPE_URL);
      expect(hcm.forward_client_cert_details).toBe('SANITIZE_SET');
      expect(hcm.set_current_client_cert_details).toEqual({ uri: true });
      expect(hcm.route_config).toEqual({
        name: 'inbound_14001_route',
        virtual_hosts: [
          {
            name: 'inbound_14001',
            domains: ['*'],
            routes: [
              {
                name: 'app',
                match: { prefix: '/' },
                route: { cluster: 'inbound_web_14001_cluster', timeout: { seconds: 0, nanos: 0 } },
              },
            ],
          },
        ],
      });
      expect((hcm.access_log as any[])[0].typed_config.log_format.text_format_source.inline_string).toBe(
        INBOUND_HTTP_ACCESS_LOG_FORMAT,
      );
      if (plain) {
        // A plaintext caller cannot claim an identity: its XFCC header is removed, none is set.
        expect(plain.typed_config.forward_client_cert_details).toBe('SANITIZE');
        expect(plain.typed_config.set_current_client_cert_details).toBeUndefined();
      }
    },
  );

  it('capture listener on 15003 hands off by original destination, else passthrough', () => {
    const l = buildInboundCaptureListener();
    expect(l.name).toBe('inbound_listener');
    expect(l.address.socket_address.port_value).toBe(15003);
    expect(l.use_original_dst).toEqual({ value: true });
    expect(l.bind_to_port).toBeUndefined();
    expect(l.filter_chains[0]!.filters[0]!.typed_config.cluster).toBe('inbound_passthrough_cluster');
  });

  it.each([
    [[], ['inbound_listener'], ['inbound_passthrough_cluster']],
    [
      [{ container: 'app', port: 8080 }],
      ['inbound_listener', 'inbound_8080'],
      ['inbound_passthrough_cluster', 'inbound_app_8080_cluster'],
    ],
    [
      [
        { container: 'app', port: 8080 },
        { container: 'app', port: 9090 },
        { container: 'side', port: 7000 },
      ],
      ['inbound_listener', 'inbound_8080', 'inbound_9090', 'inbound_7000'],
      [
        'inbound_passthrough_cluster',
        'inbound_app_8080_cluster',
        'inbound_app_9090_cluster',
        'inbound_side_7000_cluster',
      ],
    ],
  ])('ports %j', (ports, listeners, clusters) => {
    const r = buildInboundResources(ports, STRICT);
    expect(r.listeners.map((l) => l.name)).toEqual(listeners);
    expect(r.clusters.map((c) => c.name)).toEqual(clusters);
  });
});
