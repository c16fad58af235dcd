/**
 * The mesh data path end to end (issue 15) with the built fsm-controller: two probe agents with
 * real bootstrap credentials and the SPIFFE certificates the controller issues them over SDS, in
 * loopback mode (each pod its own 127.x address; the PROXY protocol header stands in for
 * fsm-init's redirect). bookbuyer → Service bookstore (ClusterIP:8080) → its EndpointSlice's pod →
 * bookstore's sidecar → the app, over mTLS, with the caller's SPIFFE ID in x-forwarded-client-cert.
 * A plaintext client is refused in strict mode and accepted in permissive mode (with any forged
 * identity header removed); a non-mesh destination passes through unencrypted; an EndpointSlice
 * change reaches the agents as a new load assignment, and over Delta xDS costs one resource.
 */
import http from 'node:http';
import net from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, DiscoveryV1Api, type V1Pod } from '@kubernetes/client-node';
import {
  INBOUND_MTLS_ANNOTATION,
  MONITORED_BY_LABEL,
  PROXY_UUID_LABEL,
} from '../../../pkg/constants/index.js';
import { BootstrapProvisioner, MeshCaSource, bootstrapSecretName } from '../../../pkg/identity/index.js';
import { silentLogger } from '../../../pkg/logger/index.js';
import { CLUSTER_LOAD_ASSIGNMENT_TYPE_URL } from '../../../pkg/envoy/index.js';
import {
  proxyProtocolHeader,
  proxyProtocolOriginalDestination,
  startProbeAgent,
  type ProbeAgent,
} from '../../../pkg/sandbox/agent/index.js';
import { startTestApiServer, type TestApiServer } from '../../support/apiserver.js';
import {
  controllerReady,
  startControllerBinary,
  type StartedControllerBinary,
} from '../../support/controller-binary.js';
import { runFsm } from '../../support/cli.js';
import { eventually } from '../../support/eventually.js';
import { FSM_NS, adsServerName, bootstrapAdsClient, meshAuthorityOf } from '../../support/mesh-identity.js';
import { injectedPod } from '../../support/pods.js';
import { projectSecret } from '../../support/secret-volume.js';

const NS = 'bookstore';
const APP_PORT = 14080;
const SERVICE_PORT = 8080;
const CLUSTER_IP = '10.96.15.10';
const CLUSTER = `${NS}/bookstore|${SERVICE_PORT}`;
// Addresses of this run (another worktree may run the same test at the same time).
const NET = `127.${150 + (process.pid % 50)}.${Math.floor(Math.random() * 250) + 1}`;
const SERVER_IP = `${NET}.1`;
const CLIENT_IP = `${NET}.2`;
const OTHER_IP = `${NET}.3`;
const PROBE_PORTS = { 15901: 0, 15902: 0, 15903: 0 };

let api: TestApiServer;
let core: CoreV1Api;
let ctl: StartedControllerBinary;
let dir: string;
const agents: ProbeAgent[] = [];
const servers: net.Server[] = [];
const access: string[] = [];
let server: ProbeAgent;
let client: ProbeAgent;

function pod(name: string, ip: string, annotations: Record<string, string> = {}): V1Pod {
  const p = injectedPod({
    name,
    namespace: NS,
    serviceAccount: name,
    labels: { app: name },
    annotations,
    containers: [{ name: 'app', ports: [{ name: 'http', containerPort: APP_PORT }] }],
  });
  delete p.metadata!.uid;
  p.status = { podIP: ip, podIPs: [{ ip }], phase: 'Running' };
  return p;
}

