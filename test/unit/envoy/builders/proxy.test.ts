import { buildProxyResources, resourcesByTypeUrl } from '../../../../pkg/envoy/builders/index.js';
import { CLUSTER_TYPE_URL, LISTENER_TYPE_URL } from '../../../../pkg/envoy/type-urls.js';
import { SnapshotCache, typeResources } from '../../../../pkg/ads/index.js';
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

describe('resourcesByTypeUrl → the ADS snapshot cache', () => {
  const input: ProxyBuildInput = {
    probes: [
      {
        type: 'liveness',
        http: [
          {
            container: 'a',
            matchPath: '/fsm-liveness-probe/a',
            originalPath: '/l',
            port: 80,
            headers: [],
            timeoutSeconds: 1,
          },
        ],
        https: { container: 'b', port: 443, timeoutSeconds: 1 },
      },
    ],
    inboundPorts: [{ container: 'a', port: 80 }],
  };

  it('keys listeners and clusters by full type URL, names kept', () => {
    const r = buildProxyResources(input);
    const byType = resourcesByTypeUrl(r);
    expect(Object.keys(byType).sort()).toEqual([CLUSTER_TYPE_URL, LISTENER_TYPE_URL].sort());
    expect(byType[LISTENER_TYPE_URL]!.map((x) => x.name)).toEqual(r.listeners.map((l) => l.name));
    expect(byType[CLUSTER_TYPE_URL]!.map((x) => x.name)).toEqual(r.clusters.map((c) => c.name));
  });

  it('a real SnapshotCache accepts it; the same content again is no change; a changed route is', () => {
    const cache = new SnapshotCache();
    const first = cache.setSnapshot('node-1', resourcesByTypeUrl(buildProxyResources(input)));
    expect(first.changed).toBe(true);
    expect([...typeResources(first.snapshot, LISTENER_TYPE_URL).keys()].sort()).toEqual([
      'inbound_80',
      'inbound_listener',
      'liveness_listener',
    ]);
    expect(cache.setSnapshot('node-1', resourcesByTypeUrl(buildProxyResources(input))).changed).toBe(false);
    const changed = structuredClone(input);
    changed.probes[0]!.http[0]!.originalPath = '/other';
    const third = cache.setSnapshot('node-1', resourcesByTypeUrl(buildProxyResources(changed)));
    expect(third.changed).toBe(true);
    // Only the listener's bytes changed; clusters keep their version.
    expect(typeResources(third.snapshot, CLUSTER_TYPE_URL).get('a_liveness_cluster')).toBe(
      typeResources(first.snapshot, CLUSTER_TYPE_URL).get('a_liveness_cluster'),
    );
    expect(typeResources(third.snapshot, LISTENER_TYPE_URL).get('liveness_listener')!.version).not.toBe(
      typeResources(first.snapshot, LISTENER_TYPE_URL).get('liveness_listener')!.version,
    );
  });
});
