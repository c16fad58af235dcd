import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ControllerError, controllerViaServiceProxy } from '../../../../pkg/cli/index.js';
import { parseServiceProxyPath } from '../../../../pkg/sandbox/apiserver/service-proxy.js';
import { startTestApiServer, type TestApiServer } from '../../../support/apiserver.js';

describe('parseServiceProxyPath', () => {
  it.each([
    [
      '/api/v1/namespaces/fsm-system/services/fsm-controller:9091/proxy/debug/proxies',
      { namespace: 'fsm-system', name: 'fsm-controller', port: '9091', path: '/debug/proxies' },
    ],
    ['/api/v1/namespaces/a/services/b/proxy', { namespace: 'a', name: 'b', port: '', path: '/' }],
    [
      '/api/v1/namespaces/a/services/b:http/proxy/x/y',
      { namespace: 'a', name: 'b', port: 'http', path: '/x/y' },
    ],
    ['/api/v1/namespaces/a/services/b', undefined],
    ['/api/v1/namespaces/a/pods/b/proxy/x', undefined],
  ])('%s', (path, want) => expect(parseServiceProxyPath(path)).toEqual(want));
});

describe('services/proxy through the real CLI client', () => {
  let api: TestApiServer;
  let backend: http.Server;
  const seen: string[] = [];

  beforeAll(async () => {
    backend = http.createServer((req, res) => {
      seen.push(req.url ?? '');
      if (req.url?.startsWith('/debug/proxies/ns/missing')) {
        res.writeHead(404, { 'Content-Type': 'text/plain' }).end('no proxy ns/missing');
        return;
      }
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ path: req.url }));
    });
    await new Promise<void>((r) => backend.listen(0, '127.0.0.1', r));
    api = await startTestApiServer();
    await api.server.createObject('namespaces', { metadata: { name: 'fsm-system' } });
    await api.server.createObject('services', {
      metadata: { name: 'fsm-controller', namespace: 'fsm-system' },
      spec: { ports: [{ port: 9091 }] },
    });
    await api.server.createObject('namespaces', { metadata: { name: 'no-endpoints' } });
    await api.server.createObject('services', {
      metadata: { name: 'fsm-controller', namespace: 'no-endpoints' },
      spec: { ports: [{ port: 9091 }] },
    });
    const port = (backend.address() as AddressInfo).port;
    api.server.setServiceProxy((ref) =>
      ref.namespace === 'fsm-system' && ref.name === 'fsm-controller' && ref.port === '9091'
        ? `http://127.0.0.1:${port}`
        : undefined,
    );
  });
  afterAll(async () => {
    await api.stop();
    backend.close();
  });

  it('forwards GET with path and query, and relays the answer', async () => {
    const c = controllerViaServiceProxy(api.kc, 'fsm-system');
    expect(await c.getJson('/debug/proxies?x=1')).toEqual({ path: '/debug/proxies?x=1' });
    expect(seen).toContain('/debug/proxies?x=1');
  });

  it("relays the backend's own 404 (not an API server Status)", async () => {
    const c = controllerViaServiceProxy(api.kc, 'fsm-system');
    const err = await c.getJson('/debug/proxies/ns/missing').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ControllerError);
    expect((err as ControllerError).status).toBe(404);
    expect((err as ControllerError).apiServer).toBe(false);
  });

  it('404 Status when the Service does not exist', async () => {
    const c = controllerViaServiceProxy(api.kc, 'other-ns');
    const err = (await c.getJson('/debug/proxies').catch((e: unknown) => e)) as ControllerError;
    expect(err).toBeInstanceOf(ControllerError);
    expect(err.status).toBe(404);
    expect(err.apiServer).toBe(true);
    expect(err.message).toContain('services "fsm-controller" not found');
  });

  it('503 Status naming the service when it has no endpoint', async () => {
    const c = controllerViaServiceProxy(api.kc, 'no-endpoints');
    const err = (await c.getJson('/debug/proxies').catch((e: unknown) => e)) as ControllerError;
    expect(err).toBeInstanceOf(ControllerError);
    expect(err.status).toBe(503);
    expect(err.apiServer).toBe(true);
    expect(err.message).toContain('no endpoints available for service "fsm-controller:9091"');
  });
});
