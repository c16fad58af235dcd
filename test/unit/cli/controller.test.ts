/** The controller debug client against real HTTP servers on 127.0.0.1, and listenerNames. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { ControllerError, controllerViaServiceProxy } from '../../../pkg/cli/index.js';
import { controllerAtUrl, listenerNames, proxyDebugPath } from '../../../pkg/cli/controller.js';

interface Seen {
  url: string;
  auth: string | undefined;
  accept: string | undefined;
}

let server: http.Server;
let base: string;
const seen: Seen[] = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    seen.push({ url: req.url ?? '', auth: req.headers.authorization, accept: req.headers.accept });
    const path = (req.url ?? '').replace(/^\/api\/v1\/namespaces\/[^/]+\/services\/[^/]+\/proxy/, '');
    switch (path) {
      case '/debug/proxies/ns/ok':
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end('{"resources":{"listeners":[{"name":"a"}]}}');
        return;
      case '/debug/proxies/ns/text':
        res.writeHead(200).end('hello');
        return;
      case '/debug/proxies/ns/boom':
        res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":"catalog not synced"}');
        return;
      case '/debug/proxies/ns/status':
        res
          .writeHead(503, { 'content-type': 'application/json' })
          .end(
            '{"kind":"Status","apiVersion":"v1","status":"Failure","message":"no endpoints available for service \\"fsm-controller:9091\\"","code":503}',
          );
        return;
      case '/debug/proxies/ns/slow':
        return; // never answers
      default:
        res.writeHead(404).end(`no proxy at ${path}`);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

async function failure(p: Promise<unknown>): Promise<ControllerError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof ControllerError) return e;
    throw e;
  }
  throw new Error('expected a ControllerError');
}

describe('controllerAtUrl', () => {
  it('returns the parsed JSON', async () => {
    const c = controllerAtUrl(base + '/');
    expect(c.where).toBe(base);
    expect(await c.getJson(proxyDebugPath('ns', 'ok'))).toEqual({
      resources: { listeners: [{ name: 'a' }] },
    });
    expect(seen.at(-1)).toEqual({ url: '/debug/proxies/ns/ok', auth: undefined, accept: 'application/json' });
  });

  it('reports status, body and whether the API server answered', async () => {
    const c = controllerAtUrl(base);
    const missing = await failure(c.getJson(proxyDebugPath('ns', 'nope')));
    expect([missing.status, missing.apiServer, missing.message]).toEqual([
      404,
      false,
      `${base}: GET /debug/proxies/ns/nope: 404 no proxy at /debug/proxies/ns/nope`,
    ]);
    const boom = await failure(c.getJson(proxyDebugPath('ns', 'boom')));
    expect(boom.message).toBe(`${base}: GET /debug/proxies/ns/boom: 500 catalog not synced`);
    const status = await failure(c.getJson(proxyDebugPath('ns', 'status')));
    expect([status.status, status.apiServer]).toEqual([503, true]);
    expect(status.message).toContain('503 no endpoints available for service "fsm-controller:9091"');
    const text = await failure(c.getJson(proxyDebugPath('ns', 'text')));
    expect(text.message).toBe(`${base}: GET /debug/proxies/ns/text: the answer is not JSON: hello`);
  });

  it('gives up after its timeout and says so', async () => {
    const err = await failure(controllerAtUrl(base, 200).getJson(proxyDebugPath('ns', 'slow')));
    expect(err.message).toBe(`${base}: GET /debug/proxies/ns/slow: no answer within 200 ms`);
    expect(err.status).toBeUndefined();
  });

  it('encodes the namespace and pod into the path', () => {
    expect(proxyDebugPath('a b', 'c/d')).toBe('/debug/proxies/a%20b/c%2Fd');
  });
});

describe('controllerViaServiceProxy', () => {
  it('goes through /api/v1/namespaces/<ns>/services/fsm-controller:9091/proxy with the credentials', async () => {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'c', server: base, skipTLSVerify: true }],
      users: [{ name: 'u', token: 'sekret' }],
      contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
      currentContext: 'x',
    });
    const c = controllerViaServiceProxy(kc, 'mesh-ns');
    expect(c.where).toBe('service mesh-ns/fsm-controller:9091 through the API server');
    expect(await c.getJson(proxyDebugPath('ns', 'ok'))).toEqual({
      resources: { listeners: [{ name: 'a' }] },
    });
    expect(seen.at(-1)).toEqual({
      url: '/api/v1/namespaces/mesh-ns/services/fsm-controller:9091/proxy/debug/proxies/ns/ok',
      auth: 'Bearer sekret',
      accept: 'application/json',
    });
  });
});

describe('listenerNames', () => {
  it.each<[string, unknown, string[] | undefined]>([
    ['DesiredProxy shape', { resources: { listeners: [{ name: 'a' }, { name: 'b' }] } }, ['a', 'b']],
    ['flat listeners', { listeners: [{ name: 'x' }] }, ['x']],
    ['skips entries without a string name', { listeners: [{ name: 1 }, null, 'x', { name: 'ok' }] }, ['ok']],
    ['empty list', { resources: { listeners: [] } }, []],
    ['no list', { probes: {} }, undefined],
    ['not an object', 'listeners', undefined],
    ['null', null, undefined],
  ])('%s', (_n, config, want) => {
    expect(listenerNames(config)).toEqual(want);
  });
});
