/**
 * The connect-subresource hook (what pods/log and pods/portforward will plug into): plain requests
 * reach `serve`, authenticated upgrade requests reach `upgrade` with the raw socket, everything
 * else keeps its ordinary answer. The handlers here are test doubles of those features.
 */
import https from 'node:https';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { notFound } from '../../../../pkg/sandbox/apiserver/status.js';
import type { SubresourceHandler } from '../../../../pkg/sandbox/apiserver/connect.js';
import { startTestApiServer, type TestApiServer } from '../../../support/apiserver.js';

let h: TestApiServer;

beforeAll(async () => {
  h = await startTestApiServer();
  await h.server.createObject('pods', {
    metadata: { name: 'p1', namespace: 'default' },
    spec: { containers: [{ name: 'c', image: 'i' }] },
  });
});
afterAll(async () => {
  await h.stop();
});

/** Echoes the route on plain requests; on upgrade, answers 101 and echoes bytes back. */
const echo: SubresourceHandler = {
  async serve({ route }, res) {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ name: route.name, subresource: route.subresource, query: route.search }));
  },
  async upgrade({ route, store }, socket, head) {
    if (!store.get('pods', route.namespace, route.name!)) throw notFound('', 'pods', route.name!);
    socket.write('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: fsm-echo\r\n\r\n');
    if (head.length) socket.write(head);
    socket.pipe(socket);
  },
};

interface Answer {
  status: number;
  body: string;
  socket?: Duplex;
}

function send(path: string, opts: { upgrade?: boolean; token?: string | null } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const token = opts.token === undefined ? h.server.token : opts.token;
    const req = https.request(`${h.server.url}${path}`, {
      ca: h.server.caPem,
      agent: false,
      headers: {
        ...(token === null ? {} : { Authorization: `Bearer ${token}` }),
        ...(opts.upgrade ? { Connection: 'Upgrade', Upgrade: 'fsm-echo' } : {}),
      },
    });
    req.on('response', (res: IncomingMessage) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('upgrade', (res: IncomingMessage, socket: Duplex) =>
      resolve({ status: res.statusCode!, body: '', socket }),
    );
    req.on('error', reject);
    req.end();
  });
}

function roundTrip(socket: Duplex, text: string): Promise<string> {
  return new Promise((resolve) => {
    let got = '';
    socket.on('data', (c: Buffer) => {
      got += c.toString();
      if (got.length >= text.length) resolve(got);
    });
    socket.write(text);
  });
}

describe('connect subresources', () => {
  afterEach(() => {
    h.server.setSubresource('pods', 'echo', undefined);
  });

  it('an unregistered subresource is 404', async () => {
    const r = await send('/api/v1/namespaces/default/pods/p1/echo');
    expect(r.status).toBe(404);
    expect(JSON.parse(r.body)).toMatchObject({ kind: 'Status', reason: 'NotFound' });
  });

  it('plain requests reach serve with the parsed route', async () => {
    h.server.setSubresource('pods', 'echo', echo);
    const r = await send('/api/v1/namespaces/default/pods/p1/echo?follow=true');
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body)).toEqual({ name: 'p1', subresource: 'echo', query: '?follow=true' });
  });

  it('authenticated upgrade requests reach upgrade with the socket', async () => {
    h.server.setSubresource('pods', 'echo', echo);
    const r = await send('/api/v1/namespaces/default/pods/p1/echo', { upgrade: true });
    expect(r.status).toBe(101);
    expect(await roundTrip(r.socket!, 'ping')).toBe('ping');
    r.socket!.destroy();
  });

  it("a Status the upgrade handler throws is the client's answer", async () => {
    h.server.setSubresource('pods', 'echo', echo);
    const r = await send('/api/v1/namespaces/default/pods/gone/echo', { upgrade: true });
    expect(r.status).toBe(404);
    expect(JSON.parse(r.body)).toMatchObject({ kind: 'Status', message: 'pods "gone" not found' });
  });

  it('an upgrade without a valid token is 401, not upgraded', async () => {
    h.server.setSubresource('pods', 'echo', echo);
    const r = await send('/api/v1/namespaces/default/pods/p1/echo', { upgrade: true, token: 'nope' });
    expect(r.status).toBe(401);
    expect(JSON.parse(r.body)).toMatchObject({ kind: 'Status', reason: 'Unauthorized' });
  });

  it('upgrade headers on ordinary routes are served as ordinary requests', async () => {
    h.server.setSubresource('pods', 'echo', echo);
    const r = await send('/api/v1/namespaces/default/pods', { upgrade: true });
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body)).toMatchObject({ kind: 'PodList' });
  });

  it('a handler that only upgrades answers plain requests 400 Upgrade request required', async () => {
    h.server.setSubresource('pods', 'echo', { upgrade: echo.upgrade });
    const r = await send('/api/v1/namespaces/default/pods/p1/echo');
    expect(r.status).toBe(400);
    expect(JSON.parse(r.body)).toMatchObject({ message: 'Upgrade request required' });
  });

  it('a handler that only serves leaves upgrade requests to serve', async () => {
    h.server.setSubresource('pods', 'echo', { serve: echo.serve });
    const r = await send('/api/v1/namespaces/default/pods/p1/echo', { upgrade: true });
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body)).toMatchObject({ name: 'p1', subresource: 'echo' });
  });
});
