/**
 * The gRPC health check behind a dynamic import: @grpc/grpc-js and the health service definition
 * (~20 MiB resident) load on the first gRPC check only. fsm-healthcheck runs in every pod with a TCP
 * or gRPC probe and most pods never make a gRPC check: a static import from this package's index
 * would load it in all of them.
 */
import type { CheckOutcome } from './tcp-check.js';

type GrpcCheckModule = typeof import('./grpc-check.js'); // eslint-disable-line @typescript-eslint/consistent-type-imports -- a type-only view of the lazily loaded module

let loaded: Promise<GrpcCheckModule> | undefined;

/** grpc.health.v1.Health/Check of host:port (see ./grpc-check.ts); loads the gRPC stack on first use. */
export async function grpcHealthCheck(
  host: string,
  port: number,
  service: string,
  timeoutMs: number,
): Promise<CheckOutcome> {
  loaded ??= import('./grpc-check.js');
  const m = await loaded;
  return m.grpcHealthCheck(host, port, service, timeoutMs);
}
