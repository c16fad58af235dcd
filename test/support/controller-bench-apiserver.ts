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
        await api.server.createObject('pods', pod as unknown as Record<string, unknown>, {
          skipAdmission: true,
        });
        n++;
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
