import { buildProxyResources } from '../../../../pkg/envoy/builders/index.js';
import type { ProxyBuildInput } from '../../../../pkg/envoy/builders/index.js';

describe('buildProxyResources', () => {
  it.each<[string, ProxyBuildInput, string[], string[]]>([
    [
      'nothing at all: capture + passthrough only',
      { probes: [], inboundPorts: [] },
      ['inbound_listener'],
      ['inbound_passthrough_cluster'],
    ],
    [
      'one HTTP liveness probe and one port',
      {
        probes: [
          {
            type: 'liveness',
            http: [
              {
                container: 'app',
                matchPath: '/fsm-liveness-probe',
                originalPath: '/h',
                port: 8080,
                headers: [],
                timeoutSeconds: 1,
              },
            ],
          },
        ],
        inboundPorts: [{ container: 'app', port: 8080 }],
      },
      ['inbound_8080', 'inbound_listener', 'liveness_listener'],
      ['app_liveness_cluster', 'inbound_app_8080_cluster', 'inbound_passthrough_cluster'],
    ],
    [
      'three types, HTTPS startup, two containers',
      {
        probes: [
          {
            type: 'readiness',
            http: [
              {
                container: 'b',
                matchPath: '/fsm-readiness-probe/b',
                originalPath: '',
                port: 81,
                headers: [],
                timeoutSeconds: 1,
              },
              {
                container: 'a',
                matchPath: '/fsm-readiness-probe/a',
                originalPath: '',
                port: 80,
                headers: [],
                timeoutSeconds: 1,
              },
            ],
          },
          { type: 'startup', http: [], https: { container: 'a', port: 443, timeoutSeconds: 1 } },
          {
            type: 'liveness',
            http: [
              {
                container: 'a',
                matchPath: '/fsm-liveness-probe',
                originalPath: '/l',
                port: 80,
                headers: [],
                timeoutSeconds: 1,
              },
            ],
          },
          { type: 'liveness', http: [] },
        ],
        inboundPorts: [],
      },
      ['inbound_listener', 'liveness_listener', 'readiness_listener', 'startup_listener'],
      [
        'a_liveness_cluster',
        'a_readiness_cluster',
        'a_startup_cluster',
        'b_readiness_cluster',
        'inbound_passthrough_cluster',
      ],
    ],
  ])('%s', (_name, input, listeners, clusters) => {
    const r = buildProxyResources(input);
    expect(r.listeners.map((l) => l.name)).toEqual(listeners);
    expect(r.clusters.map((c) => c.name)).toEqual(clusters);
    // JSON-serialisable plain data, built the same way twice.
    expect(JSON.parse(JSON.stringify(r))).toEqual(r);
    expect(buildProxyResources(input)).toEqual(r);
  });
});
