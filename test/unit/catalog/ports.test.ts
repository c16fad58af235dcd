import { inboundPorts } from '../../../pkg/catalog/ports.js';
import type { PodLike } from '../../../pkg/catalog/pod.js';

function pod(containers: any[], initContainers?: any[]): PodLike {
  return {
    metadata: { name: 'p', namespace: 'n' },
    spec: { containers, ...(initContainers ? { initContainers } : {}) },
  };
}

describe('inboundPorts', () => {
  it.each<[string, PodLike, [string, number][], string[]]>([
    ['no spec', { metadata: { name: 'p', namespace: 'n' } }, [], []],
    ['no ports', pod([{ name: 'a' }]), [], []],
    ['one port', pod([{ name: 'a', ports: [{ containerPort: 8080 }] }]), [['a', 8080]], []],
    [
      'several containers, spec order kept',
      pod([
        { name: 'a', ports: [{ containerPort: 9000 }, { containerPort: 80, name: 'http', protocol: 'TCP' }] },
        { name: 'b', ports: [{ containerPort: 7000 }] },
      ]),
      [
        ['a', 9000],
        ['a', 80],
        ['b', 7000],
      ],
      [],
    ],
    [
      'UDP and SCTP are not proxied',
      pod([
        {
          name: 'a',
          ports: [
            { containerPort: 53, protocol: 'UDP' },
            { containerPort: 99, protocol: 'SCTP' },
            { containerPort: 53 },
          ],
        },
      ]),
      [['a', 53]],
      [],
    ],
    [
      'injected containers are skipped',
      pod(
        [
          { name: 'app', ports: [{ containerPort: 80 }] },
          { name: 'sidecar', ports: [{ containerPort: 15901 }, { containerPort: 15000 }] },
          { name: 'fsm-healthcheck', ports: [{ containerPort: 15904 }] },
        ],
        [{ name: 'fsm-init', ports: [{ containerPort: 1 }], restartPolicy: 'Always' }],
      ),
      [['app', 80]],
      [],
    ],
    [
      'native sidecar init containers (restartPolicy Always) count; plain init containers do not',
      pod(
        [{ name: 'app' }],
        [
          { name: 'setup', ports: [{ containerPort: 1000 }] },
          { name: 'logs', restartPolicy: 'Always', ports: [{ containerPort: 2000 }] },
        ],
      ),
      [['logs', 2000]],
      [],
    ],
    [
      'same port in two containers: first wins, warned',
      pod([
        { name: 'a', ports: [{ containerPort: 80 }, { containerPort: 80 }] },
        { name: 'b', ports: [{ containerPort: 80 }] },
      ]),
      [['a', 80]],
      ['pod n/p: container b ports[0].containerPort 80 is also declared by container a; using a'],
    ],
    [
      'proxy-reserved ports: warned, skipped',
      pod([
        {
          name: 'a',
          ports: [
            { containerPort: 15001 },
            { containerPort: 15901 },
            { containerPort: 15128 },
            { containerPort: 8080 },
          ],
        },
      ]),
      [['a', 8080]],
      [
        'pod n/p: container a ports[0].containerPort 15001 is reserved by the proxy; no inbound listener',
        'pod n/p: container a ports[1].containerPort 15901 is reserved by the proxy; no inbound listener',
        'pod n/p: container a ports[2].containerPort 15128 is reserved by the proxy; no inbound listener',
      ],
    ],
    [
      'invalid port numbers: warned, skipped',
      pod([
        {
          name: 'a',
          ports: [
            { containerPort: 0 },
            { containerPort: 70000 },
            { containerPort: '80' },
            { containerPort: 81 },
          ],
        },
      ]),
      [['a', 81]],
      [
        'pod n/p: container a ports[0].containerPort 0 is not a port 1-65535; no inbound listener',
        'pod n/p: container a ports[1].containerPort 70000 is not a port 1-65535; no inbound listener',
        'pod n/p: container a ports[2].containerPort "80" is not a port 1-65535; no inbound listener',
      ],
    ],
  ])('%s', (_name, p, ports, warnings) => {
    const r = inboundPorts(p);
    expect(r.ports.map((x) => [x.container, x.port])).toEqual(ports);
    expect(r.warnings).toEqual(warnings);
  });
});
