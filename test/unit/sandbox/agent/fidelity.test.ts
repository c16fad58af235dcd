/**
 * Issue 19 on the probe agent's data plane, with resources built by the real catalog for pods the
 * real injector mutated, sent through the proto root and parsed by the agent: an HTTPS probe whose
 * TLS the proxy originates reaches an HTTPS app without verifying its certificate (kubelet's way) and
 * a plain app fails in Envoy's words; a redirect within the app lands back on it; the answers carry
 * the cause the controller's diagnosis reads.
 */
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { desiredProxy } from '../../../../pkg/catalog/index.js';
import {
  CLUSTER_TYPE_URL,
  LISTENER_TYPE_URL,
  decodeMessage,
  encodeMessage,
} from '../../../../pkg/envoy/index.js';
import { defaultInjectorConfig, mutatePod } from '../../../../pkg/injector/index.js';
import { silentLogger } from '../../../../pkg/logger/index.js';
import { diagnoseProbeAnswer, parseOriginalProbes } from '../../../../pkg/probes/index.js';
import { ListenerSet } from '../../../../pkg/sandbox/agent/listeners.js';
import { EndpointPicker, type DataPlaneContext } from '../../../../pkg/sandbox/agent/upstream.js';
import { acceptResponse } from '../../../../pkg/sandbox/agent/xds-config.js';
import type { ClusterModel } from '../../../../pkg/sandbox/agent/model.js';
import { kubeletGet } from '../../../../pkg/sandbox/kubelet/kubelet-http.js';
import { startWorkload, type Workload } from '../../../../pkg/sandbox/workloads/index.js';
import { startHttpApp, startHttpsApp, type RecordingApp } from '../../../support/agent.js';
import { closedPort } from '../../../support/net.js';

const POD = '127.0.65.1';

function inject(containers: V1Container[]): V1Pod {
  const r = mutatePod({
    object: { metadata: { name: 'p', namespace: 'shop' }, spec: { containers } },
    namespace: 'shop',
    namespaceObject: { metadata: { name: 'shop', labels: { 'flomesh.io/monitored-by': 'fsm' } } },
    config: defaultInjectorConfig(),
    newProxyUuid: () => '00000000-0000-4000-8000-000000000065',
  });
  if (!r.desired) throw new Error(r.reason);
  return r.desired;
}

let tlsApp: RecordingApp;
let plainApp: RecordingApp;
let redirect: Workload;
let set: ListenerSet;
let pod: V1Pod;

beforeAll(async () => {
  tlsApp = await startHttpsApp();
  plainApp = await startHttpApp();
  const redirectPort = await closedPort();
  redirect = await startWorkload({ kind: 'redirect', host: '127.0.0.1', ports: [redirectPort], name: 'web' });
  pod = inject([
    { name: 'a', readinessProbe: { httpGet: { port: tlsApp.port, path: '/a', scheme: 'HTTPS' } } },
    { name: 'b', readinessProbe: { httpGet: { port: tlsApp.port, path: '/b', scheme: 'HTTPS' } } },
    { name: 'c', readinessProbe: { httpGet: { port: plainApp.port, path: '/c', scheme: 'HTTPS' } } },
    { name: 'web', livenessProbe: { httpGet: { port: redirectPort, path: '/healthz' } } },
  ]);
  const d = desiredProxy(pod);
  if (!d.isProxy) throw new Error(d.reason);
  const wire = (url: string, items: unknown[]) =>
    items.map((r) => decodeMessage(url, encodeMessage(url, r as Record<string, unknown>)));
  const clusters = new Map<string, ClusterModel>(
    acceptResponse(CLUSTER_TYPE_URL, wire(CLUSTER_TYPE_URL, d.resources.clusters)).map((c) => [c.name, c]),
  );
  const listeners = acceptResponse(LISTENER_TYPE_URL, wire(LISTENER_TYPE_URL, d.resources.listeners));
  const picker = new EndpointPicker({});
  const context: DataPlaneContext = {
    logger: silentLogger(),
    cluster: (n) => clusters.get(n),
    routeConfig: () => undefined,
    pickEndpoint: (c) => picker.pick(c),
    secret: () => undefined,
    accessLog: () => undefined,
  };
  set = new ListenerSet({
    podAddress: POD,
    portMap: { 15901: 0, 15902: 0, 15903: 0 },
    context,
    logger: silentLogger(),
  });
  await set.update(listeners);
});

