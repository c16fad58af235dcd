/** What the processes of `npm run bench:controller` share: names and their IPC messages. */

export const BENCH_NAMESPACE = 'bench';
export const BENCH_POD_PREFIX = 'pod';

/** Parent → API server process (test/support/controller-bench-apiserver.ts). */
export type BenchApiCommand = { cmd: 'seed'; pods: number; meshName: string } | { cmd: 'stop' };

/** API server process → parent. */
export type BenchApiEvent =
  | { evt: 'seeded'; kubeconfigPath: string; pods: number; seedMs: number; rssMb: number }
  | { evt: 'error'; message: string };

/** Bare-list process (test/support/controller-bench-list.ts) → parent. */
export type BenchListEvent =
  | {
      evt: 'listed';
      items: number;
      pages: number;
      /** First request sent → last page received (the list alone). */
      listMs: number;
      /** process.hrtime.bigint() when the last page was received (CLOCK_MONOTONIC, shared). */
      doneNs: string;
      rssMb: number;
    }
  | { evt: 'error'; message: string };
