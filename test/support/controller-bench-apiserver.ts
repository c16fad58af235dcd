/**
 * The API server of `npm run bench:controller`, run as its own process (child_process.fork) so it
 * never shares an event loop with the controller or with the benchmark's clients. It starts the
 * sandbox API server, creates the namespace `bench` labelled for the mesh, seeds `pods` injected pods
 * in-process (createObject, no admission), and reports the kubeconfig path over IPC. On 'stop' it
 * closes the server and exits.
 */
import { DEFAULT_FSM_NAMESPACE, MONITORED_BY_LABEL } from '../../pkg/constants/index.js';
import { startTestApiServer } from './apiserver.js';
import {
  BENCH_NAMESPACE,
  BENCH_POD_PREFIX,
  BENCH_SERVICE_PREFIX,
  meshEndpointsOf,
  meshPodIP,
  meshServiceIP,
  type BenchApiCommand,
  type BenchApiEvent,
} from './controller-bench-shared.js';
import { manyInjectedPods } from './pods.js';

function send(e: BenchApiEvent): void {
  process.send?.(e);
}

async function main(): Promise<void> {
  const api = await startTestApiServer();
  let stopping = false;
  const stop = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    await api.stop();
    process.disconnect?.();
    process.exit(0);
  };
  // The parent going away (crash, Ctrl-C) must not leave this server running.
  process.on('disconnect', () => void stop());
  process.on('message', (c: BenchApiCommand) => {
    if (c.cmd === 'stop') {
      void stop();
      return;
    }
    void (async () => {
      const t0 = performance.now();
      await api.server.createObject(
        'namespaces',
        { metadata: { name: BENCH_NAMESPACE, labels: { [MONITORED_BY_LABEL]: c.meshName } } },
        { skipAdmission: true },
      );
      // The control plane's own namespace: the controller creates the mesh CA Secret there.
      await api.server.createObject(
        'namespaces',
        { metadata: { name: DEFAULT_FSM_NAMESPACE } },
        { skipAdmission: true },
      );
      let n = 0;
      for (const pod of manyInjectedPods(c.pods, BENCH_POD_PREFIX, BENCH_NAMESPACE)) {
        if (c.cmd === 'seed-mesh')
          pod.status = { phase: 'Running', podIP: meshPodIP(n), podIPs: [{ ip: meshPodIP(n) }] };
        await api.server.createObject('pods', pod as unknown as Record<string, unknown>, {
          skipAdmission: true,
        });
        n++;
      }
      if (c.cmd === 'seed-mesh') {
        for (let k = 0; k < c.services; k++) {
          const name = `${BENCH_SERVICE_PREFIX}-${k}`;
          await api.server.createObject(
            'services',
            {
              metadata: { name, namespace: BENCH_NAMESPACE },
              spec: { clusterIP: meshServiceIP(k), ports: [{ port: 80, targetPort: 8080, protocol: 'TCP' }] },
            },
            { skipAdmission: true },
          );
          await api.server.createObject(
            'endpointslices',
            {
              apiVersion: 'discovery.k8s.io/v1',
              kind: 'EndpointSlice',
              metadata: {
                name: `${name}-slice`,
                namespace: BENCH_NAMESPACE,
                labels: { 'kubernetes.io/service-name': name },
              },
              addressType: 'IPv4',
              ports: [{ port: 8080, protocol: 'TCP' }],
              endpoints: meshEndpointsOf(k, c.endpointsPerService, c.pods).map((i) => ({
                addresses: [meshPodIP(i)],
                conditions: { ready: true },
                targetRef: { kind: 'Pod', namespace: BENCH_NAMESPACE, name: `${BENCH_POD_PREFIX}-${i}` },
              })),
            },
            { skipAdmission: true },
          );
        }
      }
      send({
        evt: 'seeded',
        kubeconfigPath: api.kubeconfigPath,
        pods: n,
        seedMs: performance.now() - t0,
        rssMb: process.memoryUsage().rss / 2 ** 20,
      });
    })().catch((err: unknown) => {
      send({ evt: 'error', message: err instanceof Error ? (err.stack ?? err.message) : String(err) });
    });
  });
}

main().catch((err: unknown) => {
  send({ evt: 'error', message: err instanceof Error ? (err.stack ?? err.message) : String(err) });
  process.exit(1);
});
