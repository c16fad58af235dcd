/**
 * Issue 17 item 3: recovery after an API-server outage, on the built fsm-controller. The sandbox API
 * server is stopped for 30 s (long enough for a plain exponential backoff to reach its 30 s cap),
 * then started again on the same address with the same store; at that moment a pod's probe changes.
 * Printed: API server back → /health/ready 200, and → the change reaching the pod's proxy over ADS.
 * The bound asserted is twice the 5 s goal (a test bound, not a benchmark).
 */
import { CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import { LISTENER_TYPE_URL, decodeMessage } from '../../../pkg/envoy/index.js';
import {
  MONITORED_BY_LABEL,
  ORIGINAL_PROBES_ANNOTATION,
  PROXY_UUID_LABEL,
} from '../../../pkg/constants/index.js';
import { createCA } from '../../../pkg/tls/index.js';
import { ackOf, type RawAdsClient, type RawStream, type SotwResponse } from '../../support/ads-client.js';
import { bootstrapAdsClient, meshAuthorityOf } from '../../support/mesh-identity.js';
import { startTestApiServer, type TestApiServer } from '../../support/apiserver.js';
import { eventually } from '../../support/eventually.js';
import { closedPort, httpRequest } from '../../support/net.js';
import { http, injectedPod, tcp } from '../../support/pods.js';
import { startControllerBinary } from '../../support/controller-binary.js';
import type { RunningBinary } from '../../support/process.js';

const NS = 'bookstore';
const OUTAGE_MS = 30_000;
const GOAL_MS = 5_000;

function bookstore(name: string, livenessPath: string): V1Pod {
  const pod = injectedPod({
    name,
    namespace: NS,
    containers: [{ name: 'app', ports: [14001], liveness: http(14001, livenessPath), readiness: tcp(14001) }],
  });
  delete pod.metadata!.uid;
  return pod;
}

function livenessPrefix(resp: SotwResponse): string | undefined {
  const l = resp.resources
    .map((r) => decodeMessage<any>(LISTENER_TYPE_URL, r.value, { enums: String, longs: Number, json: true }))
    .find((d) => d.name === 'liveness_listener');
  const route =
    l?.filter_chains?.[0]?.filters?.[0]?.typed_config?.route_config?.virtual_hosts?.[0]?.routes?.[0];
  return route?.route?.prefix_rewrite ?? route?.route?.regex_rewrite?.substitution;
}

describe('fsm-controller binary: recovery after an API-server outage (issue 17 item 3)', () => {
  let api: TestApiServer;
  let bin: RunningBinary | undefined;
  let ads: RawAdsClient | undefined;
  let stream: RawStream<SotwResponse> | undefined;

  afterAll(async () => {
    stream?.cancel();
    ads?.close();
    bin?.kill('SIGKILL');
    if (bin) await bin.exited;
    await api?.stop();
  });

  it('is ready again, and pushes a change made at once, within seconds of the API server answering', async () => {
    // A fixed address and CA, so the restarted server is the same one to the controller's kubeconfig.
    api = await startTestApiServer({ port: await closedPort(), ca: await createCA('fsm-outage-ca') });
    const core = api.kc.makeApiClient(CoreV1Api);
    await core.createNamespace({ body: { metadata: { name: NS, labels: { [MONITORED_BY_LABEL]: 'fsm' } } } });
    // The control plane's own namespace, as in a cluster: the mesh CA Secret lives there.
    await core.createNamespace({ body: { metadata: { name: 'fsm-system' } } });
    const pod = bookstore('outage-1', '/healthz');
    await core.createNamespacedPod({ namespace: NS, body: pod });

    const started = await startControllerBinary(api.kubeconfigPath, ['--out-of-sync-threshold', '1s']);
    bin = started.bin;
    const base = started.base;
    const ready = async (): Promise<number> => (await httpRequest(base + '/health/ready')).status;
    await eventually('ready', async () => ((await ready()) === 200 ? true : undefined));

    const uuid = pod.metadata!.labels![PROXY_UUID_LABEL]!;
    // The pod's sidecar presents its bootstrap credential (ADS is mTLS bound to identity).
    ads = await bootstrapAdsClient(`127.0.0.1:${Number(started.adsPort)}`, await meshAuthorityOf(api.kc), {
      proxyUuid: uuid,
      namespace: NS,
      serviceAccount: pod.spec!.serviceAccountName || 'default',
    });
    stream = ads.sotw();
    stream.send({ node: { id: uuid }, type_url: LISTENER_TYPE_URL });
    const first = await stream.next();
    stream.send({ ...ackOf(first), node: { id: uuid } });
    expect(livenessPrefix(first)).toBe('/healthz');

    await api.server.stop();
    await eventually('not ready during the outage', async () => ((await ready()) === 503 ? true : undefined));
    await new Promise((r) => setTimeout(r, OUTAGE_MS));
    expect(await ready()).toBe(503);

    await api.server.start();
    const back = Date.now();
    // The change made the moment the API server answers again.
    const current = await core.readNamespacedPod({ name: 'outage-1', namespace: NS });
    current.metadata!.annotations![ORIGINAL_PROBES_ANNOTATION] = bookstore(
      'outage-1',
      '/live',
    ).metadata!.annotations![ORIGINAL_PROBES_ANNOTATION]!;
    await core.replaceNamespacedPod({ name: 'outage-1', namespace: NS, body: current });

    const bound = 2 * GOAL_MS;
    const readyAgain = eventually(
      'ready again',
      async () => ((await ready()) === 200 ? Date.now() - back : undefined),
      bound,
      100,
    );
    const pushed = (async () => {
      const deadline = setTimeout(() => stream!.cancel(), bound);
      try {
        for (;;) {
          const r = await stream!.next();
          stream!.send({ ...ackOf(r), node: { id: uuid } });
          if (livenessPrefix(r) === '/live') return Date.now() - back;
        }
      } finally {
        clearTimeout(deadline);
      }
    })();
    const [readyMs, pushMs] = await Promise.allSettled([readyAgain, pushed]);
    const fmt = (r: PromiseSettledResult<number>): string =>
      r.status === 'fulfilled' ? `${(r.value / 1000).toFixed(1)} s` : `not within ${bound / 1000} s`;
    console.log(
      `API server down ${OUTAGE_MS / 1000} s, then back: /health/ready 200 after ${fmt(readyMs)}, ` +
        `pod change at the proxy after ${fmt(pushMs)} (goal ${GOAL_MS / 1000} s)`,
    );
    expect(readyMs.status).toBe('fulfilled');
    expect(pushMs.status).toBe('fulfilled');
  }, 120_000);
});
