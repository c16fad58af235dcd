/**
 * The probe agent end to end: the real pkg/ads server fed with the production builders' output,
 * the real agent, real apps on loopback. Kubelet's view: GET <pod address>:<liveness port>
 * /fsm-liveness-probe.
 */
import { AdsServer, SnapshotCache } from '../../../../pkg/ads/index.js';
import {
  LIVENESS_PROBE_PATH,
  READINESS_PROBE_PATH,
  STARTUP_PROBE_PATH,
} from '../../../../pkg/constants/index.js';
import { CLUSTER_TYPE_URL, LISTENER_TYPE_URL } from '../../../../pkg/envoy/index.js';
import type { ProxyBuildInput } from '../../../../pkg/envoy/builders/index.js';
import { startProbeAgent, type ProbeAgent } from '../../../../pkg/sandbox/agent/index.js';
import { closedPort, httpRequest, startBlackhole } from '../../../support/net.js';
import {
  PROBE_PORT_MAP,
  httpsGet,
  proxySnapshot,
  startHttpApp,
  startHttpsApp,
  waitForStatus,
  type RecordingApp,
} from '../../../support/agent.js';

const POD = '127.0.61.1';
const NODE = '5b0d7e2c-1f1e-4c55-9d7a-agent-e2e';

let server: AdsServer;
let cache: SnapshotCache;
let adsAddress: string;
let agent: ProbeAgent | undefined;
const cleanups: (() => Promise<void>)[] = [];

async function startAds(port = 0): Promise<void> {
  server = new AdsServer({ cache });
  const started = await server.start({ port, host: '127.0.0.1' });
  adsAddress = `127.0.0.1:${started.port}`;
}

beforeEach(async () => {
  cache = new SnapshotCache();
  await startAds();
});

afterEach(async () => {
  await agent?.stop();
  agent = undefined;
  for (const c of cleanups.splice(0).reverse()) await c();
  await server.stop(0);
});

async function app(host = '127.0.0.1'): Promise<RecordingApp> {
  const a = await startHttpApp(host);
  cleanups.push(() => a.close());
  return a;
}

function livenessInput(port: number, path = '/healthz', timeoutSeconds = 1): ProxyBuildInput {
  return {
    probes: [
      {
        type: 'liveness',
        http: [
          {
            container: 'bookstore',
            matchPath: LIVENESS_PROBE_PATH,
            originalPath: path,
            port,
            headers: [
              { name: 'X-Probe', value: 'liveness' },
              { name: 'Host', value: 'bookstore.local' },
            ],
            timeoutSeconds,
          },
        ],
      },
    ],
    inboundPorts: [{ container: 'bookstore', port }],
  };
}

async function startAgent(extra: Partial<Parameters<typeof startProbeAgent>[0]> = {}): Promise<ProbeAgent> {
  agent = await startProbeAgent({
    adsAddress,
    nodeId: NODE,
    podAddress: POD,
    portMap: PROBE_PORT_MAP,
    backoff: { initialMs: 20, maxMs: 200 },
    ...extra,
  });
  return agent;
}

function liveness(a: ProbeAgent, path = LIVENESS_PROBE_PATH): string {
  const port = a.boundPort('liveness_listener');
  if (port === undefined) throw new Error('liveness_listener is not bound');
  return `http://${POD}:${port}${path}`;
}