async function startAgent(p: V1Pod, ip: string): Promise<ProbeAgent> {
  const uuid = p.metadata!.labels![PROXY_UUID_LABEL]!;
  const ca = new MeshCaSource({
    kc: api.kc,
    namespace: FSM_NS,
    meshName: 'fsm',
    logger: silentLogger(),
    create: false,
  });
  await ca.start();
  await new BootstrapProvisioner({ kc: api.kc, meshName: 'fsm', ca, logger: silentLogger() }).provision({
    proxyUuid: uuid,
    namespace: NS,
    serviceAccount: p.metadata!.name!,
  });
  await ca.stop();
  const volume = join(dir, uuid);
  await projectSecret(
    volume,
    await core.readNamespacedSecret({ name: bootstrapSecretName(uuid), namespace: NS }),
  );
  const agent = await startProbeAgent({
    adsAddress: `127.0.0.1:${ctl.adsPort}`,
    nodeId: uuid,
    nodeCluster: `${p.metadata!.name}.${NS}`,
    podAddress: ip,
    portMap: PROBE_PORTS,
    endpointHostMap: { '127.0.0.1': ip },
    backoff: { initialMs: 50, maxMs: 200 },
    originalDestination: proxyProtocolOriginalDestination(),
    accessLog: (line) => access.push(line),
    tls: {
      certFile: join(volume, 'tls.crt'),
      keyFile: join(volume, 'tls.key'),
      caFile: join(volume, 'ca.crt'),
      serverName: adsServerName(),
    },
  });
  agents.push(agent);
  return agent;
}

/** The app: answers with the identity header it received. */
async function app(ip: string, port: number, name: string): Promise<void> {
  const s = http.createServer((req, res) => {
    res.end(JSON.stringify({ app: name, xfcc: req.headers['x-forwarded-client-cert'] ?? null }));
  });
  await new Promise<void>((r) => s.listen(port, ip, r));
  servers.push(s);
}

/**
 * An HTTP GET over a connection to `via` (a capture listener) that announces `destination`;
 * resolves with the body, or 'closed' when the connection ends without an answer.
 */
function getVia(
  via: { host: string; port: number },
  destination: { address: string; port: number },
  headers: Record<string, string> = {},
): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect(via.port, via.host, () => {
      socket.write(
        proxyProtocolHeader({ address: socket.localAddress!, port: socket.localPort! }, destination),
      );
      const extra = Object.entries(headers)
        .map(([k, v]) => `${k}: ${v}\r\n`)
        .join('');
      socket.write(`GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n${extra}\r\n`);
    });
    let data = '';
    socket.on('data', (d: Buffer) => (data += d.toString()));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      const body = data.split('\r\n\r\n').slice(1).join('\r\n\r\n');
      resolve(data.startsWith('HTTP/1.1 200') ? body : data === '' ? 'closed' : data);
    });
  });
}

const outbound = (ip: string) => ({ host: ip, port: 15001 });
const inboundCapture = (ip: string) => ({ host: ip, port: 15003 });

async function slice(addresses: { ip: string; pod: string }[]): Promise<void> {
  const discovery = api.kc.makeApiClient(DiscoveryV1Api);
  const body = {
    metadata: { name: 'bookstore-abc', namespace: NS, labels: { 'kubernetes.io/service-name': 'bookstore' } },
    addressType: 'IPv4',
    ports: [{ port: APP_PORT, protocol: 'TCP' }],
    endpoints: addresses.map((a) => ({
      addresses: [a.ip],
      conditions: { ready: true },
      targetRef: { kind: 'Pod', namespace: NS, name: a.pod },
    })),
  };
  try {
    const cur = await discovery.readNamespacedEndpointSlice({ name: 'bookstore-abc', namespace: NS });
    await discovery.replaceNamespacedEndpointSlice({
      name: 'bookstore-abc',
      namespace: NS,
      body: { ...body, metadata: { ...body.metadata, resourceVersion: cur.metadata!.resourceVersion! } },
    });
  } catch {
    await discovery.createNamespacedEndpointSlice({ namespace: NS, body });
  }
}

