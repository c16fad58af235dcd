import { ORIGINAL_PROBES_ANNOTATION } from '../../../pkg/constants/index.js';
import { formatOriginalProbes, parseOriginalProbes } from '../../../pkg/probes/index.js';
import type { OriginalProbesByContainer } from '../../../pkg/probes/index.js';
import { annotationValue, grpc, http, https, originalProbesFor, tcp } from '../../support/pods.js';
import type { ContainerSpec } from '../../support/pods.js';

const POD = 'shop/web-1';
const WHERE = `pod ${POD}: annotation ${ORIGINAL_PROBES_ANNOTATION}: `;

describe('parseOriginalProbes: valid annotations as the injector writes them', () => {
  it.each<[string, ContainerSpec[]]>([
    ['one container HTTP', [{ name: 'app', liveness: http(8080) }]],
    ['HTTPS', [{ name: 'app', readiness: https(8443, '/secure') }]],
    ['HTTPS with empty path (rewritten "/")', [{ name: 'app', readiness: https(8443, '') }]],
    ['TCP', [{ name: 'app', liveness: tcp(5432) }]],
    [
      'gRPC with and without service',
      [
        { name: 'a', liveness: grpc(9000, 'health') },
        { name: 'b', startup: grpc(9001) },
      ],
    ],
    [
      'multi-container same type',
      [
        { name: 'a', liveness: http(80) },
        { name: 'b', liveness: http(81, '/b') },
      ],
    ],
    ['empty path', [{ name: 'app', startup: http(8080, '') }]],
    [
      'named headers',
      [
        {
          name: 'app',
          liveness: http(8080, '/h', {
            headers: [
              { name: 'X-A', value: '1' },
              { name: 'Host', value: 'h' },
            ],
          }),
        },
      ],
    ],
    [
      'all three types, mixed kinds',
      [{ name: 'app', liveness: http(1), readiness: tcp(2), startup: https(3) }],
    ],
    ['path with space and non-ASCII', [{ name: 'app', liveness: http(8080, '/a b/ü') }]],
    ['no probes at all', [{ name: 'app' }]],
  ])('%s', (_name, containers) => {
    const record = originalProbesFor(containers);
    expect(parseOriginalProbes(annotationValue(record), POD)).toEqual({
      status: 'valid',
      containers: record,
    });
  });

  it('normalises: default scheme for http, empty header lists dropped, exact values kept', () => {
    const raw = JSON.stringify({
      v: 1,
      containers: {
        app: {
          liveness: {
            kind: 'http',
            port: 8080,
            path: '/h',
            timeoutSeconds: 0,
            rewritten: { port: 15901, path: '/fsm-liveness-probe' },
          },
          readiness: {
            kind: 'tcp',
            port: 5000,
            timeoutSeconds: 3,
            headers: [],
            rewritten: { port: 15904, path: '/fsm-healthcheck' },
          },
        },
      },
    });
    expect(parseOriginalProbes(raw, POD)).toEqual({
      status: 'valid',
      containers: {
        app: {
          liveness: {
            kind: 'http',
            scheme: 'HTTP',
            port: 8080,
            path: '/h',
            timeoutSeconds: 0,
            rewritten: { port: 15901, path: '/fsm-liveness-probe' },
          },
          readiness: {
            kind: 'tcp',
            port: 5000,
            timeoutSeconds: 3,
            rewritten: { port: 15904, path: '/fsm-healthcheck' },
          },
        },
      },
    });
  });

  it('absent annotation → absent, empty', () => {
    expect(parseOriginalProbes(undefined, POD)).toEqual({ status: 'absent', containers: {} });
  });

  it('formatOriginalProbes output parses back to the same record', () => {
    const record = originalProbesFor([{ name: 'a', liveness: http(80), readiness: grpc(90, 's') }]);
    expect(parseOriginalProbes(formatOriginalProbes(record), POD)).toEqual({
      status: 'valid',
      containers: record,
    });
  });
});

