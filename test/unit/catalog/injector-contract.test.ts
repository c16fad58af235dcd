/**
 * Contract with fsm-injector: pods mutated by the real pkg/injector must give, through the catalog,
 * a proxy config that serves exactly the probes kubelet now sends — each rewritten httpGet on
 * 15901-15903 reaches its container's original port and path; nothing is reported as a problem.
 */
import type { V1Container, V1Namespace, V1Pod, V1Probe } from '@kubernetes/client-node';
import { desiredProxy } from '../../../pkg/catalog/index.js';
import type { DesiredProxy } from '../../../pkg/catalog/index.js';
import {
  MONITORED_BY_LABEL,
  PROBE_TYPES,
  PROBE_TYPE_INFO,
  HEALTHCHECK_PORT,
} from '../../../pkg/constants/index.js';
import type { Cluster, Listener, Route } from '../../../pkg/envoy/builders/index.js';
import { rewriteTarget } from '../../../pkg/envoy/builders/index.js';
import { defaultInjectorConfig, mutatePod } from '../../../pkg/injector/index.js';
import { appPod, grpc, http, https, tcp } from '../../support/pods.js';
import type { ContainerSpec, ProbeSpec } from '../../support/pods.js';

const namespaceObject: V1Namespace = { metadata: { name: 'shop', labels: { [MONITORED_BY_LABEL]: 'fsm' } } };

function inject(pod: V1Pod): { desired: V1Pod; uuid: string } {
  let n = 0;
  const r = mutatePod({
    object: JSON.parse(JSON.stringify(pod)),
    namespace: 'shop',
    namespaceObject,
    config: defaultInjectorConfig(),
    newProxyUuid: () => `00000000-0000-4000-8000-${String(++n).padStart(12, '0')}`,
  });
  if (r.outcome !== 'injected' || !r.desired || !r.proxyUuid)
    throw new Error(`not injected: ${r.outcome} ${r.reason}`);
  return { desired: r.desired, uuid: r.proxyUuid };
}

function clusterPort(c: Cluster): number {
  return c.load_assignment!.endpoints[0]!.lb_endpoints[0]!.endpoint.address.socket_address.port_value;
}

/** Follow a rewritten probe through the proxy config: the original port and path it reaches. */
function follow(
  d: DesiredProxy,
  probe: V1Probe,
): { port: number; path?: string } | 'healthcheck' | undefined {
  const g = probe.httpGet;
  if (!g) return undefined;
  if (g.port === HEALTHCHECK_PORT) return 'healthcheck';
  const listener: Listener | undefined = d.resources.listeners.find(
    (l) => l.address.socket_address.port_value === g.port,
  );
  if (!listener) return undefined;
  const tls = g.scheme === 'HTTPS';
  const chain = listener.filter_chains.find((c) =>
    tls
      ? c.filters[0]!.name === 'envoy.filters.network.tcp_proxy'
      : c.filters[0]!.name.endsWith('http_connection_manager'),
  );
  if (!chain) return undefined;
  const cfg = chain.filters[0]!.typed_config as any;
  let clusterName: string;
  let path: string | undefined;
  if (tls) {
    clusterName = cfg.cluster;
  } else {
    const route = (cfg.route_config.virtual_hosts[0].routes as Route[]).find(
      (r) => r.match.path === (g.path ?? ''),
    );
    if (!route) return undefined;
    clusterName = route.route.cluster;
    path = route.route.prefix_rewrite;
  }
  const cluster = d.resources.clusters.find((c) => c.name === clusterName);
  if (!cluster) return undefined;
  return path === undefined ? { port: clusterPort(cluster) } : { port: clusterPort(cluster), path };
}

/**
 * Where a probe must land. HTTPS: the first of a type passes its TLS through (port only); every
 * other is called over plain HTTP and reaches the original port and path through a TLS cluster.
 */
function expected(
  p: ProbeSpec,
  originated: boolean,
): { port: number; path?: string } | 'healthcheck' | undefined {
  if (p.kind === 'exec') return undefined;
  if (p.kind === 'tcp' || p.kind === 'grpc') return 'healthcheck';
  if (p.kind === 'https' && !originated) return { port: p.port! };
  return { port: p.port!, path: rewriteTarget(p.path ?? '') };
}

/** The cluster a rewritten plain-HTTP probe's route forwards to. */
function routedCluster(d: DesiredProxy, probe: V1Probe): Cluster | undefined {
  const g = probe.httpGet!;
  const listener = d.resources.listeners.find((l) => l.address.socket_address.port_value === g.port)!;
  const chain = listener.filter_chains.find((c) => c.filters[0]!.name.endsWith('http_connection_manager'))!;
  const cfg = chain.filters[0]!.typed_config as any;
  const route = (cfg.route_config.virtual_hosts[0].routes as Route[]).find((r) => r.match.path === g.path)!;
  return d.resources.clusters.find((c) => c.name === route.route.cluster);
}

