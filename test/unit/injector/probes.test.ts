import type { V1Container, V1Probe } from '@kubernetes/client-node';
import { rewriteProbes } from '../../../pkg/injector/index.js';

const hc = (header: string, value: string, extra: Record<string, string> = {}): V1Probe['httpGet'] => ({
  port: 15904,
  path: '/fsm-healthcheck',
  scheme: 'HTTP',
  httpHeaders: [{ name: header, value }, ...Object.entries(extra).map(([name, v]) => ({ name, value: v }))],
});

interface Case {
  name: string;
  containers: V1Container[];
  /** Expected probes by container name and field (only the ones that change or must stay). */
  expect: Record<
    string,
    Partial<Record<'livenessProbe' | 'readinessProbe' | 'startupProbe', V1Probe | null>>
  >;
  originals: Record<string, unknown>;
  proxyTypes: string[];
  hcPorts: number[];
  warnings?: RegExp[];
}

const cases: Case[] = [
  {
    name: 'no probes at all',
    containers: [{ name: 'app', image: 'x' }],
    expect: { app: { livenessProbe: undefined, readinessProbe: undefined, startupProbe: undefined } },
    originals: {},
    proxyTypes: [],
    hcPorts: [],
  },
  {
    name: 'null probe is left null, never added',
    containers: [{ name: 'app', livenessProbe: null as unknown as V1Probe }],
    expect: { app: { livenessProbe: null, readinessProbe: undefined } },
    originals: {},
    proxyTypes: [],
    hcPorts: [],
  },
  {
    name: 'empty probe (no handler) is untouched',
    containers: [{ name: 'app', readinessProbe: { periodSeconds: 3 } }],
    expect: { app: { readinessProbe: { periodSeconds: 3 } } },
    originals: {},
    proxyTypes: [],
    hcPorts: [],
  },
  {
    name: 'HTTP liveness → port and path, other fields kept',
    containers: [
      {
        name: 'app',
        livenessProbe: {
          httpGet: { path: '/healthz', port: 8080, httpHeaders: [{ name: 'X-A', value: '1' }] },
          periodSeconds: 7,
          timeoutSeconds: 3,
          failureThreshold: 4,
          successThreshold: 1,
          initialDelaySeconds: 2,
        },
      },
    ],
    expect: {
      app: {
        livenessProbe: {
          httpGet: { path: '/fsm-liveness-probe', port: 15901, httpHeaders: [{ name: 'X-A', value: '1' }] },
          periodSeconds: 7,
          timeoutSeconds: 3,
          failureThreshold: 4,
          successThreshold: 1,
          initialDelaySeconds: 2,
        },
      },
    },
    originals: {
      app: {
        liveness: {
          kind: 'http',
          scheme: 'HTTP',
          port: 8080,
          path: '/healthz',
          headers: [{ name: 'X-A', value: '1' }],
          timeoutSeconds: 3,
          rewritten: { port: 15901, path: '/fsm-liveness-probe' },
        },
      },
    },
    proxyTypes: ['liveness'],
    hcPorts: [],
  },
  {
    name: 'HTTP readiness and startup with explicit scheme HTTP, default timeout 1',
    containers: [
      {
        name: 'app',
        readinessProbe: { httpGet: { path: '/r', port: 80, scheme: 'HTTP' } },
        startupProbe: { httpGet: { port: 81 } },
      },
    ],
    expect: {
      app: {
        readinessProbe: { httpGet: { path: '/fsm-readiness-probe', port: 15902, scheme: 'HTTP' } },
        startupProbe: { httpGet: { path: '/fsm-startup-probe', port: 15903 } },
      },
    },
    originals: {
      app: {
        readiness: {
          kind: 'http',
          scheme: 'HTTP',
          port: 80,
          path: '/r',
          timeoutSeconds: 1,
          rewritten: { port: 15902, path: '/fsm-readiness-probe' },
        },
        startup: {
          kind: 'http',
          scheme: 'HTTP',
          port: 81,
          path: '',
          timeoutSeconds: 1,
          rewritten: { port: 15903, path: '/fsm-startup-probe' },
        },
      },
    },
    proxyTypes: ['readiness', 'startup'],
    hcPorts: [],
  },
  {
    name: 'HTTP port 0 is left exactly as it was, with a warning',
    containers: [{ name: 'app', livenessProbe: { httpGet: { path: '/h', port: 0 } } }],
    expect: { app: { livenessProbe: { httpGet: { path: '/h', port: 0 } } } },
    originals: {},
    proxyTypes: [],
    hcPorts: [],
    warnings: [/pod app\/p: container app liveness probe: port 0 does not resolve/],
  },
  {
    name: 'HTTPS → port only, path and scheme unchanged',
    containers: [
      { name: 'app', livenessProbe: { httpGet: { path: '/secure', port: 8443, scheme: 'HTTPS' } } },
    ],
    expect: { app: { livenessProbe: { httpGet: { path: '/secure', port: 15901, scheme: 'HTTPS' } } } },
    originals: {
      app: {
        liveness: {
          kind: 'https',
          scheme: 'HTTPS',
          port: 8443,
          path: '/secure',
          timeoutSeconds: 1,
          rewritten: { port: 15901, path: '/secure' },
        },
      },
    },
    proxyTypes: ['liveness'],
    hcPorts: [],
  },
  {
    name: 'TCP → 15904 /fsm-healthcheck with Original-Tcp-Port',
    containers: [
      {
        name: 'db',
        ports: [{ containerPort: 5432 }],
        readinessProbe: { tcpSocket: { port: 5432 }, periodSeconds: 4 },
      },
    ],
    expect: { db: { readinessProbe: { httpGet: hc('Original-Tcp-Port', '5432'), periodSeconds: 4 } } },
    originals: {
      db: {
        readiness: {
          kind: 'tcp',
          port: 5432,
          timeoutSeconds: 1,
          rewritten: { port: 15904, path: '/fsm-healthcheck' },
        },
      },
    },
    proxyTypes: [],
    hcPorts: [5432],
  },
  {
    name: 'gRPC with service → healthcheck with port and service headers',
    containers: [
      { name: 'g', livenessProbe: { grpc: { port: 9000, service: 'svc.Health' }, timeoutSeconds: 5 } },
    ],
    expect: {
      g: {
        livenessProbe: {
          httpGet: hc('Original-Grpc-Port', '9000', { 'Original-Grpc-Service': 'svc.Health' }),
          timeoutSeconds: 5,
        },
      },
    },
    originals: {
      g: {
        liveness: {
          kind: 'grpc',
          port: 9000,
          grpcService: 'svc.Health',
          timeoutSeconds: 5,
          rewritten: { port: 15904, path: '/fsm-healthcheck' },
        },
      },
    },
    proxyTypes: [],
    hcPorts: [9000],
  },
  {
    name: 'gRPC without service → only the port header',
    containers: [{ name: 'g', startupProbe: { grpc: { port: 9001 } } }],
    expect: { g: { startupProbe: { httpGet: hc('Original-Grpc-Port', '9001') } } },
    originals: {
      g: {
        startup: {
          kind: 'grpc',
          port: 9001,
          timeoutSeconds: 1,
          rewritten: { port: 15904, path: '/fsm-healthcheck' },
        },
      },
    },
    proxyTypes: [],
    hcPorts: [9001],
  },
  {
    name: 'exec probe untouched',
    containers: [{ name: 'app', livenessProbe: { exec: { command: ['cat', '/tmp/ok'] } } }],
    expect: { app: { livenessProbe: { exec: { command: ['cat', '/tmp/ok'] } } } },
    originals: {},
    proxyTypes: [],
    hcPorts: [],
  },
  {
    name: 'named port found (HTTP and TCP)',
    containers: [
      {
        name: 'app',
        ports: [
          { name: 'web', containerPort: 8080 },
          { name: 'raw', containerPort: 7000 },
        ],
        livenessProbe: { httpGet: { path: '/l', port: 'web' } },
        readinessProbe: { tcpSocket: { port: 'raw' } },
      },
    ],
    expect: {
      app: {
        livenessProbe: { httpGet: { path: '/fsm-liveness-probe', port: 15901 } },
        readinessProbe: { httpGet: hc('Original-Tcp-Port', '7000') },
      },
    },
    originals: {
      app: {
        liveness: {
          kind: 'http',
          scheme: 'HTTP',
          port: 8080,
          path: '/l',
          timeoutSeconds: 1,
          rewritten: { port: 15901, path: '/fsm-liveness-probe' },
        },
        readiness: {
          kind: 'tcp',
          port: 7000,
          timeoutSeconds: 1,
          rewritten: { port: 15904, path: '/fsm-healthcheck' },
        },
      },
    },
    proxyTypes: ['liveness'],
    hcPorts: [7000],
  },
  {
    name: 'named port not found → unchanged, warning names pod, container, probe and port',
    containers: [
      {
        name: 'app',
        ports: [{ name: 'web', containerPort: 8080 }],
        livenessProbe: { httpGet: { path: '/l', port: 'nope' } },
        readinessProbe: { tcpSocket: { port: 'gone' } },
      },
    ],
    expect: {
      app: {
        livenessProbe: { httpGet: { path: '/l', port: 'nope' } },
        readinessProbe: { tcpSocket: { port: 'gone' } },
      },
    },
    originals: {},
    proxyTypes: [],
    hcPorts: [],
    warnings: [
      /pod app\/p: container app liveness probe: port "nope"/,
      /pod app\/p: container app readiness probe: port "gone"/,
    ],
  },
  {
    name: 'no container ports: named port cannot resolve, numeric one does',
    containers: [
      {
        name: 'app',
        livenessProbe: { httpGet: { port: 'http' } },
        readinessProbe: { tcpSocket: { port: 3000 } },
      },
    ],
    expect: {
      app: {
        livenessProbe: { httpGet: { port: 'http' } },
        readinessProbe: { httpGet: hc('Original-Tcp-Port', '3000') },
      },
    },
    originals: {
      app: {
        readiness: {
          kind: 'tcp',
          port: 3000,
          timeoutSeconds: 1,
          rewritten: { port: 15904, path: '/fsm-healthcheck' },
        },
      },
    },
    proxyTypes: [],
    hcPorts: [3000],
    warnings: [/container app liveness probe: port "http" does not resolve/],
  },
  {
    name: 'two containers with HTTP probes of the same type → per-container paths',
    containers: [
      { name: 'a', livenessProbe: { httpGet: { path: '/a', port: 8080 } } },
      {
        name: 'b',
        livenessProbe: { httpGet: { path: '/b', port: 9090 } },
        readinessProbe: { httpGet: { port: 9091 } },
      },
    ],
    expect: {
      a: { livenessProbe: { httpGet: { path: '/fsm-liveness-probe/a', port: 15901 } } },
      b: {
        livenessProbe: { httpGet: { path: '/fsm-liveness-probe/b', port: 15901 } },
        readinessProbe: { httpGet: { path: '/fsm-readiness-probe', port: 15902 } },
      },
    },
    originals: {
      a: {
        liveness: {
          kind: 'http',
          scheme: 'HTTP',
          port: 8080,
          path: '/a',
          timeoutSeconds: 1,
          rewritten: { port: 15901, path: '/fsm-liveness-probe/a' },
        },
      },
      b: {
        liveness: {
          kind: 'http',
          scheme: 'HTTP',
          port: 9090,
          path: '/b',
          timeoutSeconds: 1,
          rewritten: { port: 15901, path: '/fsm-liveness-probe/b' },
        },
        readiness: {
          kind: 'http',
          scheme: 'HTTP',
          port: 9091,
          path: '',
          timeoutSeconds: 1,
          rewritten: { port: 15902, path: '/fsm-readiness-probe' },
        },
      },
    },
    proxyTypes: ['liveness', 'readiness'],
    hcPorts: [],
  },
  {
    name: 'mixed TCP and HTTP across containers',
    containers: [
      { name: 'web', livenessProbe: { httpGet: { path: '/h', port: 80 } } },
      {
        name: 'db',
        livenessProbe: { tcpSocket: { port: 5432 } },
        readinessProbe: { tcpSocket: { port: 5433 } },
      },
    ],
    expect: {
      web: { livenessProbe: { httpGet: { path: '/fsm-liveness-probe', port: 15901 } } },
      db: {
        livenessProbe: { httpGet: hc('Original-Tcp-Port', '5432') },
        readinessProbe: { httpGet: hc('Original-Tcp-Port', '5433') },
      },
    },
    originals: {
      web: {
        liveness: {
          kind: 'http',
          scheme: 'HTTP',
          port: 80,
          path: '/h',
          timeoutSeconds: 1,
          rewritten: { port: 15901, path: '/fsm-liveness-probe' },
        },
      },
      db: {
        liveness: {
          kind: 'tcp',
          port: 5432,
          timeoutSeconds: 1,
          rewritten: { port: 15904, path: '/fsm-healthcheck' },
        },
        readiness: {
          kind: 'tcp',
          port: 5433,
          timeoutSeconds: 1,
          rewritten: { port: 15904, path: '/fsm-healthcheck' },
        },
      },
    },
    proxyTypes: ['liveness'],
    hcPorts: [5432, 5433],
  },
  {
    name: 'HTTP and one HTTPS of the same type share the listener; HTTP keeps the bare path',
    containers: [
      { name: 'a', readinessProbe: { httpGet: { path: '/a', port: 8080 } } },
      { name: 'b', readinessProbe: { httpGet: { path: '/b', port: 8443, scheme: 'HTTPS' } } },
    ],
    expect: {
      a: { readinessProbe: { httpGet: { path: '/fsm-readiness-probe', port: 15902 } } },
      b: { readinessProbe: { httpGet: { path: '/b', port: 15902, scheme: 'HTTPS' } } },
    },
    originals: {
      a: {
        readiness: {
          kind: 'http',
          scheme: 'HTTP',
          port: 8080,
          path: '/a',
          timeoutSeconds: 1,
          rewritten: { port: 15902, path: '/fsm-readiness-probe' },
        },
      },
      b: {
        readiness: {
          kind: 'https',
          scheme: 'HTTPS',
          port: 8443,
          path: '/b',
          timeoutSeconds: 1,
          rewritten: { port: 15902, path: '/b' },
        },
      },
    },
    proxyTypes: ['readiness'],
    hcPorts: [],
  },
  {
    name: 'two HTTPS probes of one type: the second is called over HTTP, the proxy originates its TLS',
    containers: [
      { name: 'a', livenessProbe: { httpGet: { port: 8443, scheme: 'HTTPS' } } },
      {
        name: 'b',
        livenessProbe: { httpGet: { path: '/b', port: 9443, scheme: 'HTTPS' }, periodSeconds: 9 },
      },
    ],
    expect: {
      a: { livenessProbe: { httpGet: { port: 15901, scheme: 'HTTPS' } } },
      b: {
        livenessProbe: {
          httpGet: { path: '/fsm-liveness-probe/b', port: 15901, scheme: 'HTTP' },
          periodSeconds: 9,
        },
      },
    },
    originals: {
      a: {
        liveness: {
          kind: 'https',
          scheme: 'HTTPS',
          port: 8443,
          path: '',
          timeoutSeconds: 1,
          rewritten: { port: 15901, path: '/' },
        },
      },
      b: {
        liveness: {
          kind: 'https',
          scheme: 'HTTPS',
          port: 9443,
          path: '/b',
          timeoutSeconds: 1,
          tls: 'originate',
          rewritten: { port: 15901, path: '/fsm-liveness-probe/b' },
        },
      },
    },
    proxyTypes: ['liveness'],
    hcPorts: [],
  },
  {
    name: 'unknown scheme and explicit host are left unchanged with warnings',
    containers: [
      {
        name: 'app',
        livenessProbe: { httpGet: { port: 80, scheme: 'FTP' } },
        readinessProbe: { httpGet: { port: 80, host: '10.0.0.9' } },
        startupProbe: { tcpSocket: { port: 80, host: 'db.example' } },
      },
    ],
    expect: {
      app: {
        livenessProbe: { httpGet: { port: 80, scheme: 'FTP' } },
        readinessProbe: { httpGet: { port: 80, host: '10.0.0.9' } },
        startupProbe: { tcpSocket: { port: 80, host: 'db.example' } },
      },
    },
    originals: {},
    proxyTypes: [],
    hcPorts: [],
    warnings: [/httpGet.scheme "FTP"/, /httpGet.host "10.0.0.9"/, /tcpSocket.host "db.example"/],
  },
  {
    name: 'a probe with several handlers is left unchanged with a warning',
    containers: [{ name: 'app', livenessProbe: { httpGet: { port: 80 }, tcpSocket: { port: 80 } } }],
    expect: { app: { livenessProbe: { httpGet: { port: 80 }, tcpSocket: { port: 80 } } } },
    originals: {},
    proxyTypes: [],
    hcPorts: [],
    warnings: [/several handlers \(httpGet, tcpSocket\)/],
  },
  {
    name: 'paths, header names or values and gRPC services that cannot travel in HTTP are left unchanged',
    containers: [
      {
        name: 'app',
        livenessProbe: { httpGet: { port: 80, path: '/a\nb' } },
        readinessProbe: { httpGet: { port: 80, httpHeaders: [{ name: 'X Bad', value: 'v' }] } },
        startupProbe: { grpc: { port: 9000, service: 'svc\r' } },
      },
      {
        name: 'two',
        livenessProbe: { httpGet: { port: 80, httpHeaders: [{ name: 'X-Ok', value: 'a\u0000' }] } },
      },
    ],
    expect: {
      app: {
        livenessProbe: { httpGet: { port: 80, path: '/a\nb' } },
        readinessProbe: { httpGet: { port: 80, httpHeaders: [{ name: 'X Bad', value: 'v' }] } },
        startupProbe: { grpc: { port: 9000, service: 'svc\r' } },
      },
      two: { livenessProbe: { httpGet: { port: 80, httpHeaders: [{ name: 'X-Ok', value: 'a\u0000' }] } } },
    },
    originals: {},
    proxyTypes: [],
    hcPorts: [],
    warnings: [
      /container app liveness probe: httpGet path or headers are not valid HTTP; left unchanged/,
      /container app readiness probe: httpGet path or headers are not valid HTTP/,
      /container app startup probe: grpc.service contains control characters/,
      /container two liveness probe: httpGet path or headers are not valid HTTP/,
    ],
  },
  {
    name: 'gRPC port out of range is left unchanged',
    containers: [{ name: 'g', livenessProbe: { grpc: { port: 70000 } } }],
    expect: { g: { livenessProbe: { grpc: { port: 70000 } } } },
    originals: {},
    proxyTypes: [],
    hcPorts: [],
    warnings: [/port 70000 does not resolve/],
  },
  {
    name: 'duplicate healthcheck ports are listed once, sorted',
    containers: [
      {
        name: 'a',
        livenessProbe: { tcpSocket: { port: 9000 } },
        readinessProbe: { tcpSocket: { port: 80 } },
      },
      { name: 'b', livenessProbe: { grpc: { port: 9000 } } },
    ],
    expect: {
      a: {
        livenessProbe: { httpGet: hc('Original-Tcp-Port', '9000') },
        readinessProbe: { httpGet: hc('Original-Tcp-Port', '80') },
      },
      b: { livenessProbe: { httpGet: hc('Original-Grpc-Port', '9000') } },
    },
    originals: {
      a: {
        liveness: {
          kind: 'tcp',
          port: 9000,
          timeoutSeconds: 1,
          rewritten: { port: 15904, path: '/fsm-healthcheck' },
        },
        readiness: {
          kind: 'tcp',
          port: 80,
          timeoutSeconds: 1,
          rewritten: { port: 15904, path: '/fsm-healthcheck' },
        },
      },
      b: {
        liveness: {
          kind: 'grpc',
          port: 9000,
          timeoutSeconds: 1,
          rewritten: { port: 15904, path: '/fsm-healthcheck' },
        },
      },
    },
    proxyTypes: [],
    hcPorts: [80, 9000],
  },
];

