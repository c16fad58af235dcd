/** What the processes of `npm run bench:controller` share: names and their IPC messages. */

export const BENCH_NAMESPACE = 'bench';
export const BENCH_POD_PREFIX = 'pod';

/** Parent → API server process (test/support/controller-bench-apiserver.ts). */
export type BenchApiCommand =
  | { cmd: 'seed'; pods: number; meshName: string }
  /** The mesh scenario: pods with an IP, Services with a ClusterIP, one EndpointSlice each. */
  | { cmd: 'seed-mesh'; pods: number; services: number; endpointsPerService: number; meshName: string }
  | { cmd: 'stop' };

/** The mesh scenario's names: Service `svc-<k>`, its slice `svc-<k>-slice`, pod `pod-<i>` at meshPodIP(i). */
export const BENCH_SERVICE_PREFIX = 'svc';
export function meshPodIP(i: number): string {
  return `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
}
export function meshServiceIP(k: number): string {
  return `172.20.${(k >> 8) & 255}.${k & 255}`;
}
/** The endpoints (pod indexes) of Service k: `perService` consecutive pods, wrapping around. */
export function meshEndpointsOf(k: number, perService: number, pods: number): number[] {
  return Array.from({ length: perService }, (_, j) => (k * perService + j) % pods);
}

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
