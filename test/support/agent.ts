/**
 * Probe agent test support: the production builders' output as an ADS snapshot, real recording
 * HTTP / HTTPS apps on loopback, and a wait on the agent's status (event-driven, no timing).
 */
import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { SnapshotInput } from '../../pkg/ads/index.js';
import { CLUSTER_TYPE_URL, LISTENER_TYPE_URL } from '../../pkg/envoy/index.js';
import {
  buildProxyResources,
  type ProxyBuildInput,
  type ProxyResources,
} from '../../pkg/envoy/builders/index.js';
import type { ProbeAgent, ProbeAgentStatus } from '../../pkg/sandbox/agent/index.js';
import { createCA } from '../../pkg/tls/index.js';

/** Probe listener ports → any free port (1590x may be taken by parallel tests). */
export const PROBE_PORT_MAP: Readonly<Record<number, number>> = { 15901: 0, 15902: 0, 15903: 0 };

/** The snapshot input of a proxy's resources, as the controller sets it. */
export function snapshotOf(resources: ProxyResources): SnapshotInput {
  return {
    [LISTENER_TYPE_URL]: resources.listeners.map((l) => ({ name: l.name, resource: { ...l } })),
    [CLUSTER_TYPE_URL]: resources.clusters.map((c) => ({ name: c.name, resource: { ...c } })),
  };
}

export function proxySnapshot(input: ProxyBuildInput): SnapshotInput {
  return snapshotOf(buildProxyResources(input));
}

export interface SeenRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
}

export interface AppBehaviour {
  status: number;
  body: string;
  /** Never answer (the request hangs until the app closes). */
  hang: boolean;
}

export interface RecordingApp {
  host: string;
  port: number;
  requests: SeenRequest[];
  behaviour: AppBehaviour;
  close(): Promise<void>;
}

function recordingHandler(app: RecordingApp) {
  return (req: http.IncomingMessage, res: http.ServerResponse): void => {
    app.requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    req.resume();
    if (app.behaviour.hang) return;
    res.writeHead(app.behaviour.status, { 'content-type': 'text/plain', 'x-app': 'yes' });
    res.end(app.behaviour.body);
  };
}

function closer(server: net.Server, sockets: Set<net.Socket>): () => Promise<void> {
  return () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    });
}

function track(server: net.Server): Set<net.Socket> {
  const sockets = new Set<net.Socket>();
  server.on('connection', (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  return sockets;
}

/** An HTTP app on host:0 that records every request and answers as `behaviour` says. */
export async function startHttpApp(host = '127.0.0.1'): Promise<RecordingApp> {
  const app: RecordingApp = {
    host,
    port: 0,
    requests: [],
    behaviour: { status: 200, body: 'app ok', hang: false },
    close: async () => undefined,
  };
  const server = http.createServer(recordingHandler(app));
  const sockets = track(server);
  await new Promise<void>((r) => server.listen(0, host, r));
  app.port = (server.address() as net.AddressInfo).port;
  app.close = closer(server, sockets);
  return app;
}

/** An HTTPS app with its own certificate (CA returned for the client's trust). */
export async function startHttpsApp(
  host = '127.0.0.1',
): Promise<RecordingApp & { caPem: string; commonName: string }> {
  const ca = await createCA('agent-test-ca');
  const commonName = 'app.bookstore.svc';
  const pair = await ca.issue({ commonName, dnsNames: [commonName], ipAddresses: [host] });
  const app = {
    host,
    port: 0,
    requests: [] as SeenRequest[],
    behaviour: { status: 200, body: 'tls app ok', hang: false },
    close: async () => undefined,
    caPem: ca.certPem,
    commonName,
  };
  const server = https.createServer({ cert: pair.certPem, key: pair.keyPem }, recordingHandler(app));
  const sockets = new Set<net.Socket>();
  server.on('secureConnection', (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  const raw = track(server);
  await new Promise<void>((r) => server.listen(0, host, r));
  app.port = (server.address() as net.AddressInfo).port;
  app.close = async () => {
    for (const s of raw) s.destroy();
    await closer(server, sockets)();
  };
  return app;
}

/**
 * Resolves once `cond(status)` holds: checked on every status change of the agent and on a short
 * poll (listener binds happen between changes). Rejects after `limitMs` with the last status, so a
 * broken agent fails the test with a readable message instead of hanging it.
 */
export function waitForStatus(
  agent: ProbeAgent,
  cond: (s: ProbeAgentStatus) => boolean,
  what: string,
  limitMs = 20_000,
): Promise<ProbeAgentStatus> {
  return new Promise((resolve, reject) => {
    let done = false;
    const check = (): void => {
      if (done) return;
      const s = agent.status();
      if (cond(s)) {
        done = true;
        cleanup();
        resolve(s);
      }
    };
    const unsubscribe = agent.onChange(check);
    const poll = setInterval(check, 5);
    const limit = setTimeout(() => {
      if (done) return;
      done = true;
      cleanup();
      reject(new Error(`agent never reached: ${what}; status: ${JSON.stringify(agent.status())}`));
    }, limitMs);
    function cleanup(): void {
      unsubscribe();
      clearInterval(poll);
      clearTimeout(limit);
    }
    check();
  });
}

/** GET through an HTTPS client that trusts `caPem` and expects `servername`. */
export function httpsGet(
  url: string,
  caPem: string,
  servername: string,
): Promise<{ status: number; body: string; peerCN: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request(url, { ca: caPem, servername, agent: false }, (res) => {
      const cert = (res.socket as TLSSocket).getPeerCertificate();
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, body, peerCN: String(cert.subject?.CN ?? '') }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}
