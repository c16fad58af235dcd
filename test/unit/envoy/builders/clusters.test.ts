import {
  buildInboundCluster,
  buildInboundPassthroughCluster,
  buildProbeCluster,
  inboundClusterName,
} from '../../../../pkg/envoy/builders/clusters.js';
import type { ProbeType } from '../../../../pkg/constants/index.js';

describe('buildProbeCluster', () => {
  it('exact object: STATIC 127.0.0.1:<original port>', () => {
    expect(buildProbeCluster('app', 'liveness', 8080, 1)).toEqual({
      name: 'app_liveness_cluster',
      type: 'STATIC',
      connect_timeout: { seconds: 1, nanos: 0 },
      lb_policy: 'ROUND_ROBIN',
      load_assignment: {
        cluster_name: 'app_liveness_cluster',
        endpoints: [
          {
            lb_endpoints: [
              {
                endpoint: {
                  address: { socket_address: { protocol: 'TCP', address: '127.0.0.1', port_value: 8080 } },
                },
              },
            ],
          },
        ],
      },
    });
  });

  it.each<[string, ProbeType, number, number, string, number]>([
    ['web', 'readiness', 80, 5, 'web_readiness_cluster', 5],
    ['db-proxy', 'startup', 65535, 0, 'db-proxy_startup_cluster', 1],
    ['a', 'liveness', 1, 2.2, 'a_liveness_cluster', 3],
  ])('%s %s port %d timeout %p → %s, connect timeout %d s', (c, type, port, timeout, name, connect) => {
    const cl = buildProbeCluster(c, type, port, timeout);
    expect(cl.name).toBe(name);
    expect(cl.load_assignment!.cluster_name).toBe(name);
    expect(
      cl.load_assignment!.endpoints[0]!.lb_endpoints[0]!.endpoint.address.socket_address.port_value,
    ).toBe(port);
    expect(cl.connect_timeout).toEqual({ seconds: connect, nanos: 0 });
  });
});

describe('inbound clusters', () => {
  it.each([
    ['app', 8080, 'inbound_app_8080_cluster'],
    ['web-1', 443, 'inbound_web-1_443_cluster'],
  ])('%s:%d → %s STATIC on loopback', (c, port, name) => {
    expect(inboundClusterName(c, port)).toBe(name);
    const cl = buildInboundCluster(c, port);
    expect(cl.name).toBe(name);
    expect(cl.type).toBe('STATIC');
    expect(cl.load_assignment!.endpoints[0]!.lb_endpoints[0]!.endpoint.address.socket_address).toEqual({
      protocol: 'TCP',
      address: '127.0.0.1',
      port_value: port,
    });
    expect(cl.connect_timeout.seconds).toBeGreaterThan(0);
  });

  it('passthrough: ORIGINAL_DST with the cluster-provided LB, no endpoints', () => {
    expect(buildInboundPassthroughCluster()).toEqual({
      name: 'inbound_passthrough_cluster',
      type: 'ORIGINAL_DST',
      connect_timeout: { seconds: 5, nanos: 0 },
      lb_policy: 'CLUSTER_PROVIDED',
    });
  });
});