beforeAll(async () => {
  api = await startTestApiServer();
  core = api.kc.makeApiClient(CoreV1Api);
  dir = await mkdtemp(join(tmpdir(), 'fsm-datapath-'));
  await core.createNamespace({ body: { metadata: { name: NS, labels: { [MONITORED_BY_LABEL]: 'fsm' } } } });
  await core.createNamespace({ body: { metadata: { name: FSM_NS } } });
  ctl = await startControllerBinary(api.kubeconfigPath, ['--fsm-namespace', FSM_NS, '--debounce', '5ms']);
  await controllerReady(ctl.base);
  const serverPod = pod('bookstore', SERVER_IP);
  const clientPod = pod('bookbuyer', CLIENT_IP);
  for (const p of [serverPod, clientPod]) {
    const created = await core.createNamespacedPod({ namespace: NS, body: p });
    if (created.status?.podIP !== p.status!.podIP) {
      await core.replaceNamespacedPodStatus({
        name: p.metadata!.name!,
        namespace: NS,
        body: { ...created, status: p.status },
      });
    }
  }
  await core.createNamespacedService({
    namespace: NS,
    body: {
      metadata: { name: 'bookstore', namespace: NS },
      spec: {
        clusterIP: CLUSTER_IP,
        selector: { app: 'bookstore' },
        ports: [{ port: SERVICE_PORT, targetPort: APP_PORT as never, protocol: 'TCP' }],
      },
    },
  });
  await slice([{ ip: SERVER_IP, pod: 'bookstore' }]);
  await app(SERVER_IP, APP_PORT, 'bookstore');
  await app(OTHER_IP, APP_PORT, 'outside-the-mesh');
  server = await startAgent(serverPod, SERVER_IP);
  client = await startAgent(clientPod, CLIENT_IP);
  for (const a of [server, client]) {
    await eventually(
      'the agent holds its workload certificate and the Service load assignment',
      () => {
        const s = a.status();
        return s.secrets.length === 2 &&
          s.endpoints[CLUSTER]?.length === 1 &&
          s.listeners.some((l) => l.name === 'outbound_listener')
          ? true
          : undefined;
      },
      20_000,
    );
  }
}, 60_000);

