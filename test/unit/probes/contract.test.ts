/**
 * The probe contract, end to end: every original-probe shape goes through the build (recordProbe →
 * rewriteProbe, as the injector does), the annotation (format → parse) and the comparison
 * (compareProbe, as the catalog and `fsm check probes` do). What is built always compares equal to its
 * record; any single change to what kubelet calls is drift.
 */
import type { V1Container, V1Probe } from '@kubernetes/client-node';
import { PROBE_TYPE_INFO, PROBE_TYPES } from '../../../pkg/constants/index.js';
import type { ProbeType } from '../../../pkg/constants/index.js';
import {
  compareProbe,
  formatOriginalProbes,
  keepsHttpsPath,
  parseOriginalProbes,
  recordProbe,
  rewriteProbe,
  rewrittenHttpGet,
  rewrittenTarget,
} from '../../../pkg/probes/index.js';
import type { OriginalHandler, OriginalProbe, ProbeSlot } from '../../../pkg/probes/index.js';

interface Shape {
  name: string;
  /** The probe as the user wrote it. */
  probe: V1Probe;
  /** The same probe as the injector reads it. */
  original: OriginalHandler;
}

const headers = [
  { name: 'X-A', value: '1' },
  { name: 'Host', value: 'h.local' },
  { name: 'x-a', value: '2' },
];

const SHAPES: Shape[] = [
  {
    name: 'http',
    probe: { httpGet: { port: 8080, path: '/healthz' } },
    original: { kind: 'http', port: 8080, path: '/healthz' },
  },
  {
    name: 'http, scheme HTTP written',
    probe: { httpGet: { port: 8080, path: '/h', scheme: 'HTTP' } },
    original: { kind: 'http', port: 8080, path: '/h' },
  },
  {
    name: 'http, empty path',
    probe: { httpGet: { port: 80, path: '' } },
    original: { kind: 'http', port: 80, path: '' },
  },
  { name: 'http, no path', probe: { httpGet: { port: 80 } }, original: { kind: 'http', port: 80, path: '' } },
  {
    name: 'http, path without a slash, query, space and non-ASCII',
    probe: { httpGet: { port: 80, path: 'a b/ü?x=1' } },
    original: { kind: 'http', port: 80, path: 'a b/ü?x=1' },
  },
  {
    name: 'http with headers (repeated name, Host)',
    probe: { httpGet: { port: 80, path: '/h', httpHeaders: headers } },
    original: { kind: 'http', port: 80, path: '/h', headers },
  },
  {
    name: 'http, named port',
    probe: { httpGet: { port: 'web', path: '/h' }, timeoutSeconds: 30 },
    original: { kind: 'http', port: 8080, path: '/h' },
  },
  {
    name: 'https',
    probe: { httpGet: { port: 8443, path: '/secure', scheme: 'HTTPS' } },
    original: { kind: 'https', port: 8443, path: '/secure' },
  },
  {
    name: 'https, no path',
    probe: { httpGet: { port: 8443, scheme: 'HTTPS' } },
    original: { kind: 'https', port: 8443, path: '' },
  },
  {
    name: 'https, path without a slash',
    probe: { httpGet: { port: 8443, path: 'ready', scheme: 'HTTPS' } },
    original: { kind: 'https', port: 8443, path: 'ready' },
  },
  {
    name: 'https with headers',
    probe: { httpGet: { port: 8443, path: '/s', scheme: 'HTTPS', httpHeaders: headers } },
    original: { kind: 'https', port: 8443, path: '/s', headers },
  },
  {
    name: 'https degraded to a TCP check',
    probe: { httpGet: { port: 9443, path: '/b', scheme: 'HTTPS' }, periodSeconds: 9 },
    original: { kind: 'tcp', port: 9443 },
  },
  { name: 'tcp', probe: { tcpSocket: { port: 5432 } }, original: { kind: 'tcp', port: 5432 } },
  { name: 'tcp, named port', probe: { tcpSocket: { port: 'raw' } }, original: { kind: 'tcp', port: 7000 } },
  { name: 'grpc', probe: { grpc: { port: 9000 } }, original: { kind: 'grpc', port: 9000 } },
  {
    name: 'grpc with a service',
    probe: { grpc: { port: 9000, service: 'health.v1' }, timeoutSeconds: 0 },
    original: { kind: 'grpc', port: 9000, service: 'health.v1' },
  },
];

