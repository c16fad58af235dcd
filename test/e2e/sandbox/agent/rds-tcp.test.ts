/**
 * The probe agent beyond the builders' inline routes: listeners whose routes come over RDS (the
 * ADS fixtures), plain TCP passthrough, a listener that cannot be bound (NACK, the rest keeps
 * serving), and several agents sharing one controller, each with its own node id and pod address.
 */
import net from 'node:net';
import { AdsServer, SnapshotCache } from '../../../../pkg/ads/index.js';
import {
  LIVENESS_PROBE_PATH,
  READINESS_PROBE_PATH,
  STARTUP_PROBE_PATH,
} from '../../../../pkg/constants/index.js';
import { LISTENER_TYPE_URL, ROUTE_CONFIGURATION_TYPE_URL } from '../../../../pkg/envoy/index.js';
import {
  startProbeAgent,
  type ProbeAgent,
  type ProbeAgentOptions,
} from '../../../../pkg/sandbox/agent/index.js';
import { PROBE_ROUTE_CONFIG_NAME, probeSnapshotInput } from '../../../support/ads-fixtures.js';
import { CDS, LDS, cluster, listener } from '../../../support/ads-resources.js';
import { httpRequest } from '../../../support/net.js';
import {
  PROBE_PORT_MAP,
  proxySnapshot,
  startHttpApp,
  waitForStatus,
  type RecordingApp,
} from '../../../support/agent.js';

const POD_A = '127.0.62.1';
const POD_B = '127.0.62.2';

let server: AdsServer;
let cache: SnapshotCache;
let adsAddress: string;
const agents: ProbeAgent[] = [];
const cleanups: (() => Promise<void>)[] = [];

beforeEach(async () => {
  cache = new SnapshotCache();
  server = new AdsServer({ cache });
  adsAddress = `127.0.0.1:${(await server.start({ port: 0, host: '127.0.0.1' })).port}`;
});

afterEach(async () => {
  for (const a of agents.splice(0)) await a.stop();
  for (const c of cleanups.splice(0).reverse()) await c();
  await server.stop(0);
});

async function agent(
  nodeId: string,
  podAddress: string,
  extra: Partial<ProbeAgentOptions> = {},
): Promise<ProbeAgent> {
  const a = await startProbeAgent({ adsAddress, nodeId, podAddress, portMap: PROBE_PORT_MAP, ...extra });
  agents.push(a);
  return a;
}

async function app(host = '127.0.0.1'): Promise<RecordingApp> {
  const a = await startHttpApp(host);
  cleanups.push(() => a.close());
  return a;
}

/** A TCP echo server that also reports the bytes it saw. */
async function echoServer(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const srv = net.createServer({ allowHalfOpen: true }, (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
    s.pipe(s);
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return {
    port: (srv.address() as net.AddressInfo).port,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        srv.close(() => r());
      }),
  };
}

