/** Namespace mode's pure parts: names and addresses, kube-proxy's rule text, pod command lines, the mode request. */
import type { V1EndpointSlice, V1Service } from '@kubernetes/client-node';
import {
  capabilitiesOf,
  inCidr,
  nodeBaseRules,
  nodeNamespace,
  parseCidr,
  parseNetworkModeRequest,
  PodAddressPool,
  podCommand,
  podNamespace,
  sandboxIdOf,
  serviceRoutes,
  servicesChainRules,
} from '../../../../pkg/sandbox/netns/index.js';

describe('names', () => {
  it('namespaces carry the sandbox id, and only sandbox names give one back', () => {
    expect(nodeNamespace('a1b2c3')).toBe('fsm-a1b2c3-node');
    expect(podNamespace('a1b2c3', 7)).toBe('fsm-a1b2c3-p7');
    expect(sandboxIdOf('fsm-a1b2c3-node')).toBe('a1b2c3');
    expect(sandboxIdOf('fsm-a1b2c3-p12')).toBe('a1b2c3');
    for (const other of [
      'fsm-probe-a1b2c3',
      'fsm-A1B2C3-node',
      'fsm-a1b2c-node',
      'cni-123',
      'fsm-a1b2c3-p',
    ]) {
      expect([other, sandboxIdOf(other)]).toEqual([other, undefined]);
    }
  });

  it.each([
    ['10.244.0.0/24', { network: '10.244.0.0', prefix: 24, gateway: '10.244.0.1', text: '10.244.0.0/24' }],
    [' 10.96.0.0/16 ', { network: '10.96.0.0', prefix: 16, gateway: '10.96.0.1', text: '10.96.0.0/16' }],
    [
      '192.168.7.8/29',
      { network: '192.168.7.8', prefix: 29, gateway: '192.168.7.9', text: '192.168.7.8/29' },
    ],
  ])('parseCidr(%j)', (text, want) => {
    expect(parseCidr(text)).toEqual(want);
  });

  it.each([
    ['10.244.0.5/24', 'podCidr: 10.244.0.5/24 has host bits set (the network is 10.244.0.0/24)'],
    ['10.244.0.0', 'podCidr: expected an IPv4 CIDR such as 10.244.0.0/24, got "10.244.0.0"'],
    ['10.0.0.0/8', 'podCidr: the prefix of 10.0.0.0/8 must be /16 to /29'],
    ['10.300.0.0/24', 'not an IPv4 address: "10.300.0.0"'],
  ])('parseCidr(%j) names the field and value', (text, message) => {
    expect(() => parseCidr(text, 'podCidr')).toThrow(message);
  });

  it('inCidr', () => {
    const c = parseCidr('10.96.0.0/16');
    expect(['10.96.0.10', '10.96.250.14', '10.97.0.1', 'x'].map((ip) => inCidr(ip, c))).toEqual([
      true,
      true,
      false,
      false,
    ]);
  });

  it('the pool hands out hosts 2 … broadcast-1, reuses released ones, and says when it is full', () => {
    const pool = new PodAddressPool(parseCidr('10.1.0.0/29'));
    const got = [1, 2, 3, 4, 5].map(() => pool.allocate());
    expect(got).toEqual([
      { ip: '10.1.0.2', n: 2 },
      { ip: '10.1.0.3', n: 3 },
      { ip: '10.1.0.4', n: 4 },
      { ip: '10.1.0.5', n: 5 },
      { ip: '10.1.0.6', n: 6 },
    ]);
    expect(() => pool.allocate()).toThrow('no free pod address left in 10.1.0.0/29 (5 pods)');
    pool.release(4);
    expect(pool.allocate()).toEqual({ ip: '10.1.0.4', n: 4 });
  });
});