const PORTS = [
  { name: 'web', containerPort: 8080 },
  { name: 'raw', containerPort: 7000 },
];

function container(type: ProbeType, probe: V1Probe | undefined): V1Container {
  const c: V1Container = { name: 'app', ports: PORTS };
  if (probe !== undefined) c[PROBE_TYPE_INFO[type].field] = probe;
  return c;
}

const cases = SHAPES.flatMap((shape) =>
  PROBE_TYPES.flatMap((type) =>
    [false, true].map((perContainerPath) => ({
      title: `${shape.name}, ${type}${perContainerPath ? ', per-container path' : ''}`,
      shape,
      slot: { type, container: 'app', perContainerPath } satisfies ProbeSlot,
    })),
  ),
);

describe('build → record → compare agree for every original-probe shape', () => {
  it.each(cases)('$title', ({ shape, slot }) => {
    const record = recordProbe(shape.original, slot, 1);
    const live = rewriteProbe(shape.probe, record);
    const c = container(slot.type, live);

    // What is built is what the record says kubelet calls.
    expect(compareProbe(c, slot.type, record)).toBeUndefined();
    // The annotation carries it unchanged, and the decoded record agrees too.
    const raw = formatOriginalProbes({ app: { [slot.type]: record } });
    const parsed = parseOriginalProbes(raw, 'ns/p');
    expect(parsed).toEqual({ status: 'valid', containers: { app: { [slot.type]: record } } });
    if (parsed.status !== 'valid') return;
    const decoded = parsed.containers['app']![slot.type]!;
    expect(compareProbe(c, slot.type, decoded)).toBeUndefined();

    // Kubelet's call goes where the target says; the rest of the probe is the user's.
    const originalPath =
      shape.original.kind === 'http' || shape.original.kind === 'https' ? shape.original.path : '';
    expect(record.rewritten).toEqual(rewrittenTarget(record.kind, originalPath, slot));
    const call = rewrittenHttpGet(record);
    expect({ port: call.port, path: call.path }).toEqual(record.rewritten);
    expect(live.httpGet!.port).toBe(call.port);
    for (const k of Object.keys(shape.probe) as (keyof V1Probe)[]) {
      if (k !== 'httpGet' && k !== 'tcpSocket' && k !== 'grpc') expect(live[k]).toEqual(shape.probe[k]);
    }
    expect(live.tcpSocket).toBeUndefined();
    expect(live.grpc).toBeUndefined();
    // The user's probe object is not modified.
    expect(shape.probe).toEqual(SHAPES.find((s) => s.name === shape.name)!.probe);
  });
});

/** Single changes to the live probe and whether they are drift. */
const MUTATIONS: [string, (g: NonNullable<V1Probe['httpGet']>, r: OriginalProbe) => void, boolean][] = [
  ['port moved', (g) => (g.port = 1), true],
  ['port back to the original target', (g, r) => (g.port = r.port), true],
  ['port as a decimal string', (g) => (g.port = String(g.port)), false],
  ['path changed', (g) => (g.path = '/elsewhere'), true],
  ['scheme HTTPS ↔ HTTP', (g) => (g.scheme = g.scheme === 'HTTPS' ? 'HTTP' : 'HTTPS'), true],
  ['host set', (g) => (g.host = '10.0.0.9'), true],
  [
    'a header added',
    (g) => (g.httpHeaders = [...(g.httpHeaders ?? []), { name: 'X-New', value: 'v' }]),
    true,
  ],
  [
    'a header value changed',
    (g) =>
      (g.httpHeaders = (g.httpHeaders ?? [{ name: 'X-Z', value: 'z' }]).map((h) => ({
        ...h,
        value: `${h.value}!`,
      }))),
    true,
  ],
  [
    'header names in another case',
    (g) => (g.httpHeaders = g.httpHeaders?.map((h) => ({ ...h, name: h.name.toUpperCase() }))),
    false,
  ],
];