describe('probe agent: RDS, TCP, bind failures, several pods', () => {
  test('routes over RDS: the agent subscribes to the names its listeners use, and follows updates', async () => {
    const a = await app();
    cache.setSnapshot('rds-node', probeSnapshotInput({ appPort: a.port, originalPath: '/healthz' }));
    const ag = await agent('rds-node', POD_A);
    const st = await waitForStatus(
      ag,
      (s) => s.routeConfigs.includes(PROBE_ROUTE_CONFIG_NAME) && s.versions.RDS !== '',
      'RDS applied',
    );
    expect(st.listeners.filter((l) => l.bound)).toHaveLength(3);
    const stream = server.streamsOf('rds-node')[0] as unknown as {
      types: Map<string, { names: Set<string> }>;
    };
    expect([...stream.types.get(ROUTE_CONFIGURATION_TYPE_URL)!.names]).toEqual([PROBE_ROUTE_CONFIG_NAME]);

    for (const [listenerName, path] of [
      ['liveness_listener', LIVENESS_PROBE_PATH],
      ['readiness_listener', READINESS_PROBE_PATH],
      ['startup_listener', STARTUP_PROBE_PATH],
    ] as const) {
      const res = await httpRequest(`http://${POD_A}:${ag.boundPort(listenerName)!}${path}`);
      expect(res.status).toBe(200);
    }
    expect(a.requests.map((r) => r.url)).toEqual(['/healthz', '/healthz', '/healthz']);

    const next = cache.setSnapshot(
      'rds-node',
      probeSnapshotInput({ appPort: a.port, originalPath: '/ready' }),
    ).snapshot;
    await waitForStatus(
      ag,
      (s) => s.versions.RDS === next.types.get(ROUTE_CONFIGURATION_TYPE_URL)!.version,
      'RDS v2',
    );
    await httpRequest(`http://${POD_A}:${ag.boundPort('liveness_listener')!}${LIVENESS_PROBE_PATH}`);
    expect(a.requests.at(-1)!.url).toBe('/ready');
  });

  test('tcp_proxy pipes bytes both ways, half-close included', async () => {
    const echo = await echoServer();
    cleanups.push(() => echo.close());
    cache.setSnapshot('tcp-node', {
      [LDS]: [listener('tcp_listener', 15950, 'echo')],
      [CDS]: [cluster('echo', echo.port)],
    });
    const ag = await agent('tcp-node', POD_A, { portMap: { 15950: 0 } });
    await ag.configured();
    const port = ag.boundPort('tcp_listener')!;
    const answer = await new Promise<string>((resolve, reject) => {
      const s = net.connect(port, POD_A, () => s.end('ping over the agent'));
      let got = '';
      s.setEncoding('utf8');
      s.on('data', (d: string) => (got += d));
      s.on('end', () => resolve(got));
      s.on('error', reject);
    });
    expect(answer).toBe('ping over the agent');
  });

  test('a listener that cannot be bound is NACKed; the listeners already bound keep serving', async () => {
    const a = await app();
    const probe = (type: 'liveness' | 'readiness', matchPath: string) => ({
      type,
      http: [
        { container: 'c', matchPath, originalPath: `/${type}`, port: a.port, headers: [], timeoutSeconds: 1 },
      ],
    });
    // Something else holds the port the liveness listener will be mapped to.
    const squatter = net.createServer();
    await new Promise<void>((r) => squatter.listen(0, POD_A, r));
    cleanups.push(() => new Promise<void>((r) => squatter.close(() => r())));
    const taken = (squatter.address() as net.AddressInfo).port;

    const first = cache.setSnapshot(
      'bind-node',
      proxySnapshot({ probes: [probe('readiness', READINESS_PROBE_PATH)], inboundPorts: [] }),
    ).snapshot;
    const ag = await agent('bind-node', POD_A, { portMap: { ...PROBE_PORT_MAP, 15901: taken } });
    await ag.configured();
    const readinessPort = ag.boundPort('readiness_listener')!;

    const second = cache.setSnapshot(
      'bind-node',
      proxySnapshot({
        probes: [probe('liveness', LIVENESS_PROBE_PATH), probe('readiness', READINESS_PROBE_PATH)],
        inboundPorts: [],
      }),
    ).snapshot;
    const st = await waitForStatus(ag, (s) => s.nacks.LDS !== undefined, 'LDS NACK');
    expect(st.nacks.LDS!.version).toBe(second.types.get(LISTENER_TYPE_URL)!.version);
    expect(st.nacks.LDS!.message).toContain(`Listener "liveness_listener": cannot bind ${POD_A}:${taken}`);
    expect(st.versions.LDS).toBe(first.types.get(LISTENER_TYPE_URL)!.version);
    expect(ag.boundPort('liveness_listener')).toBeUndefined();
    expect(ag.boundPort('readiness_listener')).toBe(readinessPort);
    expect((await httpRequest(`http://${POD_A}:${readinessPort}${READINESS_PROBE_PATH}`)).status).toBe(200);
  });

  test('two pods on one controller: each agent gets its own node config on its own pod address', async () => {
    const appA = await app(POD_A);
    const appB = await app(POD_B);
    const input = (port: number, path: string) => ({
      probes: [
        {
          type: 'liveness' as const,
          http: [
            {
              container: 'c',
              matchPath: LIVENESS_PROBE_PATH,
              originalPath: path,
              port,
              headers: [],
              timeoutSeconds: 1,
            },
          ],
        },
      ],
      inboundPorts: [],
    });
    cache.setSnapshot('pod-a', proxySnapshot(input(appA.port, '/a')));
    cache.setSnapshot('pod-b', proxySnapshot(input(appB.port, '/b')));
    const a = await agent('pod-a', POD_A, { endpointHostMap: { '127.0.0.1': POD_A } });
    const b = await agent('pod-b', POD_B, { endpointHostMap: { '127.0.0.1': POD_B } });
    await Promise.all([a.configured(), b.configured()]);
    expect(
      (await httpRequest(`http://${POD_A}:${a.boundPort('liveness_listener')!}${LIVENESS_PROBE_PATH}`))
        .status,
    ).toBe(200);
    expect(
      (await httpRequest(`http://${POD_B}:${b.boundPort('liveness_listener')!}${LIVENESS_PROBE_PATH}`))
        .status,
    ).toBe(200);
    expect(appA.requests.map((r) => r.url)).toEqual(['/a']);
    expect(appB.requests.map((r) => r.url)).toEqual(['/b']);
    expect(
      a
        .status()
        .listeners.find((l) => l.bound)!
        .address!.startsWith(`${POD_A}:`),
    ).toBe(true);
    expect(
      b
        .status()
        .listeners.find((l) => l.bound)!
        .address!.startsWith(`${POD_B}:`),
    ).toBe(true);
  });

  test('a keep-alive connection accepted before an update is closed after its next response', async () => {
    const a = await app();
    const input = (path: string) => ({
      probes: [
        {
          type: 'liveness' as const,
          http: [
            {
              container: 'c',
              matchPath: LIVENESS_PROBE_PATH,
              originalPath: path,
              port: a.port,
              headers: [],
              timeoutSeconds: 1,
            },
          ],
        },
      ],
      inboundPorts: [],
    });
    cache.setSnapshot('ka-node', proxySnapshot(input('/one')));
    const ag = await agent('ka-node', POD_A);
    await ag.configured();
    const http = await import('node:http');
    const keepAlive = new http.Agent({ keepAlive: true, maxSockets: 1 });
    cleanups.push(async () => keepAlive.destroy());
    const url = `http://${POD_A}:${ag.boundPort('liveness_listener')!}${LIVENESS_PROBE_PATH}`;
    const before = await httpRequest(url, { agent: keepAlive });
    expect(before.headers.connection).toBe('keep-alive');
    const next = cache.setSnapshot('ka-node', proxySnapshot(input('/two'))).snapshot;
    await waitForStatus(ag, (s) => s.versions.LDS === next.types.get(LISTENER_TYPE_URL)!.version, 'LDS v2');
    // The old connection is served once more with its old configuration, then closed...
    const old = await httpRequest(url, { agent: keepAlive });
    expect(old.headers.connection).toBe('close');
    // ...and the next connection has the new one.
    await httpRequest(url, { agent: keepAlive });
    expect(a.requests.map((r) => r.url)).toEqual(['/one', '/one', '/two']);
  });
});