describe("kube-proxy's rules", () => {
  const svc = (name: string, clusterIP: string | undefined, ports: V1Service['spec']): V1Service => ({
    metadata: { name, namespace: 'ns' },
    spec: { ...(clusterIP ? { clusterIP } : {}), ...ports },
  });
  const slice = (service: string, port: number, eps: [string, boolean | undefined][]): V1EndpointSlice => ({
    addressType: 'IPv4',
    metadata: { name: `${service}-x`, namespace: 'ns', labels: { 'kubernetes.io/service-name': service } },
    ports: [{ name: 'app', port }],
    endpoints: eps.map(([ip, ready]) => ({
      addresses: [ip],
      ...(ready === undefined ? {} : { conditions: { ready } }),
    })),
  });

  it('routes ClusterIP ports to ready endpoints (headless, UDP and unready ones left out)', () => {
    const routes = serviceRoutes(
      [
        svc('web', '10.96.0.20', { ports: [{ name: 'app', port: 80, targetPort: 8080 }] }),
        svc('headless', 'None', { ports: [{ name: 'app', port: 80 }] }),
        svc('dns', '10.96.0.53', { ports: [{ name: 'app', port: 53, protocol: 'UDP' }] }),
        svc('empty', '10.96.0.30', { ports: [{ name: 'app', port: 81 }] }),
      ],
      [
        slice('web', 8080, [
          ['10.244.0.9', true],
          ['10.244.0.3', undefined],
          ['10.244.0.4', false],
        ]),
        slice('headless', 80, [['10.244.0.5', true]]),
      ],
    );
    expect(routes).toEqual([
      { service: 'ns/empty:81', clusterIP: '10.96.0.30', port: 81, endpoints: [] },
      {
        service: 'ns/web:80',
        clusterIP: '10.96.0.20',
        port: 80,
        endpoints: [
          { ip: '10.244.0.3', port: 8080 },
          { ip: '10.244.0.9', port: 8080 },
        ],
      },
    ]);
  });

  it("spreads connections as kube-proxy's iptables mode does, one chain replaced at a time", () => {
    expect(
      servicesChainRules([
        {
          service: 'ns/web:80',
          clusterIP: '10.96.0.20',
          port: 80,
          endpoints: [
            { ip: '10.244.0.3', port: 8080 },
            { ip: '10.244.0.4', port: 8080 },
            { ip: '10.244.0.9', port: 8080 },
          ],
        },
        { service: 'ns/empty:81', clusterIP: '10.96.0.30', port: 81, endpoints: [] },
      ]).split('\n'),
    ).toEqual([
      '*nat',
      ':FSM-SERVICES - [0:0]',
      '-A FSM-SERVICES -d 10.96.0.20/32 -p tcp --dport 80 -m comment --comment "ns/web:80" -m statistic --mode random --probability 0.33333 -j DNAT --to-destination 10.244.0.3:8080',
      '-A FSM-SERVICES -d 10.96.0.20/32 -p tcp --dport 80 -m comment --comment "ns/web:80" -m statistic --mode random --probability 0.50000 -j DNAT --to-destination 10.244.0.4:8080',
      '-A FSM-SERVICES -d 10.96.0.20/32 -p tcp --dport 80 -m comment --comment "ns/web:80" -j DNAT --to-destination 10.244.0.9:8080',
      'COMMIT',
      '',
    ]);
  });

  it('the node namespace sends pod and node traffic through the chain and masquerades DNATed pod traffic', () => {
    expect(nodeBaseRules(parseCidr('10.244.0.0/24'))).toBe(
      [
        '*nat',
        ':FSM-SERVICES - [0:0]',
        '-A PREROUTING -j FSM-SERVICES',
        '-A OUTPUT -j FSM-SERVICES',
        '-A POSTROUTING -s 10.244.0.0/24 -m conntrack --ctstate DNAT -j MASQUERADE',
        'COMMIT',
        '',
      ].join('\n'),
    );
  });
});

describe('pod processes', () => {
  it.each([
    [
      'a container: the pod namespace, root, the parent-death signal',
      { namespace: 'fsm-a1b2c3-p4' },
      ['ip', 'netns', 'exec', 'fsm-a1b2c3-p4', 'setpriv', '--pdeathsig', 'SIGKILL', '--', 'node', 'x.js'],
    ],
    [
      'the sidecar: the proxy UID, no supplementary groups',
      { namespace: 'fsm-a1b2c3-p4', uid: 1500 },
      [
        'ip',
        'netns',
        'exec',
        'fsm-a1b2c3-p4',
        'setpriv',
        '--pdeathsig',
        'SIGKILL',
        '--reuid',
        '1500',
        '--regid',
        '1500',
        '--clear-groups',
        '--',
        'node',
        'x.js',
      ],
    ],
    [
      "fsm-init: its securityContext's capabilities, no new privileges",
      { namespace: 'n', capabilities: ['net_admin', 'net_raw'], noNewPrivs: true },
      [
        'ip',
        'netns',
        'exec',
        'n',
        'setpriv',
        '--pdeathsig',
        'SIGKILL',
        '--inh-caps',
        '-all,+net_admin,+net_raw',
        '--bounding-set',
        '-all,+net_admin,+net_raw',
        '--no-new-privs',
        '--',
        'node',
        'x.js',
      ],
    ],
  ])('%s', (_what, o, want) => {
    expect(podCommand(o, ['node', 'x.js'])).toEqual(want);
  });

  it.each([
    [undefined, undefined],
    [{}, undefined],
    [{ capabilities: { add: ['NET_ADMIN'] } }, undefined],
    [
      { capabilities: { drop: ['ALL'], add: ['NET_ADMIN', 'CAP_NET_RAW', 'net_admin'] } },
      ['net_admin', 'net_raw'],
    ],
    [{ capabilities: { drop: ['all'] } }, []],
  ])('capabilitiesOf(%j) = %j', (sc, want) => {
    expect(capabilitiesOf(sc)).toEqual(want);
  });
});

describe('the mode request', () => {
  it.each([
    [undefined, 'auto'],
    ['', 'auto'],
    [' loopback ', 'loopback'],
    ['namespaces', 'namespaces'],
  ])('%j → %s', (value, want) => {
    expect(parseNetworkModeRequest(value, 'FSM_SANDBOX_NETWORK')).toBe(want);
  });

  it('a bad value names the variable and the choices', () => {
    expect(() => parseNetworkModeRequest('netns', 'FSM_SANDBOX_NETWORK')).toThrow(
      'FSM_SANDBOX_NETWORK: expected auto, namespaces, loopback, got "netns"',
    );
  });
});