/** A valid record to break one field at a time. */
function base(): any {
  return {
    v: 1,
    containers: {
      app: {
        liveness: {
          kind: 'http',
          scheme: 'HTTP',
          port: 8080,
          path: '/healthz',
          headers: [{ name: 'X-A', value: '1' }],
          timeoutSeconds: 1,
          rewritten: { port: 15901, path: '/fsm-liveness-probe' },
        },
        readiness: {
          kind: 'tcp',
          port: 5432,
          timeoutSeconds: 1,
          rewritten: { port: 15904, path: '/fsm-healthcheck' },
        },
        startup: {
          kind: 'https',
          scheme: 'HTTPS',
          port: 8443,
          path: '/s',
          timeoutSeconds: 1,
          rewritten: { port: 15903, path: '/s' },
        },
      },
      side: {
        liveness: {
          kind: 'grpc',
          port: 9000,
          grpcService: 'svc',
          timeoutSeconds: 1,
          rewritten: { port: 15904, path: '/fsm-healthcheck' },
        },
      },
    },
  };
}

describe('parseOriginalProbes: malformed annotations are rejected with pod, annotation, field and value', () => {
  it('the base record is valid', () => {
    expect(parseOriginalProbes(JSON.stringify(base()), POD).status).toBe('valid');
  });

  it.each<[string, string, string]>([
    ['empty string', '', 'not valid JSON'],
    ['truncated JSON', '{"v":1,"containers":{', 'not valid JSON'],
    ['not JSON at all', 'liveness=8080', 'not valid JSON'],
    ['JSON null', 'null', 'value: must be a JSON object, got null'],
    ['JSON array', '[]', 'value: must be a JSON object, got an array'],
    ['JSON string', '"x"', 'value: must be a JSON object, got "x"'],
  ])('raw %s', (_name, raw, want) => {
    const r = parseOriginalProbes(raw, POD);
    expect(r.status).toBe('invalid');
    if (r.status === 'invalid') expect(r.error).toContain(WHERE + want);
  });

  const L = 'containers["app"].liveness';
  it.each<[string, (a: any) => void, string]>([
    ['no version', (a) => delete a.v, 'v: missing (this controller reads version 1)'],
    ['version 2', (a) => (a.v = 2), 'v: unsupported version 2 (this controller reads version 1)'],
    ['version "1" as a string', (a) => (a.v = '1'), 'v: unsupported version "1"'],
    ['version 0', (a) => (a.v = 0), 'v: unsupported version 0'],
    ['unknown top-level field', (a) => (a.extra = true), 'extra: unknown field'],
    [
      'containers missing',
      (a) => delete a.containers,
      'containers: must be an object keyed by container name, got nothing',
    ],
    [
      'containers an array',
      (a) => (a.containers = []),
      'containers: must be an object keyed by container name, got an array',
    ],
    [
      'container name not a DNS label',
      (a) => (a.containers.App = a.containers.app),
      'containers["App"]: container name must be a DNS-1123 label',
    ],
    [
      'container name with underscore',
      (a) => (a.containers.a_b = {}),
      'containers["a_b"]: container name must be a DNS-1123 label',
    ],
    [
      'container value not an object',
      (a) => (a.containers.app = 5),
      'containers["app"]: must be an object keyed by probe type, got 5',
    ],
    [
      'unknown probe type',
      (a) => (a.containers.app.lively = a.containers.app.liveness),
      'containers["app"].lively: unknown probe type (one of liveness, readiness, startup)',
    ],
    [
      'probe not an object',
      (a) => (a.containers.app.liveness = 'http'),
      `${L}: must be an object, got "http"`,
    ],
    ['unknown probe field', (a) => (a.containers.app.liveness.portt = 1), `${L}.portt: unknown field`],
    [
      'unknown kind',
      (a) => (a.containers.app.liveness.kind = 'exec'),
      `${L}.kind: must be one of http, https, tcp, grpc, got "exec"`,
    ],
    [
      'missing kind',
      (a) => delete a.containers.app.liveness.kind,
      `${L}.kind: must be one of http, https, tcp, grpc, got nothing`,
    ],
    ['port 0', (a) => (a.containers.app.liveness.port = 0), `${L}.port: must be an integer 1-65535, got 0`],
    [
      'port 65536',
      (a) => (a.containers.app.liveness.port = 65536),
      `${L}.port: must be an integer 1-65535, got 65536`,
    ],
    [
      'port as a string',
      (a) => (a.containers.app.liveness.port = '8080'),
      `${L}.port: must be an integer 1-65535, got "8080"`,
    ],
    [
      'named port left unresolved',
      (a) => (a.containers.app.liveness.port = 'http'),
      `${L}.port: must be an integer 1-65535, got "http"`,
    ],
    [
      'port fractional',
      (a) => (a.containers.app.liveness.port = 80.5),
      `${L}.port: must be an integer 1-65535, got 80.5`,
    ],
    [
      'negative timeout',
      (a) => (a.containers.app.liveness.timeoutSeconds = -1),
      `${L}.timeoutSeconds: must be an integer 0-2147483647, got -1`,
    ],
    [
      'timeout missing',
      (a) => delete a.containers.app.liveness.timeoutSeconds,
      `${L}.timeoutSeconds: must be an integer 0-2147483647, got nothing`,
    ],
    [
      'timeout as "1s"',
      (a) => (a.containers.app.liveness.timeoutSeconds = '1s'),
      `${L}.timeoutSeconds: must be an integer 0-2147483647, got "1s"`,
    ],
    [
      'scheme HTTPS on kind http',
      (a) => (a.containers.app.liveness.scheme = 'HTTPS'),
      `${L}.scheme: must be HTTP for kind http, got "HTTPS"`,
    ],
    [
      'scheme lower-case',
      (a) => (a.containers.app.liveness.scheme = 'http'),
      `${L}.scheme: must be HTTP for kind http, got "http"`,
    ],
    [
      'scheme on tcp',
      (a) => (a.containers.app.readiness.scheme = 'HTTP'),
      'containers["app"].readiness.scheme: not allowed for kind tcp',
    ],
    [
      'path missing on http',
      (a) => delete a.containers.app.liveness.path,
      `${L}.path: must be a string, got nothing`,
    ],
    ['path a number', (a) => (a.containers.app.liveness.path = 1), `${L}.path: must be a string, got 1`],
    [
      'path with CR LF',
      (a) => (a.containers.app.liveness.path = '/h\r\nX: y'),
      `${L}.path: must not contain control characters, got "/h\\r\\nX: y"`,
    ],
    [
      'path on tcp',
      (a) => (a.containers.app.readiness.path = '/'),
      'containers["app"].readiness.path: not allowed for kind tcp',
    ],
    [
      'headers not an array',
      (a) => (a.containers.app.liveness.headers = { 'X-A': '1' }),
      `${L}.headers: must be an array of {name, value}, got an object`,
    ],
    [
      'header not an object',
      (a) => (a.containers.app.liveness.headers = ['X-A: 1']),
      `${L}.headers[0]: must be an object {name, value}, got "X-A: 1"`,
    ],
    [
      'header name with space',
      (a) => (a.containers.app.liveness.headers[0].name = 'X A'),
      `${L}.headers[0].name: must be an HTTP header name (token characters), got "X A"`,
    ],
    [
      'header name empty',
      (a) => (a.containers.app.liveness.headers[0].name = ''),
      `${L}.headers[0].name: must be an HTTP header name`,
    ],
    [
      'pseudo-header',
      (a) => (a.containers.app.liveness.headers[0].name = ':path'),
      `${L}.headers[0].name: must be an HTTP header name (token characters), got ":path"`,
    ],
    [
      'header value with newline',
      (a) => (a.containers.app.liveness.headers[0].value = 'a\nb'),
      `${L}.headers[0].value: must be a string without control characters, got "a\\nb"`,
    ],
    [
      'header value a number',
      (a) => (a.containers.app.liveness.headers[0].value = 1),
      `${L}.headers[0].value: must be a string without control characters, got 1`,
    ],
    [
      'header extra field',
      (a) => (a.containers.app.liveness.headers[0].append = true),
      `${L}.headers[0].append: unknown field`,
    ],
    [
      'headers on tcp',
      (a) => (a.containers.app.readiness.headers = [{ name: 'a', value: 'b' }]),
      'containers["app"].readiness.headers: not allowed for kind tcp',
    ],
    [
      'grpcService on http',
      (a) => (a.containers.app.liveness.grpcService = 's'),
      `${L}.grpcService: only for kind grpc, not http`,
    ],
    [
      'grpcService not a string',
      (a) => (a.containers.side.liveness.grpcService = 5),
      'containers["side"].liveness.grpcService: must be a string without control characters, got 5',
    ],
    [
      'rewritten missing',
      (a) => delete a.containers.app.liveness.rewritten,
      `${L}.rewritten: must be an object {port, path}, got nothing`,
    ],
    [
      'rewritten wrong port',
      (a) => (a.containers.app.liveness.rewritten.port = 15902),
      `${L}.rewritten.port: must be 15901 for a http liveness probe, got 15902`,
    ],
    [
      'rewritten wrong path',
      (a) => (a.containers.app.liveness.rewritten.path = '/healthz'),
      `${L}.rewritten.path: must be /fsm-liveness-probe or /fsm-liveness-probe/app, got "/healthz"`,
    ],
    [
      'rewritten path of another container',
      (a) => (a.containers.app.liveness.rewritten.path = '/fsm-liveness-probe/web'),
      `${L}.rewritten.path: must be /fsm-liveness-probe or /fsm-liveness-probe/app`,
    ],
    [
      'rewritten path of another type',
      (a) => (a.containers.app.liveness.rewritten.path = '/fsm-readiness-probe'),
      `${L}.rewritten.path: must be /fsm-liveness-probe`,
    ],
    [
      'rewritten extra field',
      (a) => (a.containers.app.liveness.rewritten.scheme = 'HTTP'),
      `${L}.rewritten.scheme: unknown field`,
    ],
    [
      'tcp rewritten to a probe port',
      (a) => (a.containers.app.readiness.rewritten.port = 15902),
      'containers["app"].readiness.rewritten.port: must be 15904 for a tcp readiness probe, got 15902',
    ],
    [
      'tcp rewritten path',
      (a) => (a.containers.app.readiness.rewritten.path = '/x'),
      'containers["app"].readiness.rewritten.path: must be /fsm-healthcheck for a tcp probe, got "/x"',
    ],
    [
      'https path changed',
      (a) => (a.containers.app.startup.rewritten.path = '/fsm-startup-probe'),
      'containers["app"].startup.rewritten.path: an HTTPS probe keeps its path "/s", got "/fsm-startup-probe"',
    ],
    [
      'https scheme HTTP',
      (a) => (a.containers.app.startup.scheme = 'HTTP'),
      'containers["app"].startup.scheme: must be HTTPS for kind https, got "HTTP"',
    ],
  ])('%s', (_name, mutate, want) => {
    const a = base();
    mutate(a);
    const r = parseOriginalProbes(JSON.stringify(a), POD);
    expect(r.status).toBe('invalid');
    if (r.status === 'invalid') expect(r.error).toContain(WHERE + want);
  });

  it('long values are shortened in messages', () => {
    const a = base();
    a.containers.app.liveness.kind = 'x'.repeat(500);
    const r = parseOriginalProbes(JSON.stringify(a), POD);
    expect(r.status === 'invalid' && r.error.length < 300 && r.error.includes('...')).toBe(true);
  });

  it('never throws on arbitrary JSON shapes', () => {
    const shapes: unknown[] = [
      0,
      true,
      {},
      { v: 1 },
      { v: 1, containers: { a: null } },
      { v: 1, containers: { a: { liveness: null } } },
      { v: 1, containers: { a: { liveness: { kind: 'http', rewritten: null } } } },
      { v: 1, containers: { ['__proto__']: {} } },
      { v: 1, containers: { a: { liveness: { kind: 'grpc', port: 1, timeoutSeconds: 1, rewritten: [] } } } },
    ];
    for (const s of shapes) {
      const r = parseOriginalProbes(JSON.stringify(s), POD);
      expect(['invalid', 'valid']).toContain(r.status);
    }
    const proto = parseOriginalProbes('{"v":1,"containers":{"__proto__":{"liveness":{}}}}', POD);
    expect(proto.status).toBe('invalid');
  });

  it('an empty containers object is valid (nothing rewritten)', () => {
    const empty: OriginalProbesByContainer = {};
    expect(parseOriginalProbes('{"v":1,"containers":{}}', POD)).toEqual({
      status: 'valid',
      containers: empty,
    });
  });
});
