/**
 * The outbound builders: the capture listener and its passthrough (what every proxy has), and per
 * meshed Service port a virtual listener on the ClusterIP, an EDS cluster with mTLS checking the
 * server's SPIFFE ID, and its load assignment.
 */
import {
  OUTBOUND_CAPTURE_LISTENER,
  OUTBOUND_PASSTHROUGH_CLUSTER,
  buildMeshServiceResources,
  buildOutboundBase,
  meshClusterName,
  meshListenerName,
  sharedResourcesByTypeUrl,
  type MeshServiceInput,
} from '../../../../pkg/envoy/builders/index.js';
import {
  CLUSTER_LOAD_ASSIGNMENT_TYPE_URL,
  CLUSTER_TYPE_URL,
  LISTENER_TYPE_URL,
  TCP_PROXY_TYPE_URL,
  UPSTREAM_TLS_CONTEXT_TYPE_URL,
} from '../../../../pkg/envoy/type-urls.js';

const ADS = { ads: {}, resource_api_version: 'V3' };

function service(over: Partial<MeshServiceInput> = {}): MeshServiceInput {
  return {
    namespace: 'bookstore',
    name: 'bookstore-v1',
    clusterIP: '10.96.0.20',
    ports: [{ port: 14001, endpoints: [{ address: '10.244.0.7', port: 14001 }] }],
    server: {
      spiffeIds: ['spiffe://cluster.local/ns/bookstore/sa/bookstore'],
      namespacePrefix: 'spiffe://cluster.local/ns/bookstore/sa/',
    },
    ...over,
  };
}

describe('the outbound base every proxy has', () => {
  it('capture listener on 15001 with use_original_dst, its one chain passing through to ORIGINAL_DST', () => {
    const base = buildOutboundBase();
    expect(base.listeners).toEqual([
      {
        name: OUTBOUND_CAPTURE_LISTENER,
        address: { socket_address: { protocol: 'TCP', address: '0.0.0.0', port_value: 15001 } },
        traffic_direction: 'OUTBOUND',
        use_original_dst: { value: true },
        filter_chains: [
          {
            name: 'outbound_passthrough',
            filters: [
              {
                name: 'envoy.filters.network.tcp_proxy',
                typed_config: {
                  '@type': TCP_PROXY_TYPE_URL,
                  stat_prefix: 'outbound_passthrough',
                  cluster: OUTBOUND_PASSTHROUGH_CLUSTER,
                },
              },
            ],
          },
        ],
      },
    ]);
    expect(base.clusters).toEqual([
      {
        name: OUTBOUND_PASSTHROUGH_CLUSTER,
        type: 'ORIGINAL_DST',
        connect_timeout: { seconds: 5, nanos: 0 },
        lb_policy: 'CLUSTER_PROVIDED',
      },
    ]);
    // Plaintext, as without the mesh: no transport socket on the passthrough.
    expect(base.clusters[0]!.transport_socket).toBeUndefined();
    expect(base.loadAssignments).toEqual([]);
  });
});