afterAll(async () => {
  for (const a of agents) await a.stop();
  for (const s of servers) await new Promise((r) => s.close(r));
  if (ctl) {
    ctl.bin.kill('SIGTERM');
    await ctl.bin.exited;
  }
  await api?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

it('bookbuyer → Service ClusterIP → bookstore over mTLS: the app sees the caller SPIFFE ID; both sides log it', async () => {
  const body = await getVia(
    outbound(CLIENT_IP),
    { address: CLUSTER_IP, port: SERVICE_PORT },
    {
      'x-forwarded-client-cert': 'URI=spiffe://forged/ns/x/sa/y',
    },
  );
  expect(JSON.parse(body)).toEqual({
    app: 'bookstore',
    xfcc: 'URI=spiffe://cluster.local/ns/bookstore/sa/bookbuyer',
  });
  expect(access.some((l) => l.includes('peer=spiffe://cluster.local/ns/bookstore/sa/bookbuyer'))).toBe(true);
  // No NACK anywhere: the agents implement every resource the controller sent.
  for (const a of agents) expect(a.status().nacks).toEqual({});
});

it('a destination outside the mesh passes through unencrypted (ORIGINAL_DST)', async () => {
  const body = await getVia(outbound(CLIENT_IP), { address: OTHER_IP, port: APP_PORT });
  expect(JSON.parse(body)).toEqual({ app: 'outside-the-mesh', xfcc: null });
});

it('strict (default): an unmeshed plaintext client is refused; permissive: accepted, with no identity', async () => {
  const dest = { address: SERVER_IP, port: APP_PORT };
  expect(await getVia(inboundCapture(SERVER_IP), dest)).toBe('closed');

  await core.patchNamespacedPod({
    name: 'bookstore',
    namespace: NS,
    body: [
      {
        op: 'add',
        path: `/metadata/annotations/${INBOUND_MTLS_ANNOTATION.replace('/', '~1')}`,
        value: 'permissive',
      },
    ],
  });
  // The controller pushes the permissive listener (a TLS inspector and a plaintext chain).
  await eventually(
    'plaintext is accepted once the listener is permissive',
    async () => ((await getVia(inboundCapture(SERVER_IP), dest)) === 'closed' ? undefined : true),
    20_000,
  );
  const body = await getVia(inboundCapture(SERVER_IP), dest, {
    'x-forwarded-client-cert': 'URI=spiffe://forged/ns/x/sa/y',
  });
  expect(JSON.parse(body)).toEqual({ app: 'bookstore', xfcc: null });
  // mTLS still works on the same port.
  const mtls = await getVia(outbound(CLIENT_IP), { address: CLUSTER_IP, port: SERVICE_PORT });
  expect(JSON.parse(mtls).xfcc).toBe('URI=spiffe://cluster.local/ns/bookstore/sa/bookbuyer');
});

it('fsm proxy get config shows the inbound mode, the outbound Services and their peers', async () => {
  const r = await runFsm(
    ['proxy', 'get', 'config', 'bookstore', '-n', NS, '--controller-url', ctl.base],
    api.kc,
  );
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  const config = JSON.parse(r.stdout) as {
    inbound: { mode: string; source: string };
    outbound: {
      services: {
        namespace: string;
        name: string;
        clusterIP: string;
        peers: { address: string; pod?: string; identity?: string }[];
      }[];
    };
  };
  expect(config.inbound).toMatchObject({ mode: 'permissive', source: 'pod' });
  const svc = config.outbound.services.find((s) => s.name === 'bookstore');
  expect(svc).toMatchObject({ namespace: NS, clusterIP: CLUSTER_IP });
  expect(svc!.peers).toEqual([
    expect.objectContaining({
      address: SERVER_IP,
      pod: 'bookstore',
      identity: 'spiffe://cluster.local/ns/bookstore/sa/bookstore',
    }),
  ]);
});

it('an EndpointSlice change reaches every proxy as a new load assignment, and traffic follows it', async () => {
  await slice([{ ip: CLIENT_IP, pod: 'bookbuyer' }]);
  for (const a of agents) {
    await eventually(
      'the load assignment names the new endpoint',
      () => (a.status().endpoints[CLUSTER]?.join() === `${CLIENT_IP}:${APP_PORT}` ? true : undefined),
      20_000,
    );
  }
  // bookbuyer's own app answers now (it has the port too).
  await app(CLIENT_IP, APP_PORT, 'bookbuyer-app');
  const body = await getVia(outbound(CLIENT_IP), { address: CLUSTER_IP, port: SERVICE_PORT });
  expect(JSON.parse(body)).toEqual({
    app: 'bookbuyer-app',
    xfcc: 'URI=spiffe://cluster.local/ns/bookstore/sa/bookbuyer',
  });
});

it('Delta xDS: a one-endpoint change costs one resource on each affected stream', async () => {
  // A second Service, so the stream holds more than the one that changes.
  await core.createNamespacedService({
    namespace: NS,
    body: {
      metadata: { name: 'other', namespace: NS },
      spec: { clusterIP: '10.96.15.11', ports: [{ port: 80, protocol: 'TCP' }] },
    },
  });
  const observer = pod('observer', OTHER_IP);
  await core.createNamespacedPod({ namespace: NS, body: observer });
  const uuid = observer.metadata!.labels![PROXY_UUID_LABEL]!;
  const authority = await meshAuthorityOf(api.kc);
  const ads = await bootstrapAdsClient(`127.0.0.1:${ctl.adsPort}`, authority, {
    proxyUuid: uuid,
    namespace: NS,
    serviceAccount: 'observer',
  });
  try {
    const stream = ads.delta();
    const other = `${NS}/other|80`;
    stream.send({
      node: { id: uuid, cluster: `observer.${NS}` },
      type_url: CLUSTER_LOAD_ASSIGNMENT_TYPE_URL,
      resource_names_subscribe: [CLUSTER, other],
    });
    const first = await stream.next();
    expect(first.names.sort()).toEqual([CLUSTER, other].sort());
    stream.send({ type_url: CLUSTER_LOAD_ASSIGNMENT_TYPE_URL, response_nonce: first.nonce });
    // One more endpoint for bookstore.
    await slice([
      { ip: CLIENT_IP, pod: 'bookbuyer' },
      { ip: SERVER_IP, pod: 'bookstore' },
    ]);
    const change = await stream.next();
    expect(change.names).toEqual([CLUSTER]);
    expect(change.removed_resources).toEqual([]);
    stream.send({ type_url: CLUSTER_LOAD_ASSIGNMENT_TYPE_URL, response_nonce: change.nonce });
    for (const a of agents) {
      await eventually('the agents hold both endpoints', () =>
        a.status().endpoints[CLUSTER]?.length === 2 ? true : undefined,
      );
    }
    stream.close();
  } finally {
    ads.close();
  }
});
