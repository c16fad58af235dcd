import {
  buildInboundCaptureListener,
  buildInboundListener,
  buildInboundResources,
} from '../../../../pkg/envoy/builders/inbound.js';
import { TCP_PROXY_TYPE_URL } from '../../../../pkg/envoy/type-urls.js';

describe('inbound listeners', () => {
  it('per-port listener: not bound (the app owns the port), tcp_proxy to the inbound cluster', () => {
    expect(buildInboundListener('app', 8080)).toEqual({
      name: 'inbound_8080',
      address: { socket_address: { protocol: 'TCP', address: '0.0.0.0', port_value: 8080 } },
      traffic_direction: 'INBOUND',
      bind_to_port: { value: false },
      filter_chains: [
        {
          name: 'inbound_8080',
          filters: [
            {
              name: 'envoy.filters.network.tcp_proxy',
              typed_config: {
                '@type': TCP_PROXY_TYPE_URL,
                stat_prefix: 'inbound_8080',
                cluster: 'inbound_app_8080_cluster',
              },
            },
          ],
        },
      ],
    });
  });

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
    const r = buildInboundResources(ports);
    expect(r.listeners.map((l) => l.name)).toEqual(listeners);
    expect(r.clusters.map((c) => c.name)).toEqual(clusters);
  });
});