afterAll(async () => {
  await set?.closeAll();
  await tlsApp?.close();
  await plainApp?.close();
  await redirect?.stop();
});

const at = (listener: string, path: string) => `http://${POD}:${set.boundPort(listener)!}${path}`;

function recordOf(container: string) {
  const r = parseOriginalProbes(pod.metadata!.annotations!['flomesh.io/original-probes'], 'shop/p');
  if (r.status !== 'valid') throw new Error('invalid record');
  return r.containers[container]!;
}

it('the first HTTPS probe passes its TLS through to the app (its own certificate answers)', async () => {
  const r = await kubeletGet({
    url: `https://${POD}:${set.boundPort('readiness_listener')!}/a`,
    headers: [],
    timeoutMs: 3000,
  });
  expect(r).toMatchObject({ kind: 'response', status: 200 });
  expect(tlsApp.requests.at(-1)?.url).toBe('/a');
});

it('another HTTPS probe: plain HTTP to the listener, TLS from the proxy to the app, unverified as kubelet does', async () => {
  const r = await kubeletGet({
    url: at('readiness_listener', '/fsm-readiness-probe/b'),
    headers: [],
    timeoutMs: 3000,
  });
  expect(r).toMatchObject({ kind: 'response', status: 200, body: 'tls app ok' });
  expect(tlsApp.requests.at(-1)?.url).toBe('/b');
});

it('the app answering 503 over TLS: the probe fails with the app status', async () => {
  tlsApp.behaviour.status = 503;
  try {
    const r = await kubeletGet({
      url: at('readiness_listener', '/fsm-readiness-probe/b'),
      headers: [],
      timeoutMs: 3000,
    });
    expect(r).toMatchObject({ kind: 'response', status: 503 });
    if (r.kind !== 'response') return;
    expect(diagnoseProbeAnswer(recordOf('b').readiness!, { status: r.status, body: r.body })?.cause).toBe(
      'app status',
    );
  } finally {
    tlsApp.behaviour.status = 200;
  }
});

it("an app that speaks no TLS: 503 in Envoy's words, diagnosed as a TLS failure", async () => {
  const r = await kubeletGet({
    url: at('readiness_listener', '/fsm-readiness-probe/c'),
    headers: [],
    timeoutMs: 3000,
  });
  expect(r).toMatchObject({ kind: 'response', status: 503 });
  if (r.kind !== 'response') return;
  expect(r.body).toMatch(
    /^upstream connect error or disconnect\/reset before headers\. reset reason: connection failure, transport failure reason: TLS_error:/,
  );
  expect(diagnoseProbeAnswer(recordOf('c').readiness!, { status: r.status, body: r.body })).toMatchObject({
    cause: 'TLS failure',
    detail: expect.stringContaining(`the TLS handshake with the app on 127.0.0.1:${plainApp.port} failed`),
  });
});

it('a redirect within the app (/healthz → /healthz/) lands back on the app, as without the mesh', async () => {
  const r = await kubeletGet({
    url: at('liveness_listener', '/fsm-liveness-probe'),
    headers: [],
    timeoutMs: 3000,
  });
  expect(r).toEqual({
    kind: 'response',
    status: 200,
    body: 'web ok /healthz/\n',
    url: at('liveness_listener', '/healthz/'),
    redirects: 1,
  });
});

it('the landing is the probe path and what is under it, nothing else of the app', async () => {
  expect(
    await kubeletGet({ url: at('liveness_listener', '/healthzz/'), headers: [], timeoutMs: 3000 }),
  ).toMatchObject({
    kind: 'response',
    status: 404,
  });
  expect(
    await kubeletGet({ url: at('liveness_listener', '/admin/'), headers: [], timeoutMs: 3000 }),
  ).toMatchObject({
    kind: 'response',
    status: 404,
  });
});