describe('probe agent, end to end', () => {
  test('a liveness probe reaches the app at the rewritten path with the probe headers', async () => {
    const a = await app();
    cache.setSnapshot(NODE, proxySnapshot(livenessInput(a.port, '/healthz?full=1')));
    const ag = await startAgent();
    await ag.configured();
    const st = ag.status();
    expect(st.connected).toBe(true);
    expect(st.versions.LDS).toBe(cache.getSnapshot(NODE)!.types.get(LISTENER_TYPE_URL)!.version);
    expect(st.versions.CDS).toBe(cache.getSnapshot(NODE)!.types.get(CLUSTER_TYPE_URL)!.version);
    expect(st.nacks).toEqual({});
    const live = st.listeners.find((l) => l.name === 'liveness_listener')!;
    expect(live.bound).toBe(true);
    expect(live.address).toMatch(new RegExp(`^${POD.replace(/\./g, '\\.')}:\\d+$`));
    expect(live.configuredAddress).toBe('0.0.0.0:15901');
    // The inbound capture listener and per-port listeners are accepted but not bound.
    expect(st.listeners.filter((l) => !l.bound).map((l) => l.name)).toEqual(
      expect.arrayContaining(['inbound_listener', `inbound_${a.port}`]),
    );

    const res = await httpRequest(liveness(ag), { headers: { 'user-agent': 'kube-probe/1.34' } });
    expect(res.body).toBe('app ok');
    expect(res.status).toBe(200);
    expect(res.headers['x-app']).toBe('yes');
    expect(a.requests).toHaveLength(1);
    expect(a.requests[0]!.url).toBe('/healthz?full=1');
    expect(a.requests[0]!.headers['x-probe']).toBe('liveness');
    expect(a.requests[0]!.headers.host).toBe('bookstore.local');
    expect(a.requests[0]!.headers['user-agent']).toBe('kube-probe/1.34');
    expect(Object.keys(a.requests[0]!.headers).filter((h) => h.startsWith('x-envoy'))).toEqual([]);

    // Another path on the probe port has no route: Envoy's 404, and the app sees nothing.
    const miss = await httpRequest(liveness(ag, '/other'));
    expect(miss.status).toBe(404);
    expect(a.requests).toHaveLength(1);
  });

  test('every probe type on its own listener; apps on the pod address through the endpoint host map', async () => {
    const a = await app(POD);
    const probe = (type: 'liveness' | 'readiness' | 'startup', matchPath: string, path: string) => ({
      type,
      http: [{ container: 'c', matchPath, originalPath: path, port: a.port, headers: [], timeoutSeconds: 1 }],
    });
    cache.setSnapshot(
      NODE,
      proxySnapshot({
        probes: [
          probe('liveness', LIVENESS_PROBE_PATH, '/live'),
          probe('readiness', READINESS_PROBE_PATH, 'ready'),
          probe('startup', STARTUP_PROBE_PATH, ''),
        ],
        inboundPorts: [],
      }),
    );
    const ag = await startAgent({ endpointHostMap: { '127.0.0.1': POD } });
    await ag.configured();
    const get = (listener: string, path: string) =>
      httpRequest(`http://${POD}:${ag.boundPort(listener)!}${path}`);
    expect((await get('liveness_listener', LIVENESS_PROBE_PATH)).status).toBe(200);
    expect((await get('readiness_listener', READINESS_PROBE_PATH)).status).toBe(200);
    expect((await get('startup_listener', STARTUP_PROBE_PATH)).status).toBe(200);
    // A listener routes only its own probe path.
    expect((await get('readiness_listener', LIVENESS_PROBE_PATH)).status).toBe(404);
    expect(a.requests.map((r) => r.url)).toEqual(['/live', '/ready', '/']);
  });

  test('the app answering 503 is passed through; the app down is Envoy 503; a hung app is Envoy 504', async () => {
    const a = await app();
    cache.setSnapshot(NODE, proxySnapshot(livenessInput(a.port, '/healthz', 1)));
    const ag = await startAgent();
    await ag.configured();
    a.behaviour.status = 503;
    a.behaviour.body = 'not yet';
    const failing = await httpRequest(liveness(ag));
    expect(failing).toMatchObject({ status: 503, body: 'not yet' });

    a.behaviour.hang = true;
    const hung = await httpRequest(liveness(ag));
    expect(hung.status).toBe(504);
    expect(hung.body).toBe('upstream request timeout');
    expect(hung.headers['content-type']).toBe('text/plain');

    await a.close();
    const down = await httpRequest(liveness(ag));
    expect(down.status).toBe(503);
    expect(down.body).toMatch(/^upstream connect error or disconnect\/reset before headers\. reset reason: /);
    expect(Object.keys(down.headers).filter((h) => h.startsWith('x-envoy'))).toEqual([]);
  });

  test('a connect that never completes: 503 after the cluster connect timeout, 504 when the route timeout is shorter', async () => {
    const hole = await startBlackhole();
    cleanups.push(() => hole.close());
    // connect_timeout 100 ms < route timeout 1 s: the connect attempt gives up first.
    const snap = proxySnapshot(livenessInput(hole.port, '/healthz', 1));
    const withConnectTimeout = (nanos: number) => ({
      ...snap,
      [CLUSTER_TYPE_URL]: snap[CLUSTER_TYPE_URL]!.map((c) => ({
        name: c.name,
        resource: { ...(c.resource as object), connect_timeout: { seconds: 0, nanos } },
      })),
    });
    cache.setSnapshot(NODE, withConnectTimeout(100_000_000));
    const ag = await startAgent();
    await ag.configured();
    const res = await httpRequest(liveness(ag));
    expect(res.status).toBe(503);
    expect(res.body).toBe(
      'upstream connect error or disconnect/reset before headers. reset reason: connection timeout',
    );
    // connect_timeout 0 (none): the route timeout (1 s) answers.
    const next = cache.setSnapshot(NODE, withConnectTimeout(0)).snapshot;
    await waitForStatus(ag, (s) => s.versions.CDS === next.types.get(CLUSTER_TYPE_URL)!.version, 'CDS v2');
    const timedOut = await httpRequest(liveness(ag));
    expect(timedOut.status).toBe(504);
    expect(timedOut.body).toBe('upstream request timeout');
  });

  test('an HTTPS probe is passed through: the handshake is answered by the app with its own certificate', async () => {
    const tlsApp = await startHttpsApp();
    cleanups.push(() => tlsApp.close());
    cache.setSnapshot(
      NODE,
      proxySnapshot({
        probes: [
          {
            type: 'readiness',
            http: [],
            https: { container: 'secure', port: tlsApp.port, timeoutSeconds: 1 },
          },
        ],
        inboundPorts: [],
      }),
    );
    const ag = await startAgent();
    await ag.configured();
    const port = ag.boundPort('readiness_listener')!;
    const res = await httpsGet(`https://${POD}:${port}/secure/healthz`, tlsApp.caPem, tlsApp.commonName);
    expect(res).toEqual({ status: 200, body: 'tls app ok', peerCN: tlsApp.commonName });
    expect(tlsApp.requests.map((r) => r.url)).toEqual(['/secure/healthz']);
  });

  test('HTTP and HTTPS probes of one type share a listener: the TLS inspector picks the chain', async () => {
    const a = await app();
    const tlsApp = await startHttpsApp();
    cleanups.push(() => tlsApp.close());
    cache.setSnapshot(
      NODE,
      proxySnapshot({
        probes: [
          {
            type: 'startup',
            http: [
              {
                container: 'web',
                matchPath: STARTUP_PROBE_PATH,
                originalPath: '/started',
                port: a.port,
                headers: [],
                timeoutSeconds: 1,
              },
            ],
            https: { container: 'secure', port: tlsApp.port, timeoutSeconds: 1 },
          },
        ],
        inboundPorts: [],
      }),
    );
    const ag = await startAgent();
    await ag.configured();
    const port = ag.boundPort('startup_listener')!;
    expect((await httpRequest(`http://${POD}:${port}${STARTUP_PROBE_PATH}`)).status).toBe(200);
    expect(a.requests.map((r) => r.url)).toEqual(['/started']);
    const res = await httpsGet(`https://${POD}:${port}/tls`, tlsApp.caPem, tlsApp.commonName);
    expect(res.status).toBe(200);
    expect(tlsApp.requests.map((r) => r.url)).toEqual(['/tls']);
  });

  test('a config update (new path) applies on the same listener; a removed listener closes', async () => {
    const a = await app();
    cache.setSnapshot(NODE, proxySnapshot(livenessInput(a.port, '/v1/health')));
    const ag = await startAgent();
    await ag.configured();
    const port = ag.boundPort('liveness_listener')!;
    await httpRequest(liveness(ag));
    const { snapshot } = cache.setSnapshot(NODE, proxySnapshot(livenessInput(a.port, '/v2/health')));
    await waitForStatus(
      ag,
      (s) => s.versions.LDS === snapshot.types.get(LISTENER_TYPE_URL)!.version,
      'LDS v2',
    );
    expect(ag.boundPort('liveness_listener')).toBe(port);
    await httpRequest(liveness(ag));
    expect(a.requests.map((r) => r.url)).toEqual(['/v1/health', '/v2/health']);

    const empty = cache.setSnapshot(NODE, proxySnapshot({ probes: [], inboundPorts: [] })).snapshot;
    await waitForStatus(
      ag,
      (s) => s.versions.LDS === empty.types.get(LISTENER_TYPE_URL)!.version,
      'listeners removed',
    );
    expect(ag.boundPort('liveness_listener')).toBeUndefined();
    await expect(httpRequest(`http://${POD}:${port}${LIVENESS_PROBE_PATH}`)).rejects.toThrow(/ECONNREFUSED/);
  });

  test('an invalid config is NACKed and the previous one keeps serving', async () => {
    const a = await app();
    const good = cache.setSnapshot(NODE, proxySnapshot(livenessInput(a.port, '/good'))).snapshot;
    const ag = await startAgent();
    await ag.configured();
    const goodLds = good.types.get(LISTENER_TYPE_URL)!.version;

    // A listener with a network filter the agent does not know.
    const bad = proxySnapshot(livenessInput(a.port, '/bad'));
    const listeners = bad[LISTENER_TYPE_URL]!.map((r) => ({ ...r }));
    const live = listeners.find((r) => r.name === 'liveness_listener')!;
    const resource = JSON.parse(JSON.stringify(live.resource, (_k, v: unknown) => v)) as {
      filter_chains: { filters: { name: string; typed_config: Record<string, unknown> }[] }[];
    };
    resource.filter_chains[0]!.filters[0] = {
      name: 'envoy.filters.network.echo',
      typed_config: { '@type': 'type.googleapis.com/envoy.config.cluster.v3.Cluster', name: 'not-a-filter' },
    };
    live.resource = resource;
    const badSnap = cache.setSnapshot(NODE, { ...bad, [LISTENER_TYPE_URL]: listeners }).snapshot;
    const badLds = badSnap.types.get(LISTENER_TYPE_URL)!.version;
    const st = await waitForStatus(ag, (s) => s.nacks.LDS !== undefined, 'LDS NACK');
    expect(st.nacks.LDS!.version).toBe(badLds);
    expect(st.nacks.LDS!.message).toContain('unknown network filter "envoy.filters.network.echo"');
    expect(st.versions.LDS).toBe(goodLds);
    // The server saw the NACK of that version.
    const stream = server.streamsOf(NODE)[0] as unknown as {
      types: Map<string, { nacked?: { version: string } }>;
    };
    const serverNack = () => stream.types.get(LISTENER_TYPE_URL)!.nacked?.version;
    while (serverNack() === undefined) await new Promise((r) => setTimeout(r, 5));
    expect(serverNack()).toBe(badLds);

    await httpRequest(liveness(ag));
    expect(a.requests.map((r) => r.url)).toEqual(['/good']);

    // A later good config is applied and clears the NACK.
    const fixed = cache.setSnapshot(NODE, proxySnapshot(livenessInput(a.port, '/fixed'))).snapshot;
    await waitForStatus(
      ag,
      (s) => s.versions.LDS === fixed.types.get(LISTENER_TYPE_URL)!.version,
      'fixed LDS',
    );
    expect(ag.status().nacks.LDS).toBeUndefined();
    await httpRequest(liveness(ag));
    expect(a.requests.map((r) => r.url)).toEqual(['/good', '/fixed']);
  });

  test('ADS server restart: the agent keeps serving, reconnects with its versions and converges', async () => {
    const a = await app();
    cache.setSnapshot(NODE, proxySnapshot(livenessInput(a.port, '/before')));
    const ag = await startAgent();
    await ag.configured();
    const port = Number(adsAddress.split(':')[1]);

    await server.stop(0);
    await waitForStatus(ag, (s) => !s.connected, 'disconnected');
    // The controller is gone: probes keep passing from the last config.
    expect((await httpRequest(liveness(ag))).status).toBe(200);
    expect((await httpRequest(liveness(ag))).status).toBe(200);

    // A new controller on the same address with a newer config.
    cache = new SnapshotCache();
    const next = cache.setSnapshot(NODE, proxySnapshot(livenessInput(a.port, '/after'))).snapshot;
    await startAds(port);
    const st = await waitForStatus(
      ag,
      (s) => s.connected && s.versions.LDS === next.types.get(LISTENER_TYPE_URL)!.version,
      'converged',
    );
    expect(st.streams).toBeGreaterThanOrEqual(2);
    expect(st.versions.CDS).toBe(next.types.get(CLUSTER_TYPE_URL)!.version);
    await httpRequest(liveness(ag));
    expect(a.requests.map((r) => r.url)).toEqual(['/before', '/before', '/after']);
  });

  test('a restarted controller that has not built the config yet: the agent waits on its stream, serving the old one', async () => {
    const a = await app();
    cache.setSnapshot(NODE, proxySnapshot(livenessInput(a.port, '/old')));
    const ag = await startAgent();
    await ag.configured();
    const versionsBefore = ag.status().versions;
    const port = Number(adsAddress.split(':')[1]);
    await server.stop(0);
    cache = new SnapshotCache(); // the new controller starts empty (informers still syncing)
    await startAds(port);
    while (server.streamsOf(NODE).length === 0) await new Promise((r) => setTimeout(r, 5));
    expect(ag.status().versions).toEqual(versionsBefore);
    expect((await httpRequest(liveness(ag))).status).toBe(200);
    const next = cache.setSnapshot(NODE, proxySnapshot(livenessInput(a.port, '/new'))).snapshot;
    await waitForStatus(
      ag,
      (s) => s.versions.LDS === next.types.get(LISTENER_TYPE_URL)!.version,
      'converged',
    );
    await httpRequest(liveness(ag));
    expect(a.requests.map((r) => r.url)).toEqual(['/old', '/new']);
  });

  test('a refused connect is the Envoy 503 remote connection failure', async () => {
    const port = await closedPort();
    cache.setSnapshot(NODE, proxySnapshot(livenessInput(port)));
    const ag = await startAgent();
    await ag.configured();
    const res = await httpRequest(liveness(ag));
    expect(res.status).toBe(503);
    expect(res.body).toBe(
      'upstream connect error or disconnect/reset before headers. reset reason: remote connection failure, transport failure reason: delayed connect error: 111',
    );
  });
});
