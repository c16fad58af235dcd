import https from 'node:https';
import net from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';
import { createCA } from '../../../../pkg/tls/index.js';
import {
  startWorkload,
  workloadKindForImage,
  type Workload,
} from '../../../../pkg/sandbox/workloads/index.js';
import { closedPort, httpRequest } from '../../../support/net.js';

// A pod address other than 127.0.0.1: the sandbox gives each pod its own loopback address.
const HOST = '127.0.9.21';

describe('workloadKindForImage', () => {
  it.each([
    ['fsm-sandbox/http-app', 'http'],
    ['fsm-sandbox/https-app:v1', 'https'],
    ['fsm-sandbox/tcp-app@sha256:abc', 'tcp'],
    ['fsm-sandbox/grpc-app:latest', 'grpc'],
    ['nginx:1.27', 'http'],
    ['flomesh/bookstore:v1', 'http'],
    [undefined, 'http'],
  ])('%s → %s', (image, kind) => expect(workloadKindForImage(image)).toBe(kind));
});

describe('sandbox workloads on a pod address', () => {
  const started: Workload[] = [];
  afterEach(async () => {
    for (const w of started.splice(0)) await w.stop();
  });

  it('http: 200 echoing container and path, 503 when unhealthy or under /fail', async () => {
    const port = await closedPort();
    const w = await startWorkload({ kind: 'http', host: HOST, ports: [port], name: 'bookstore' });
    started.push(w);
    const url = `http://${HOST}:${port}`;
    expect(await httpRequest(url + '/healthz')).toMatchObject({
      status: 200,
      body: 'bookstore ok /healthz\n',
    });
    expect((await httpRequest(url + '/fail/liveness')).status).toBe(503);
    await w.setHealthy(false);
    expect(await httpRequest(url + '/healthz')).toMatchObject({
      status: 503,
      body: 'bookstore unhealthy /healthz\n',
    });
    await w.setHealthy(true);
    expect((await httpRequest(url + '/healthz')).status).toBe(200);
  });

  it('https: serves its own certificate', async () => {
    const ca = await createCA('app-ca');
    const tls = await ca.issue({ commonName: 'app', ipAddresses: [HOST] });
    const port = await closedPort();
    started.push(await startWorkload({ kind: 'https', host: HOST, ports: [port], name: 'secure', tls }));
    const status = await new Promise<number>((resolve, reject) =>
      https
        .get({ host: HOST, port, path: '/ready', ca: ca.certPem }, (res) => resolve(res.statusCode ?? 0))
        .on('error', reject),
    );
    expect(status).toBe(200);
    await expect(startWorkload({ kind: 'https', host: HOST, ports: [port + 1], name: 'x' })).rejects.toThrow(
      /needs a certificate/,
    );
  });

  it('tcp: accepts while healthy, refuses once unhealthy, accepts again', async () => {
    const port = await closedPort();
    const w = await startWorkload({ kind: 'tcp', host: HOST, ports: [port], name: 'db' });
    started.push(w);
    const connect = () =>
      new Promise<string>((resolve) => {
        const s = net.connect(port, HOST);
        s.once('connect', () => (s.destroy(), resolve('connected')));
        s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
      });
    expect(await connect()).toBe('connected');
    await w.setHealthy(false);
    expect(await connect()).toBe('ECONNREFUSED');
    await w.setHealthy(true);
    expect(await connect()).toBe('connected');
  });

  it('grpc: SERVING, then NOT_SERVING for the overall and the named service', async () => {
    const port = await closedPort();
    const w = await startWorkload({ kind: 'grpc', host: HOST, ports: [port], name: 'pkg.Greeter' });
    started.push(w);
    const Client = grpc.makeGenericClientConstructor(healthService, 'Health');
    const client = new Client(`${HOST}:${port}`, grpc.credentials.createInsecure()) as any;
    const check = (service: string) =>
      new Promise<string>((resolve, reject) =>
        client.Check({ service }, (err: Error | null, res: { status: string }) =>
          err ? reject(err) : resolve(res.status),
        ),
      );
    try {
      expect(await check('')).toBe('SERVING');
      expect(await check('pkg.Greeter')).toBe('SERVING');
      await w.setHealthy(false);
      expect(await check('')).toBe('NOT_SERVING');
      expect(await check('pkg.Greeter')).toBe('NOT_SERVING');
    } finally {
      client.close();
    }
  });

  it('names host and port when the port is taken', async () => {
    const port = await closedPort();
    started.push(await startWorkload({ kind: 'http', host: HOST, ports: [port], name: 'a' }));
    await expect(startWorkload({ kind: 'http', host: HOST, ports: [port], name: 'b' })).rejects.toThrow(
      `cannot listen on ${HOST}:${port}`,
    );
  });
});