describe('rewriteProbes', () => {
  it.each(cases)('$name', (c) => {
    const input = structuredClone(c.containers);
    const r = rewriteProbes('app/p', input);
    expect(input).toEqual(c.containers); // the input is never modified
    for (const [name, fields] of Object.entries(c.expect)) {
      const out = r.containers.find((x) => x.name === name)!;
      for (const [field, probe] of Object.entries(fields)) {
        expect(out[field as 'livenessProbe']).toStrictEqual(probe);
      }
    }
    expect(r.originals).toStrictEqual(c.originals);
    expect(r.proxyProbeTypes).toEqual(c.proxyTypes);
    expect(r.healthcheckPorts).toEqual(c.hcPorts);
    const warnings = c.warnings ?? [];
    expect(r.warnings).toHaveLength(warnings.length);
    warnings.forEach((w, i) => expect(r.warnings[i]).toMatch(w));
    expect(r.containers.map((x) => x.name)).toEqual(c.containers.map((x) => x.name));
  });

  it('opt-out (enabled=false) returns the containers unchanged', () => {
    const containers: V1Container[] = [
      { name: 'a', livenessProbe: { httpGet: { port: 80 } }, readinessProbe: { tcpSocket: { port: 81 } } },
    ];
    const r = rewriteProbes('app/p', containers, false);
    expect(r.containers).toStrictEqual(containers);
    expect(r.originals).toEqual({});
    expect(r.proxyProbeTypes).toEqual([]);
    expect(r.healthcheckPorts).toEqual([]);
  });
});