describe('any change to what kubelet calls is drift', () => {
  const shapes = SHAPES.map((shape) => {
    const slot: ProbeSlot = { type: 'readiness', container: 'app', perContainerPath: false };
    return { name: shape.name, shape, record: recordProbe(shape.original, slot, 1) };
  });
  const rows = shapes.flatMap(({ name, shape, record }) =>
    MUTATIONS.map(([change, mutate, drift]) => ({
      title: `${name}: ${change}`,
      shape,
      record,
      mutate,
      drift,
    })),
  );

  it.each(rows)('$title', ({ shape, record, mutate, drift }) => {
    const live = structuredClone(rewriteProbe(shape.probe, record));
    const before = JSON.stringify(live);
    mutate(live.httpGet!, record);
    const got = compareProbe(container('readiness', live), 'readiness', record);
    if (JSON.stringify(live) === before) {
      expect(got).toBeUndefined(); // the change changed nothing (e.g. upper-casing no header)
      return;
    }
    expect(got?.kind).toBe(drift ? 'differs' : undefined);
  });

  it.each<[string, string, string, boolean]>([
    ['empty and /', '', '/', true],
    ['no leading slash', 'ready', '/ready', true],
    ['percent-encoded', '/a b/ü', '/a%20b/%C3%BC', true],
    ['a fragment is not sent', '/s#top', '/s', true],
    ['another path', '/s', '/t', false],
    ['a query is part of the target', '/s?x=1', '/s', false],
  ])('an HTTPS probe keeps its path: %s', (_name, original, livePath, same) => {
    expect(keepsHttpsPath(original, livePath)).toBe(same);
    const slot: ProbeSlot = { type: 'startup', container: 'app', perContainerPath: false };
    const record = recordProbe({ kind: 'https', port: 8443, path: original }, slot, 1);
    const live = { httpGet: { port: 15903, path: livePath, scheme: 'HTTPS' } };
    expect(compareProbe(container('startup', live), 'startup', record)?.kind).toBe(
      same ? undefined : 'differs',
    );
  });

  it.each(shapes)('$name: probe removed → missing; another handler → not-http-get', ({ record }) => {
    expect(compareProbe(container('readiness', undefined), 'readiness', record)?.kind).toBe('missing');
    for (const other of [
      { exec: { command: ['true'] } },
      { tcpSocket: { port: 80 } },
      { grpc: { port: 80 } },
      {},
    ]) {
      expect(compareProbe(container('readiness', other), 'readiness', record)?.kind).toBe('not-http-get');
    }
  });
});

describe('drift messages', () => {
  const slot: ProbeSlot = { type: 'liveness', container: 'app', perContainerPath: false };
  const tcp = recordProbe({ kind: 'tcp', port: 5432 }, slot, 1);
  const http = recordProbe({ kind: 'http', port: 8080, path: '/h' }, slot, 1);
  const live = (p: V1Probe): V1Container => ({ name: 'app', livenessProbe: p });

  it.each<[string, V1Container, OriginalProbe, string]>([
    [
      'port and path name both sides',
      live({ httpGet: { port: 8080, path: '/h' } }),
      http,
      'container app livenessProbe targets httpGet port 8080 path "/h", but the annotation records its rewrite to httpGet port 15901 path /fsm-liveness-probe',
    ],
    [
      'a header names the one that differs',
      live({
        httpGet: {
          port: 15904,
          path: '/fsm-healthcheck',
          httpHeaders: [{ name: 'Original-Tcp-Port', value: '5433' }],
        },
      }),
      tcp,
      'container app livenessProbe targets httpGet port 15904 path "/fsm-healthcheck" headers [Original-Tcp-Port: 5433], but the annotation records its rewrite to httpGet port 15904 path /fsm-healthcheck headers [Original-Tcp-Port: 5432]',
    ],
    [
      'scheme',
      live({ httpGet: { port: 15901, path: '/fsm-liveness-probe', scheme: 'HTTPS' } }),
      http,
      'container app livenessProbe targets httpGet port 15901 path "/fsm-liveness-probe" scheme "HTTPS", but the annotation records its rewrite to httpGet port 15901 path /fsm-liveness-probe scheme HTTP',
    ],
    [
      'host',
      live({ httpGet: { port: 15901, path: '/fsm-liveness-probe', host: 'db' } }),
      http,
      'container app livenessProbe targets httpGet port 15901 path "/fsm-liveness-probe" host "db", but the annotation records its rewrite to httpGet port 15901 path /fsm-liveness-probe to the pod itself (no host)',
    ],
  ])('%s', (_name, c, record, message) => {
    expect(compareProbe(c, 'liveness', record)?.message).toBe(message);
  });
});
