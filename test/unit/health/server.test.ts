import { Registry, Counter } from 'prom-client';
import { Lifecycle } from '../../../pkg/ads/index.js';
import { createHealthServer, type HealthServer } from '../../../pkg/health/index.js';
import { silentLogger } from '../../../pkg/logger/index.js';
import { httpRequest } from '../../support/net.js';

describe('health server (:9091) over HTTP', () => {
  let server: HealthServer;
  let base: string;
  const lifecycle = new Lifecycle();
  let synced = false;

  beforeAll(async () => {
    const registry = new Registry();
    new Counter({ name: 'fsm_test_total', help: 'a test counter', registers: [registry] }).inc(3);
    server = createHealthServer({
      lifecycle,
      checks: [
        {
          name: 'informer pods',
          check: () => (synced ? { ok: true } : { ok: false, reason: 'not synced yet' }),
        },
      ],
      registry,
      version: '1.2.3',
      logger: silentLogger(),
      routes: (app) => app.get('/debug/proxies', (_req, res) => res.json([{ pod: 'a' }])),
    });
    const addr = await server.listen(0, '127.0.0.1');
    base = `http://127.0.0.1:${addr.port}`;
  });
  afterAll(() => server.close());

  it('follows the lifecycle: starting → serving (+ synced) → draining', async () => {
    let alive = await httpRequest(base + '/health/alive');
    expect([alive.status, alive.body]).toEqual([503, 'Service is not alive: ADS server is starting']);

    lifecycle.transition('serving');
    alive = await httpRequest(base + '/health/alive');
    expect([alive.status, alive.body]).toEqual([200, 'Service is alive']);
    let ready = await httpRequest(base + '/health/ready');
    expect([ready.status, ready.body]).toEqual([503, 'Service is not ready: informer pods: not synced yet']);

    synced = true;
    ready = await httpRequest(base + '/health/ready');
    expect([ready.status, ready.body]).toEqual([200, 'Service is ready']);
    expect(ready.headers['content-type']).toMatch(/^text\/plain/);

    lifecycle.transition('draining');
    ready = await httpRequest(base + '/health/ready');
    expect([ready.status, ready.body]).toEqual([503, 'Service is not ready: ADS server is draining']);
    alive = await httpRequest(base + '/health/alive');
    expect(alive.status).toBe(200);

    server.markFatal('informer crashed');
    alive = await httpRequest(base + '/health/alive');
    expect([alive.status, alive.body]).toEqual([503, 'Service is not alive: fatal error: informer crashed']);
  });

  it('serves /metrics from the given registry, /version, mounted routes, and 404s the rest', async () => {
    const metrics = await httpRequest(base + '/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.body).toContain('fsm_test_total 3');
    const version = await httpRequest(base + '/version');
    expect(JSON.parse(version.body)).toMatchObject({ version: '1.2.3' });
    expect(JSON.parse((await httpRequest(base + '/debug/proxies')).body)).toEqual([{ pod: 'a' }]);
    const missing = await httpRequest(base + '/nope');
    expect([missing.status, missing.body]).toEqual([404, 'not found: GET /nope']);
  });

  it('names the port when it is in use', async () => {
    const port = Number(new URL(base).port);
    const other = createHealthServer({
      lifecycle,
      checks: [],
      registry: new Registry(),
      version: 'x',
      logger: silentLogger(),
    });
    await expect(other.listen(port, '127.0.0.1')).rejects.toThrow(`health port ${port} is already in use`);
  });
});
