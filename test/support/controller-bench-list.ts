/**
 * The bare baseline of `npm run bench:controller`'s time to ready, run as a fresh process exactly as
 * the controller is: load the kubeconfig (argv[2]) with @kubernetes/client-node and list every pod
 * of the cluster in pages of `pageSize` (argv[3]) with the client's own CoreV1Api, holding the
 * items, as a ListWatch does before its watch. Reports over IPC and exits.
 */
import { CoreV1Api, KubeConfig, type V1Pod } from '@kubernetes/client-node';
import type { BenchListEvent } from './controller-bench-shared.js';

function send(e: BenchListEvent): Promise<void> {
  return new Promise((resolve) => (process.send ? process.send(e, () => resolve()) : resolve()));
}

async function main(): Promise<void> {
  const [kubeconfigPath, pageSizeArg] = process.argv.slice(2);
  if (!kubeconfigPath) throw new Error('usage: controller-bench-list <kubeconfig> [page size]');
  const limit = Number(pageSizeArg ?? 500);
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  const core = kc.makeApiClient(CoreV1Api);
  const items: V1Pod[] = [];
  let pages = 0;
  let cont: string | undefined;
  const t0 = performance.now();
  do {
    const page = await core.listPodForAllNamespaces({ limit, _continue: cont });
    for (const p of page.items) items.push(p);
    pages++;
    cont = page.metadata?._continue || undefined;
  } while (cont);
  const doneNs = process.hrtime.bigint();
  const listMs = performance.now() - t0;
  await send({
    evt: 'listed',
    items: items.length,
    pages,
    listMs,
    doneNs: doneNs.toString(),
    rssMb: process.memoryUsage().rss / 2 ** 20,
  });
  process.exit(0);
}

main().catch(async (err: unknown) => {
  await send({ evt: 'error', message: err instanceof Error ? (err.stack ?? err.message) : String(err) });
  process.exit(1);
});
