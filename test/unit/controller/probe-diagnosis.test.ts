/**
 * The controller's probe diagnosis (issue 19 item 5): kubelet's Unhealthy event of a rewritten probe
 * → the rewritten endpoint called as kubelet calls it (a real HTTP server stands in for the pod's
 * probe listener) → a ProbeTargetFailed Event on the pod (a real API server), rate-limited per pod,
 * container and probe.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { CoreV1Api, type CoreV1Event, type V1Pod } from '@kubernetes/client-node';
import { Registry } from 'prom-client';
import { failedProbeOf } from '../../../pkg/controller/unhealthy-event.js';
import { ProbeDiagnoser } from '../../../pkg/controller/probe-diagnosis.js';
import { callProbe } from '../../../pkg/controller/probe-call.js';
import { silentLogger } from '../../../pkg/logger/index.js';
import { LOCAL_REPLY } from '../../../pkg/sandbox/agent/index.js';
import { startTestApiServer, type TestApiServer } from '../../support/apiserver.js';
import { MemoryInformer } from '../../support/memory-informer.js';
import { http as httpSpec, injectedPod, tcp } from '../../support/pods.js';

function unhealthy(
  over: Partial<CoreV1Event> = {},
  message = 'Readiness probe failed: HTTP probe failed with statuscode: 503',
): CoreV1Event {
  return {
    metadata: { name: 'e', namespace: 'shop' },
    involvedObject: {
      kind: 'Pod',
      name: 'web',
      namespace: 'shop',
      uid: 'u1',
      fieldPath: 'spec.containers{app}',
    },
    reason: 'Unhealthy',
    message,
    lastTimestamp: new Date(1_000_000),
    ...over,
  };
}

describe("failedProbeOf: kubelet's Unhealthy events read back", () => {
  it.each<[string, CoreV1Event, unknown]>([
    [
      'readiness',
      unhealthy(),
      { namespace: 'shop', pod: 'web', podUid: 'u1', container: 'app', type: 'readiness', at: 1_000_000 },
    ],
    [
      'liveness',
      unhealthy({}, 'Liveness probe failed: Get "http://x": context deadline exceeded'),
      expect.objectContaining({ type: 'liveness' }),
    ],
    [
      'startup of a native sidecar',
      unhealthy(
        {
          involvedObject: {
            kind: 'Pod',
            name: 'web',
            namespace: 'shop',
            fieldPath: 'spec.initContainers{sidecar}',
          },
        },
        'Startup probe failed: x',
      ),
      expect.objectContaining({ container: 'sidecar', type: 'startup' }),
    ],
    ['another reason', unhealthy({ reason: 'Killing' }), undefined],
    [
      'no container',
      unhealthy({ involvedObject: { kind: 'Pod', name: 'web', namespace: 'shop' } }),
      undefined,
    ],
    [
      'not a pod',
      unhealthy({ involvedObject: { kind: 'Node', name: 'n', fieldPath: 'spec.containers{x}' } }),
      undefined,
    ],
    ['a message kubelet does not write', unhealthy({}, 'probe is sad'), undefined],
  ])('%s', (_n, e, want) => {
    expect(failedProbeOf(e)).toEqual(want);
  });
});

describe('ProbeDiagnoser', () => {
  let api: TestApiServer;
  let core: CoreV1Api;
  let listener: http.Server;
  let port: number;
  let answer: { status: number; body: string } = { status: 503, body: 'app unhealthy' };
  const pods = new MemoryInformer<V1Pod>();
  let clock = 1_000_000;
  let d: ProbeDiagnoser;

  beforeAll(async () => {
    api = await startTestApiServer();
    core = api.kc.makeApiClient(CoreV1Api);
    await core.createNamespace({ body: { metadata: { name: 'shop' } } });
    listener = http.createServer((_req, res) => {
      res.writeHead(answer.status, { 'content-type': 'text/plain' });
      res.end(answer.body);
    });
    await new Promise<void>((r) => listener.listen(0, '127.0.0.1', r));
    port = (listener.address() as AddressInfo).port;
    const pod = injectedPod({
      name: 'web',
      namespace: 'shop',
      containers: [{ name: 'app', readiness: httpSpec(14001, '/ready'), liveness: tcp(5432) }],
    });
    pod.metadata!.uid = 'u1';
    pod.status = { podIP: '127.0.0.1' };
    pods.set(pod);
    d = new ProbeDiagnoser({
      kubeConfig: api.kc,
      pods,
      isMeshNamespace: (ns) => ns === 'shop',
      logger: silentLogger(),
      registry: new Registry(),
      intervalMs: 60_000,
      // The pod's probe listener: the same call, to this test's port.
      call: (ip, call, t) => callProbe(ip, { ...call, port }, t),
      now: () => clock,
    });
  });

  afterAll(async () => {
    await d.stop();
    await new Promise((r) => listener.close(r));
    await api.stop();
  });

  const events = async () =>
    (await core.listNamespacedEvent({ namespace: 'shop', fieldSelector: 'reason=ProbeTargetFailed' })).items;

  it("the app's own 503: recorded on the pod with the original target", async () => {
    expect(await d.diagnose(failedProbeOf(unhealthy())!)).toBe('recorded');
    const [e] = await events();
    expect(e).toMatchObject({
      type: 'Warning',
      reason: 'ProbeTargetFailed',
      message:
        'Readiness probe of container app: app status: the app on 127.0.0.1:14001 answered 503 (original target httpGet http://:14001/ready; kubelet calls :15902/fsm-readiness-probe)',
      involvedObject: {
        kind: 'Pod',
        name: 'web',
        namespace: 'shop',
        uid: 'u1',
        fieldPath: 'spec.containers{app}',
      },
      source: { component: 'fsm-controller' },
      count: 1,
    });
  });

  it('the same probe again within the interval: not diagnosed again', async () => {
    clock += 1000;
    expect(await d.diagnose(failedProbeOf(unhealthy({ lastTimestamp: new Date(clock) }))!)).toBe(
      'rate-limited',
    );
  });

  it('after the interval: diagnosed again; the same cause raises the count of one Event', async () => {
    clock += 60_000;
    expect(await d.diagnose(failedProbeOf(unhealthy({ lastTimestamp: new Date(clock) }))!)).toBe('recorded');
    const all = await events();
    expect(all).toHaveLength(1);
    expect(all[0]!.count).toBe(2);
  });

  it("the proxy's local reply: connection refused, as a separate Event", async () => {
    clock += 60_000;
    answer = { status: 503, body: LOCAL_REPLY.connectRefused };
    expect(await d.diagnose(failedProbeOf(unhealthy({ lastTimestamp: new Date(clock) }))!)).toBe('recorded');
    expect((await events()).map((e) => e.message)).toContain(
      'Readiness probe of container app: connection refused: connection refused by 127.0.0.1:14001: nothing listens there (original target httpGet http://:14001/ready; kubelet calls :15902/fsm-readiness-probe)',
    );
  });

  it('a probe that answers again: nothing recorded', async () => {
    clock += 60_000;
    answer = { status: 200, body: 'ok' };
    expect(await d.diagnose(failedProbeOf(unhealthy({ lastTimestamp: new Date(clock) }))!)).toBe('passes');
  });

  it.each<[string, CoreV1Event, string]>([
    ['an old event (a relist replays history)', unhealthy({ lastTimestamp: new Date(0) }), 'stale'],
    [
      'a probe fsm did not rewrite',
      unhealthy({
        involvedObject: {
          kind: 'Pod',
          name: 'web',
          namespace: 'shop',
          uid: 'u1',
          fieldPath: 'spec.containers{other}',
        },
      }),
      'not-rewritten',
    ],
    [
      'a re-created pod of the same name',
      unhealthy({
        involvedObject: {
          kind: 'Pod',
          name: 'web',
          namespace: 'shop',
          uid: 'u0',
          fieldPath: 'spec.containers{app}',
        },
      }),
      'no-pod',
    ],
    [
      'a namespace outside the mesh',
      unhealthy({
        involvedObject: {
          kind: 'Pod',
          name: 'web',
          namespace: 'elsewhere',
          fieldPath: 'spec.containers{app}',
        },
      }),
      'no-pod',
    ],
  ])('%s', async (_n, e, outcome) => {
    const f = failedProbeOf({ ...e, lastTimestamp: e.lastTimestamp ?? new Date(clock) })!;
    if (f.at !== 0) f.at = clock;
    expect(await d.diagnose(f)).toBe(outcome);
  });
});
