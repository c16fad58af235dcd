import * as grpc from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';
import type { CheckOutcome } from './tcp-check.js';

/** Client for grpc.health.v1.Health built from the maintained grpc-health-check service definition. */
const HealthClientCtor = grpc.makeGenericClientConstructor(healthService, 'Health');

/** The one method we call; the generic constructor's methods are untyped. */
interface HealthClient extends grpc.Client {
  Check(
    request: { service: string },
    options: grpc.CallOptions,
    callback: (err: grpc.ServiceError | null, res?: { status?: string }) => void,
  ): grpc.ClientUnaryCall;
}

/**
 * One grpc.health.v1.Health/Check call to host:port, as kubelet's grpc probe makes it: a fresh
 * plaintext channel per check (a cached channel's reconnect backoff would hide a recovered app),
 * bounded by timeoutMs. SERVING → ok; anything else → the status or the error. Never rejects.
 */
export function grpcHealthCheck(
  host: string,
  port: number,
  service: string,
  timeoutMs: number,
  via?: { target: string; options: Record<string, string | number> },
): Promise<CheckOutcome> {
  // `via`: another way to host:port (the sandbox's node network: an HTTP CONNECT proxy's socket).
  const target = via?.target ?? (host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`);
  const client = new HealthClientCtor(target, grpc.credentials.createInsecure(), {
    ...via?.options,
    'grpc.max_receive_message_length': 64 * 1024,
    'grpc.enable_retries': 0,
    // The global subchannel pool would hand a fresh client the backed-off connection of an earlier one.
    'grpc.use_local_subchannel_pool': 1,
  }) as unknown as HealthClient;
  return new Promise<CheckOutcome>((resolve) => {
    client.Check({ service }, { deadline: new Date(Date.now() + timeoutMs) }, (err, res) => {
      if (err) {
        const reason =
          err.code === grpc.status.DEADLINE_EXCEEDED
            ? `timed out after ${timeoutMs}ms`
            : err.code === grpc.status.UNAVAILABLE
              ? `unreachable: ${err.details}`
              : `${grpc.status[err.code] ?? err.code}: ${err.details}`;
        resolve({ ok: false, reason });
      } else if (res?.status === 'SERVING') {
        resolve({ ok: true });
      } else {
        resolve({ ok: false, reason: res?.status ?? 'UNKNOWN' });
      }
    });
  }).finally(() => client.close());
}
