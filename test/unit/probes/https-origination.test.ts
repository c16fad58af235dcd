/**
 * Issue 19 item 1 through the probe contract: an HTTPS probe whose TLS the proxy originates (every
 * HTTPS probe of a type but the first) is called over plain HTTP at a per-container path; the record
 * says so (`tls: "originate"`), survives the annotation, and compares equal to what was built. The
 * first HTTPS probe of a type keeps the seed's passthrough rule.
 */
import type { V1Container, V1Probe } from '@kubernetes/client-node';
import { PROBE_TYPES, PROBE_TYPE_INFO, type ProbeType } from '../../../pkg/constants/index.js';
import {
  compareProbe,
  formatOriginalProbes,
  originatesTls,
  parseOriginalProbes,
  passesTlsThrough,
  recordProbe,
  rewriteProbe,
  rewrittenHttpGet,
} from '../../../pkg/probes/index.js';

const headers = [{ name: 'X-Probe', value: 'tls' }];

const shapes: { name: string; probe: V1Probe; path: string }[] = [
  {
    name: 'path and headers',
    probe: { httpGet: { port: 9443, path: '/b', scheme: 'HTTPS', httpHeaders: headers } },
    path: '/b',
  },
  { name: 'no path', probe: { httpGet: { port: 9443, scheme: 'HTTPS' } }, path: '' },
  {
    name: 'query',
    probe: { httpGet: { port: 9443, path: '/ready?deep=1', scheme: 'HTTPS' }, periodSeconds: 4 },
    path: '/ready?deep=1',
  },
];

const rows = shapes.flatMap((s) =>
  PROBE_TYPES.map((type) => ({ title: `${s.name}, ${type}`, shape: s, type })),
);

function container(type: ProbeType, probe: V1Probe): V1Container {
  return { name: 'b', [PROBE_TYPE_INFO[type].field]: probe };
}

describe('HTTPS with TLS origination: build → record → compare agree', () => {
  it.each(rows)('$title', ({ shape, type }) => {
    const original = {
      kind: 'https' as const,
      port: 9443,
      path: shape.path,
      ...(shape.probe.httpGet!.httpHeaders ? { headers } : {}),
    };
    const record = recordProbe(
      original,
      { type, container: 'b', perContainerPath: false, tls: 'originate' },
      1,
    );
    expect(originatesTls(record)).toBe(true);
    expect(passesTlsThrough(record)).toBe(false);
    const info = PROBE_TYPE_INFO[type];
    expect(record.rewritten).toEqual({ port: info.port, path: `${info.path}/b` });
    // Kubelet calls the listener over plain HTTP at the container's own path, headers kept.
    expect(rewrittenHttpGet(record)).toEqual({
      port: info.port,
      path: `${info.path}/b`,
      scheme: 'HTTP',
      ...(original.headers ? { httpHeaders: headers } : {}),
    });
    const live = rewriteProbe(shape.probe, record);
    expect(live.httpGet).toEqual({
      ...shape.probe.httpGet,
      port: info.port,
      path: `${info.path}/b`,
      scheme: 'HTTP',
    });
    expect(live.periodSeconds).toBe(shape.probe.periodSeconds);
    expect(compareProbe(container(type, live), type, record)).toBeUndefined();
    // The annotation carries the rule; the decoded record compares the same.
    const parsed = parseOriginalProbes(formatOriginalProbes({ b: { [type]: record } }), 'ns/p');
    expect(parsed).toEqual({ status: 'valid', containers: { b: { [type]: record } } });
    // The probe as first written (HTTPS on the app port) is drift: kubelet would not reach the proxy.
    expect(compareProbe(container(type, shape.probe), type, record)?.kind).toBe('differs');
    // Scheme HTTPS on the rewritten port is drift too: the listener expects plain HTTP there.
    const tls = { ...live, httpGet: { ...live.httpGet!, scheme: 'HTTPS' } };
    expect(compareProbe(container(type, tls), type, record)?.message).toContain('scheme "HTTPS"');
  });

  it('the first HTTPS probe of a type still passes its TLS through (the seed rule)', () => {
    const record = recordProbe(
      { kind: 'https', port: 8443, path: '/a' },
      { type: 'liveness', container: 'a', perContainerPath: false },
      1,
    );
    expect(passesTlsThrough(record)).toBe(true);
    expect(record.rewritten).toEqual({ port: 15901, path: '/a' });
    expect(rewrittenHttpGet(record).scheme).toBe('HTTPS');
  });
});

describe('the decoder checks the TLS-origination rule', () => {
  const base = (): any => ({
    v: 1,
    containers: {
      b: {
        readiness: {
          kind: 'https',
          scheme: 'HTTPS',
          port: 9443,
          path: '/b',
          timeoutSeconds: 1,
          tls: 'originate',
          rewritten: { port: 15902, path: '/fsm-readiness-probe/b' },
        },
      },
    },
  });
  const R = 'containers["b"].readiness';

  it('the base record is valid', () => {
    expect(parseOriginalProbes(JSON.stringify(base()), 'ns/p').status).toBe('valid');
  });

  it.each<[string, (a: any) => void, string]>([
    [
      'tls on http',
      (a) => Object.assign(a.containers.b.readiness, { kind: 'http', scheme: 'HTTP' }),
      `${R}.tls: only for kind https, not http`,
    ],
    [
      'tls on tcp',
      (a) => {
        a.containers.b.readiness = {
          kind: 'tcp',
          port: 1,
          timeoutSeconds: 1,
          tls: 'originate',
          rewritten: { port: 15904, path: '/fsm-healthcheck' },
        };
      },
      `${R}.tls: only for kind https, not tcp`,
    ],
    [
      'tls another value',
      (a) => (a.containers.b.readiness.tls = 'passthrough'),
      `${R}.tls: must be "originate" (or absent), got "passthrough"`,
    ],
    [
      'originated path of another container',
      (a) => (a.containers.b.readiness.rewritten.path = '/fsm-readiness-probe/a'),
      `${R}.rewritten.path: must be /fsm-readiness-probe/b for an HTTPS readiness probe the proxy speaks TLS for, got "/fsm-readiness-probe/a"`,
    ],
    [
      'originated but the path kept (passthrough form)',
      (a) => (a.containers.b.readiness.rewritten.path = '/b'),
      `${R}.rewritten.path: must be /fsm-readiness-probe/b`,
    ],
    [
      "originated on another type's port",
      (a) => (a.containers.b.readiness.rewritten.port = 15901),
      `${R}.rewritten.port: must be 15902 for a https readiness probe, got 15901`,
    ],
  ])('%s', (_name, mutate, want) => {
    const a = base();
    mutate(a);
    const r = parseOriginalProbes(JSON.stringify(a), 'ns/p');
    expect(r.status).toBe('invalid');
    if (r.status === 'invalid') expect(r.error).toContain(want);
  });
});