function check(containers: ContainerSpec[]): DesiredProxy {
  const { desired, uuid } = inject(appPod({ name: 'web-1', namespace: 'shop', containers }));
  const r = desiredProxy(desired);
  if (!r.isProxy) throw new Error(r.reason);
  expect(r.proxy.uuid).toBe(uuid);
  expect(r.annotation === 'valid' || r.annotation === 'absent').toBe(true);
  expect(r.problems).toEqual([]);
  const byName = new Map<string, V1Container>(desired.spec!.containers.map((c) => [c.name, c]));
  for (const type of PROBE_TYPES) {
    let httpsSeen = false;
    for (const c of containers) {
      const spec = c[type];
      if (!spec) continue;
      const originated = spec.kind === 'https' && httpsSeen;
      if (spec.kind === 'https') httpsSeen = true;
      const probe = byName.get(c.name)![PROBE_TYPE_INFO[type].field]!;
      expect([c.name, type, follow(r, probe)]).toEqual([c.name, type, expected(spec, originated)]);
      // The proxy speaks TLS to the app exactly for the HTTPS probes it originates.
      if (spec.kind === 'http' || originated) {
        expect([c.name, type, routedCluster(r, probe)?.transport_socket !== undefined]).toEqual([
          c.name,
          type,
          originated,
        ]);
      }
    }
  }
  // The sidecar declares exactly the probe ports the proxy listens on.
  const sidecarPorts = (byName.get('sidecar')!.ports ?? [])
    .map((p) => p.containerPort)
    .filter((p) => p >= 15901 && p <= 15903);
  const listenerPorts = r.resources.listeners
    .filter((l) => l.name.endsWith('_listener') && l.name !== 'inbound_listener')
    .map((l) => l.address.socket_address.port_value);
  expect(listenerPorts.sort()).toEqual(sidecarPorts.sort());
  return r;
}

describe('pods mutated by the real injector', () => {
  it.each<[string, ContainerSpec[]]>([
    ['one container HTTP', [{ name: 'app', ports: [8080], liveness: http(8080, '/healthz') }]],
    ['HTTPS', [{ name: 'app', readiness: https(8443, '/secure') }]],
    ['HTTPS with no path', [{ name: 'app', readiness: https(8443, '') }]],
    ['TCP', [{ name: 'app', liveness: tcp(5432) }]],
    ['gRPC', [{ name: 'app', startup: grpc(9000, 'health') }]],
    ['exec only', [{ name: 'app', liveness: { kind: 'exec' } }]],
    [
      'multi-container same type',
      [
        { name: 'web', liveness: http(8080, '/live') },
        { name: 'api', liveness: http(9090, '/alive') },
      ],
    ],
    ['empty path', [{ name: 'app', liveness: http(8080, '') }]],
    [
      'timeouts 0 and 30',
      [
        {
          name: 'app',
          liveness: http(1, '/a', { timeoutSeconds: 0 }),
          readiness: http(2, '/b', { timeoutSeconds: 30 }),
        },
      ],
    ],
    [
      'named headers incl. Host',
      [
        {
          name: 'app',
          liveness: http(80, '/h', {
            headers: [
              { name: 'X-A', value: '1' },
              { name: 'Host', value: 'h.local' },
            ],
          }),
        },
      ],
    ],
    ['no probes at all', [{ name: 'app', ports: [80] }]],
    [
      'two HTTPS of one type: the second is called over HTTP, the proxy originates its TLS',
      [
        { name: 'a', startup: https(443) },
        { name: 'b', startup: https(8443) },
      ],
    ],
    [
      'HTTP and HTTPS share a type',
      [
        { name: 'a', readiness: http(80, '/r') },
        { name: 'b', readiness: https(443, '/r') },
      ],
    ],
    [
      'everything',
      [
        { name: 'a', ports: [80, 90], liveness: http(80, '/l'), readiness: http(80, 'r'), startup: grpc(90) },
        { name: 'b', ports: [443], liveness: tcp(443), readiness: https(443, '/ready') },
        { name: 'c', liveness: http(7000, '/x y'), startup: http(7000, '/s?full=1') },
      ],
    ],
  ])('%s', (_name, containers) => {
    check(containers);
  });

  it('generated pods (seeded): every rewritten probe reaches its original target', () => {
    let seed = 42;
    const rnd = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    const paths = ['', '/', '/healthz', 'ready', '/a/b?c=d'];
    const gen = (): ProbeSpec | undefined => {
      const port = 1000 + rnd(5);
      switch (rnd(6)) {
        case 0:
          return undefined;
        case 1:
          return http(port, paths[rnd(paths.length)], { timeoutSeconds: rnd(4) });
        case 2:
          return https(port, paths[rnd(paths.length)]);
        case 3:
          return tcp(port);
        case 4:
          return grpc(port, rnd(2) ? 'svc' : undefined);
        default:
          return { kind: 'exec' };
      }
    };
    for (let i = 0; i < 200; i++) {
      const containers: ContainerSpec[] = [];
      const count = 1 + rnd(4);
      for (let c = 0; c < count; c++) {
        const spec: ContainerSpec = { name: `c${c}`, ports: rnd(2) ? [1000 + c] : [] };
        for (const type of PROBE_TYPES) {
          const p = gen();
          if (p) spec[type] = p;
        }
        containers.push(spec);
      }
      check(containers);
    }
  });
});
