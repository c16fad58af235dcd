/** Envoy routing rules of the probe agent: table tests of the pure functions. */
import type { HeaderMutations, RouteModel, VirtualHostModel } from '../../../../pkg/sandbox/agent/model.js';
import {
  applyHeaderMutations,
  endToEndHeaders,
  pathOnly,
  re2Substitution,
  rewriteRequestTarget,
  routeMatches,
  selectRoute,
  selectVirtualHost,
  type HeaderMap,
} from '../../../../pkg/sandbox/agent/routing.js';

const NO_HEADERS: HeaderMutations = { add: [], remove: [] };

function vh(name: string, ...domains: string[]): VirtualHostModel {
  return { name, domains, routes: [], headers: NO_HEADERS };
}

function route(
  match: RouteModel['match'],
  extra: Partial<Extract<RouteModel['action'], { kind: 'forward' }>> = {},
): RouteModel {
  return {
    name: 'r',
    match,
    action: { kind: 'forward', cluster: 'c', timeoutMs: 1000, ...extra },
    headers: NO_HEADERS,
  };
}

const exact = (value: string, caseSensitive = true): RouteModel['match'] => ({
  kind: 'path',
  value,
  caseSensitive,
});
const prefix = (value: string, caseSensitive = true): RouteModel['match'] => ({
  kind: 'prefix',
  value,
  caseSensitive,
});
const regex = (source: string): RouteModel['match'] => ({
  kind: 'regex',
  regex: new RegExp(`^(?:${source})$`, 'u'),
  source,
});

describe('selectVirtualHost', () => {
  const hosts = [
    vh('exact', 'api.example.com', 'api.example.com:8080'),
    vh('suffix', '*.example.com'),
    vh('longer-suffix', '*.svc.example.com'),
    vh('prefix', 'api.*'),
    vh('any', '*'),
  ];
  test.each([
    ['api.example.com', 'exact'],
    ['API.Example.com', 'exact'],
    ['api.example.com:8080', 'exact'],
    ['www.example.com', 'suffix'],
    ['a.svc.example.com', 'longer-suffix'],
    ['api.other.org', 'prefix'],
    ['127.0.5.1:15901', 'any'],
    ['', 'any'],
    [undefined, 'any'],
    ['example.com', 'any'], // '*.example.com' needs something before the suffix
  ])('%s → %s', (host, expected) => {
    expect(selectVirtualHost(hosts, host)?.name).toBe(expected);
  });

  test('no matching domain and no "*": no virtual host (404)', () => {
    expect(selectVirtualHost([vh('only', 'a.b')], 'c.d')).toBeUndefined();
  });
});

describe('route matching (query string ignored)', () => {
  test.each([
    [exact('/fsm-liveness-probe'), '/fsm-liveness-probe', true],
    [exact('/fsm-liveness-probe'), '/fsm-liveness-probe?x=1', true],
    [exact('/fsm-liveness-probe'), '/fsm-liveness-probe#frag', true],
    [exact('/fsm-liveness-probe'), '/fsm-liveness-probe/', false],
    [exact('/fsm-liveness-probe'), '/fsm-liveness-probeX', false],
    [exact('/fsm-liveness-probe'), '/FSM-liveness-probe', false],
    [exact('/fsm-liveness-probe', false), '/FSM-Liveness-Probe', true],
    [prefix('/api'), '/api/v1', true],
    [prefix('/api'), '/apix', true],
    [prefix('/api'), '/ap', false],
    [prefix('/API', false), '/api/x', true],
    [prefix('/'), '/anything', true],
    [regex('/v[0-9]+/health'), '/v12/health', true],
    [regex('/v[0-9]+/health'), '/v12/health?full', true],
    [regex('/v[0-9]+/health'), '/x/v12/health', false],
    [regex('/v[0-9]+/health'), '/v12/healthz', false],
  ])('%o on %s → %s', (match, target, expected) => {
    expect(routeMatches(route(match), target)).toBe(expected);
  });

  test('the first matching route wins, in configuration order', () => {
    const routes = [
      { ...route(prefix('/a')), name: 'first' },
      { ...route(exact('/a/b')), name: 'second' },
    ];
    expect(selectRoute(routes, '/a/b')?.name).toBe('first');
    expect(selectRoute(routes, '/b')).toBeUndefined();
  });

  test.each([
    ['/a?b', '/a'],
    ['/a#b', '/a'],
    ['/a', '/a'],
    ['/', '/'],
    ['/a?b#c', '/a'],
  ])('pathOnly(%s) = %s', (t, p) => expect(pathOnly(t)).toBe(p));
});

