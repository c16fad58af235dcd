/**
 * meshService: a Service and its EndpointSlices → what every proxy routes to, or why the Service
 * passes through. Table-tested: ClusterIP and headless, ports and targetPorts by slice port name,
 * ready and not ready, meshed and not meshed endpoints, identities from the endpoints' pods.
 */
import { meshService, type EndpointPod } from '../../../pkg/catalog/mesh-services.js';
import type { EndpointSliceLike, ServiceLike } from '../../../pkg/catalog/mesh-services.js';
import { meshClusterName } from '../../../pkg/envoy/builders/index.js';

const svc = (over: Partial<NonNullable<ServiceLike['spec']>> = {}): ServiceLike => ({
  metadata: { name: 'books', namespace: 'shop' },
  spec: { clusterIP: '10.96.0.9', ports: [{ name: 'http', port: 80 }], ...over },
});

type Ep = { ip: string; pod?: string; ready?: boolean | null };
const slice = (
  ports: { name?: string; port: number; protocol?: string }[],
  eps: Ep[],
): EndpointSliceLike => ({
  metadata: {
    name: `books-${Math.random()}`,
    namespace: 'shop',
    labels: { 'kubernetes.io/service-name': 'books' },
  },
  addressType: 'IPv4',
  ports,
  endpoints: eps.map((e) => ({
    addresses: [e.ip],
    ...(e.ready !== undefined ? { conditions: { ready: e.ready } } : {}),
    ...(e.pod ? { targetRef: { kind: 'Pod', name: e.pod, namespace: 'shop' } } : {}),
  })),
});

const pods: Record<string, EndpointPod> = {
  a: { meshed: true, serviceAccount: 'books' },
  b: { meshed: true, serviceAccount: 'books' },
  c: { meshed: true, serviceAccount: 'books-v2' },
  plain: { meshed: false, serviceAccount: 'default' },
};
const opts = {
  trustDomain: 'td',
  pod: (_ns: string, name: string) => pods[name],
  clusterName: meshClusterName,
};

describe('meshService', () => {
  it('ready endpoints of meshed pods, at the targetPort their slice resolves, with their identities', () => {
    const v = meshService(
      svc(),
      [
        slice(
          [{ name: 'http', port: 8080 }],
          [
            { ip: '10.0.0.2', pod: 'b' },
            { ip: '10.0.0.1', pod: 'a', ready: true },
            { ip: '10.0.0.3', pod: 'c', ready: false },
          ],
        ),
      ],
      opts,
    );
    expect(v).toEqual({
      kind: 'mesh',
      namespace: 'shop',
      name: 'books',
      clusterIP: '10.96.0.9',
      ports: [
        {
          port: 80,
          name: 'http',
          cluster: 'shop/books|80',
          endpoints: [
            { address: '10.0.0.2', port: 8080 },
            { address: '10.0.0.1', port: 8080 },
          ],
        },
      ],
      // A not-ready endpoint's account still counts: it may be ready a moment later.
      identities: ['spiffe://td/ns/shop/sa/books', 'spiffe://td/ns/shop/sa/books-v2'],
      peers: [
        { address: '10.0.0.1', pod: 'a', ready: true, identity: 'spiffe://td/ns/shop/sa/books' },
        { address: '10.0.0.2', pod: 'b', ready: true, identity: 'spiffe://td/ns/shop/sa/books' },
        { address: '10.0.0.3', pod: 'c', ready: false, identity: 'spiffe://td/ns/shop/sa/books-v2' },
      ],
    });
  });

  it('many ports: each Service port takes the slice port of its name; slices grouped by resolved ports', () => {
    const v = meshService(
      svc({
        ports: [
          { name: 'http', port: 80 },
          { name: 'grpc', port: 9000 },
          { name: 'dns', port: 53, protocol: 'UDP' },
        ],
      }),
      [
        slice(
          [
            { name: 'http', port: 8080 },
            { name: 'grpc', port: 9090 },
          ],
          [{ ip: '10.0.0.1', pod: 'a' }],
        ),
        slice([{ name: 'http', port: 8081 }], [{ ip: '10.0.0.2', pod: 'b' }]),
      ],
      opts,
    );
    if (v.kind !== 'mesh') throw new Error(v.reason);
    expect(v.ports.map((p) => [p.port, p.cluster, p.endpoints])).toEqual([
      [
        80,
        'shop/books|80',
        [
          { address: '10.0.0.1', port: 8080 },
          { address: '10.0.0.2', port: 8081 },
        ],
      ],
      [9000, 'shop/books|9000', [{ address: '10.0.0.1', port: 9090 }]],
    ]);
  });

  it('an unnamed single port matches the slice port without a name', () => {
    const v = meshService(
      svc({ ports: [{ port: 5432 }] }),
      [slice([{ port: 5432 }], [{ ip: '10.0.0.1', pod: 'a' }])],
      opts,
    );
    expect(v.kind === 'mesh' && v.ports[0]!.endpoints).toEqual([{ address: '10.0.0.1', port: 5432 }]);
  });

  it('mixed: non-meshed endpoints get no traffic from the mesh and say why', () => {
    const v = meshService(
      svc(),
      [
        slice(
          [{ name: 'http', port: 8080 }],
          [
            { ip: '10.0.0.1', pod: 'a' },
            { ip: '10.0.0.5', pod: 'plain' },
            { ip: '10.0.0.6', pod: 'unknown' },
            { ip: '192.168.1.1' },
          ],
        ),
      ],
      opts,
    );
    if (v.kind !== 'mesh') throw new Error(v.reason);
    expect(v.ports[0]!.endpoints).toEqual([{ address: '10.0.0.1', port: 8080 }]);
    expect(v.identities).toEqual(['spiffe://td/ns/shop/sa/books']);
    expect(v.peers.filter((p) => p.excluded).map((p) => [p.address, p.excluded])).toEqual([
      ['10.0.0.5', 'pod without an fsm sidecar in the mesh'],
      ['10.0.0.6', 'pod not known to the controller'],
      ['192.168.1.1', 'not a pod'],
    ]);
  });

  it('no endpoint at all: still meshed (an empty assignment), no identity yet', () => {
    const v = meshService(svc(), [slice([], [])], opts);
    expect(v).toMatchObject({ kind: 'mesh', identities: [], peers: [] });
    expect(v.kind === 'mesh' && v.ports[0]!.endpoints).toEqual([]);
  });

  it.each<[string, ServiceLike, EndpointSliceLike[], RegExp]>([
    ['headless', svc({ clusterIP: 'None' }), [], /headless Service/],
    ['ExternalName', svc({ type: 'ExternalName', clusterIP: '' }), [], /ExternalName/],
    ['no ClusterIP yet', svc({ clusterIP: '' }), [], /no ClusterIP/],
    ['only UDP ports', svc({ ports: [{ port: 53, protocol: 'UDP' }] }), [], /no TCP port/],
    [
      'endpoints but none meshed',
      svc(),
      [slice([{ name: 'http', port: 8080 }], [{ ip: '10.0.0.5', pod: 'plain' }, { ip: '192.168.0.1' }])],
      /no endpoint is a meshed pod/,
    ],
  ])('passes through: %s', (_n, s, slices, reason) => {
    const v = meshService(s, slices, opts);
    expect(v.kind).toBe('passthrough');
    if (v.kind === 'passthrough') expect(v.reason).toMatch(reason);
  });
});
