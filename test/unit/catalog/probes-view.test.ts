import { desiredProxy } from '../../../pkg/catalog/index.js';
import type { DesiredProxy } from '../../../pkg/catalog/index.js';
import type { ProbesView } from '../../../pkg/catalog/probes-view.js';
import { grpc, http, https, injectedPod, tcp } from '../../support/pods.js';
import type { ContainerSpec } from '../../support/pods.js';

function view(containers: ContainerSpec[]): ProbesView {
  return (desiredProxy(injectedPod({ name: 'p', namespace: 'n', containers })) as DesiredProxy).probes;
}

describe('Probes view', () => {
  it('exact JSON for one pod with every kind', () => {
    const v = view([
      {
        name: 'web',
        liveness: http(8080, '/live', { headers: [{ name: 'X-A', value: '1' }], timeoutSeconds: 4 }),
        readiness: https(8443, ''),
      },
      { name: 'db', liveness: tcp(5432), startup: grpc(9000, 'health.v1') },
      { name: 'g', startup: grpc(9001) },
    ]);
    expect(v).toEqual({
      LivenessProbes: [
        {
          container: 'web',
          kind: 'http',
          httpGet: {
            path: '/fsm-liveness-probe',
            port: 15901,
            scheme: 'HTTP',
            httpHeaders: [{ name: 'X-A', value: '1' }],
          },
          original: {
            httpGet: {
              path: '/live',
              port: 8080,
              scheme: 'HTTP',
              httpHeaders: [{ name: 'X-A', value: '1' }],
            },
          },
          timeoutSeconds: 4,
          servedBy: 'proxy',
          listener: 'liveness_listener',
          cluster: 'web_liveness_cluster',
          proxyTimeoutSeconds: 4,
        },
        {
          container: 'db',
          kind: 'tcp',
          httpGet: {
            path: '/fsm-healthcheck',
            port: 15904,
            scheme: 'HTTP',
            httpHeaders: [{ name: 'Original-Tcp-Port', value: '5432' }],
          },
          original: { tcpSocket: { port: 5432 } },
          timeoutSeconds: 1,
          servedBy: 'fsm-healthcheck',
        },
      ],
      ReadinessProbes: [
        {
          container: 'web',
          kind: 'https',
          httpGet: { path: '/', port: 15902, scheme: 'HTTPS' },
          original: { httpGet: { path: '', port: 8443, scheme: 'HTTPS' } },
          timeoutSeconds: 1,
          servedBy: 'proxy',
          listener: 'readiness_listener',
          cluster: 'web_readiness_cluster',
          proxyTimeoutSeconds: 1,
        },
      ],
      StartupProbes: [
        {
          container: 'db',
          kind: 'grpc',
          httpGet: {
            path: '/fsm-healthcheck',
            port: 15904,
            scheme: 'HTTP',
            httpHeaders: [
              { name: 'Original-Grpc-Port', value: '9000' },
              { name: 'Original-Grpc-Service', value: 'health.v1' },
            ],
          },
          original: { grpc: { port: 9000, service: 'health.v1' } },
          timeoutSeconds: 1,
          servedBy: 'fsm-healthcheck',
        },
        {
          container: 'g',
          kind: 'grpc',
          httpGet: {
            path: '/fsm-healthcheck',
            port: 15904,
            scheme: 'HTTP',
            httpHeaders: [{ name: 'Original-Grpc-Port', value: '9001' }],
          },
          original: { grpc: { port: 9001 } },
          timeoutSeconds: 1,
          servedBy: 'fsm-healthcheck',
        },
      ],
    });
    // JSON-ready: survives serialisation unchanged.
    expect(JSON.parse(JSON.stringify(v))).toEqual(v);
  });

  it.each<[string, ContainerSpec[], [string, string, string][]]>([
    ['no probes', [{ name: 'a' }], []],
    [
      'multi-container: per-container rewritten paths',
      [
        { name: 'a', readiness: http(80) },
        { name: 'b', readiness: http(81) },
      ],
      [
        ['ReadinessProbes', 'a', '/fsm-readiness-probe/a'],
        ['ReadinessProbes', 'b', '/fsm-readiness-probe/b'],
      ],
    ],
    [
      'entries follow pod container order',
      [
        { name: 'z', startup: http(1) },
        { name: 'a', startup: tcp(2) },
      ],
      [
        ['StartupProbes', 'z', '/fsm-startup-probe'],
        ['StartupProbes', 'a', '/fsm-healthcheck'],
      ],
    ],
  ])('%s', (_name, containers, want) => {
    const v = view(containers);
    const got = (Object.keys(v) as (keyof ProbesView)[]).flatMap((k) =>
      v[k].map((e) => [k, e.container, e.httpGet.path]),
    );
    expect(got).toEqual(want);
  });
});