describe('rewriteRequestTarget', () => {
  test.each([
    // Exact match + prefix_rewrite: the whole path replaced, the query string kept.
    [exact('/fsm-liveness-probe'), { prefixRewrite: '/healthz' }, '/fsm-liveness-probe', '/healthz'],
    [exact('/fsm-liveness-probe'), { prefixRewrite: '/healthz' }, '/fsm-liveness-probe?a=1', '/healthz?a=1'],
    [exact('/fsm-liveness-probe'), { prefixRewrite: '/' }, '/fsm-liveness-probe', '/'],
    // The original probe path may carry its own query string.
    [
      exact('/fsm-readiness-probe'),
      { prefixRewrite: '/health?full=1' },
      '/fsm-readiness-probe',
      '/health?full=1',
    ],
    [exact('/fsm-liveness-probe', false), { prefixRewrite: '/h' }, '/FSM-LIVENESS-PROBE', '/h'],
    // Prefix match: only the prefix is replaced.
    [prefix('/old/'), { prefixRewrite: '/new/' }, '/old/a/b?x', '/new/a/b?x'],
    [prefix('/old'), { prefixRewrite: '/' }, '/old', '/'],
    // No rewrite: unchanged.
    [exact('/p'), {}, '/p?q', '/p?q'],
  ])('%o %o: %s → %s', (match, extra, target, expected) => {
    expect(rewriteRequestTarget(route(match, extra), target)).toBe(expected);
  });

  test.each([
    ['^/v([0-9]+)/(.*)$', '/api/\\1/\\2', '/v2/health?x=1', '/api/2/health?x=1'],
    ['o', '0', '/foo/boo', '/f00/b00'],
    ['^/fsm-liveness-probe$', '/health$', '/fsm-liveness-probe', '/health$'],
  ])('regex_rewrite %s → %s on %s = %s', (pattern, substitution, target, expected) => {
    const r = route(regex('.*'), { regexRewrite: { regex: new RegExp(pattern, 'gu'), substitution } });
    expect(rewriteRequestTarget(r, target)).toBe(expected);
    // Stateless across calls (global regexes keep lastIndex).
    expect(rewriteRequestTarget(r, target)).toBe(expected);
  });

  test.each([
    ['\\1', '$1'],
    ['a$b', 'a$$b'],
    ['\\1-\\2', '$1-$2'],
    ['plain', 'plain'],
  ])('re2Substitution(%s) = %s', (a, b) => expect(re2Substitution(a)).toBe(b));
});

describe('applyHeaderMutations', () => {
  const add = (
    key: string,
    value: string,
    action: HeaderMutations['add'][number]['action'],
  ): HeaderMutations => ({
    add: [{ key, value, action }],
    remove: [],
  });
  test.each<[HeaderMap, HeaderMutations[], HeaderMap]>([
    [{}, [add('x', '1', 'APPEND_IF_EXISTS_OR_ADD')], { x: '1' }],
    [{ x: '0' }, [add('x', '1', 'APPEND_IF_EXISTS_OR_ADD')], { x: ['0', '1'] }],
    [{ x: ['0', '1'] }, [add('x', '2', 'APPEND_IF_EXISTS_OR_ADD')], { x: ['0', '1', '2'] }],
    [{}, [add('x', '1', 'ADD_IF_ABSENT')], { x: '1' }],
    [{ x: '0' }, [add('x', '1', 'ADD_IF_ABSENT')], { x: '0' }],
    [{}, [add('x', '1', 'OVERWRITE_IF_EXISTS_OR_ADD')], { x: '1' }],
    [{ x: ['0', '9'] }, [add('x', '1', 'OVERWRITE_IF_EXISTS_OR_ADD')], { x: '1' }],
    [{}, [add('x', '1', 'OVERWRITE_IF_EXISTS')], {}],
    [{ x: '0' }, [add('x', '1', 'OVERWRITE_IF_EXISTS')], { x: '1' }],
    [{ x: '0', y: '1' }, [{ add: [], remove: ['x'] }], { y: '1' }],
    // Removal of a level comes before its additions.
    [
      { x: '0' },
      [{ add: [{ key: 'x', value: '1', action: 'APPEND_IF_EXISTS_OR_ADD' }], remove: ['x'] }],
      { x: '1' },
    ],
    // Levels in order: the last (least specific) one wins.
    [
      {},
      [add('x', 'route', 'OVERWRITE_IF_EXISTS_OR_ADD'), add('x', 'vhost', 'OVERWRITE_IF_EXISTS_OR_ADD')],
      { x: 'vhost' },
    ],
  ])('%o + %o → %o', (headers, levels, expected) => {
    expect(applyHeaderMutations({ ...headers }, levels)).toEqual(expected);
  });
});

describe('endToEndHeaders', () => {
  test.each<[Record<string, string | string[] | undefined>, HeaderMap]>([
    [
      { host: 'a', 'user-agent': 'kube-probe/1.34', accept: '*/*' },
      { host: 'a', 'user-agent': 'kube-probe/1.34', accept: '*/*' },
    ],
    [{ connection: 'close', 'keep-alive': 'timeout=5', te: 'trailers', upgrade: 'h2c', x: '1' }, { x: '1' }],
    [{ connection: 'X-Secret, keep-alive', 'x-secret': 's', y: '2' }, { y: '2' }],
    [{ 'transfer-encoding': 'chunked', 'content-length': undefined, z: ['1', '2'] }, { z: ['1', '2'] }],
  ])('%o → %o', (input, expected) => {
    expect(endToEndHeaders(input)).toEqual(expected);
  });
});