describe('a meshed Service', () => {
  it('one port: a virtual listener on ClusterIP:port (not bound), an EDS cluster with mTLS, its endpoints', () => {
    const r = buildMeshServiceResources(service());
    const name = meshClusterName('bookstore', 'bookstore-v1', 14001);
    expect(name).toBe('bookstore/bookstore-v1|14001');
    expect(r.listeners).toEqual([
      {
        name: 'outbound_bookstore/bookstore-v1|14001',
        address: { socket_address: { protocol: 'TCP', address: '10.96.0.20', port_value: 14001 } },
        traffic_direction: 'OUTBOUND',
        bind_to_port: { value: false },
        filter_chains: [
          {
            name: 'outbound_bookstore/bookstore-v1|14001',
            filters: [
              {
                name: 'envoy.filters.network.tcp_proxy',
                typed_config: {
                  '@type': TCP_PROXY_TYPE_URL,
                  stat_prefix: 'outbound_bookstore/bookstore-v1|14001',
                  cluster: name,
                },
              },
            ],
          },
        ],
      },
    ]);
    expect(r.clusters).toEqual([
      {
        name,
        type: 'EDS',
        connect_timeout: { seconds: 5, nanos: 0 },
        lb_policy: 'ROUND_ROBIN',
        eds_cluster_config: { eds_config: ADS },
        transport_socket: {
          name: 'envoy.transport_sockets.tls',
          typed_config: {
            '@type': UPSTREAM_TLS_CONTEXT_TYPE_URL,
            common_tls_context: {
              tls_params: { tls_minimum_protocol_version: 'TLSv1_2' },
              tls_certificate_sds_secret_configs: [{ name: 'fsm-workload-cert', sds_config: ADS }],
              combined_validation_context: {
                default_validation_context: {
                  match_typed_subject_alt_names: [
                    {
                      san_type: 'URI',
                      matcher: { exact: 'spiffe://cluster.local/ns/bookstore/sa/bookstore' },
                    },
                  ],
                },
                validation_context_sds_secret_config: { name: 'fsm-trust-bundle', sds_config: ADS },
              },
            },
          },
        },
      },
    ]);
    expect(r.loadAssignments).toEqual([
      {
        cluster_name: name,
        endpoints: [
          {
            lb_endpoints: [
              {
                endpoint: {
                  address: { socket_address: { protocol: 'TCP', address: '10.244.0.7', port_value: 14001 } },
                },
                health_status: 'HEALTHY',
              },
            ],
          },
        ],
      },
    ]);
  });

  it('many ports: one listener, cluster and assignment per Service port, sorted by port', () => {
    const r = buildMeshServiceResources(
      service({
        ports: [
          { port: 9090, endpoints: [{ address: '10.244.0.7', port: 19090 }] },
          { port: 80, endpoints: [{ address: '10.244.0.7', port: 8080 }] },
        ],
      }),
    );
    expect(r.listeners.map((l) => [l.name, l.address.socket_address.port_value])).toEqual([
      [meshListenerName('bookstore', 'bookstore-v1', 80), 80],
      [meshListenerName('bookstore', 'bookstore-v1', 9090), 9090],
    ]);
    expect(r.clusters.map((c) => c.name)).toEqual([
      'bookstore/bookstore-v1|80',
      'bookstore/bookstore-v1|9090',
    ]);
    // The endpoint's port is the resolved targetPort, not the Service port.
    expect(
      r.loadAssignments.map(
        (a) => a.endpoints[0]!.lb_endpoints[0]!.endpoint.address.socket_address.port_value,
      ),
    ).toEqual([8080, 19090]);
  });

  it.each<[string, { address: string; port: number }[], string[]]>([
    ['no endpoint: an empty assignment (nothing to connect to)', [], []],
    ['one', [{ address: '10.0.0.1', port: 80 }], ['10.0.0.1:80']],
    [
      'several, in any order: sorted (equal content, equal bytes)',
      [
        { address: '10.0.0.3', port: 80 },
        { address: '10.0.0.1', port: 81 },
        { address: '10.0.0.1', port: 80 },
      ],
      ['10.0.0.1:80', '10.0.0.1:81', '10.0.0.3:80'],
    ],
  ])('endpoints appear and disappear: %s', (_n, endpoints, expected) => {
    const a = buildMeshServiceResources(service({ ports: [{ port: 80, endpoints }] })).loadAssignments[0]!;
    expect(a.cluster_name).toBe('bookstore/bookstore-v1|80');
    const got = a.endpoints.flatMap((l) =>
      l.lb_endpoints.map(
        (e) => `${e.endpoint.address.socket_address.address}:${e.endpoint.address.socket_address.port_value}`,
      ),
    );
    expect(got).toEqual(expected);
  });

  it('several service accounts: each SPIFFE ID matched exactly; none known yet: only the namespace’s identities', () => {
    const sans = (ids: string[]) =>
      (
        buildMeshServiceResources(
          service({ server: { spiffeIds: ids, namespacePrefix: 'spiffe://td/ns/bookstore/sa/' } }),
        ).clusters[0]!.transport_socket!.typed_config as any
      ).common_tls_context.combined_validation_context.default_validation_context
        .match_typed_subject_alt_names;
    expect(sans(['spiffe://td/ns/bookstore/sa/a', 'spiffe://td/ns/bookstore/sa/b'])).toEqual([
      { san_type: 'URI', matcher: { exact: 'spiffe://td/ns/bookstore/sa/a' } },
      { san_type: 'URI', matcher: { exact: 'spiffe://td/ns/bookstore/sa/b' } },
    ]);
    // Never an empty list: to Envoy that means "any certificate the bundle signed".
    expect(sans([])).toEqual([{ san_type: 'URI', matcher: { prefix: 'spiffe://td/ns/bookstore/sa/' } }]);
  });

  it('keyed by type URL for the snapshot cache: LDS, CDS and EDS (assignments by cluster name)', () => {
    const byType = sharedResourcesByTypeUrl(buildMeshServiceResources(service()));
    expect(Object.keys(byType).sort()).toEqual(
      [CLUSTER_LOAD_ASSIGNMENT_TYPE_URL, CLUSTER_TYPE_URL, LISTENER_TYPE_URL].sort(),
    );
    expect(byType[CLUSTER_LOAD_ASSIGNMENT_TYPE_URL]!.map((r) => r.name)).toEqual([
      'bookstore/bookstore-v1|14001',
    ]);
  });
});
