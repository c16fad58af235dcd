/**
 * The bare baseline of `npm run bench:controller -- --mesh`, in its own process: a grpc-js server
 * (mTLS, as the controller's ADS) with one raw bidi method; on 'push' it writes the given bytes to
 * every open stream — what the controller's ADS does for an endpoint change, without anything else.
 */
import * as grpc from '@grpc/grpc-js';

export const BARE_PUSH_METHOD = '/bench.Bare/Stream';

export type BarePushCommand =
  | { cmd: 'start'; certPem: string; keyPem: string; caPem: string }
  | { cmd: 'push'; base64: string }
  | { cmd: 'stop' };
export type BarePushEvent = { evt: 'listening'; port: number } | { evt: 'error'; message: string };

const identity = (b: Buffer): Buffer => b;

function send(e: BarePushEvent): void {
  process.send?.(e);
}

if (process.send) {
  const streams = new Set<grpc.ServerDuplexStream<Buffer, Buffer>>();
  const server = new grpc.Server();
  server.addService(
    {
      Stream: {
        path: BARE_PUSH_METHOD,
        requestStream: true,
        responseStream: true,
        requestSerialize: identity,
        requestDeserialize: identity,
        responseSerialize: identity,
        responseDeserialize: identity,
      },
    },
    {
      Stream: (call: grpc.ServerDuplexStream<Buffer, Buffer>) => {
        streams.add(call);
        call.on('data', () => undefined); // ACKs
        call.on('error', () => streams.delete(call));
        call.on('end', () => {
          streams.delete(call);
          call.end();
        });
      },
    },
  );
  process.on('disconnect', () => process.exit(0));
  process.on('message', (c: BarePushCommand) => {
    if (c.cmd === 'stop') {
      server.forceShutdown();
      process.exit(0);
    } else if (c.cmd === 'push') {
      const bytes = Buffer.from(c.base64, 'base64');
      for (const s of streams) s.write(bytes);
    } else {
      const creds = grpc.ServerCredentials.createSsl(
        Buffer.from(c.caPem),
        [{ cert_chain: Buffer.from(c.certPem), private_key: Buffer.from(c.keyPem) }],
        true,
      );
      server.bindAsync('127.0.0.1:0', creds, (err, port) => {
        if (err) send({ evt: 'error', message: err.message });
        else send({ evt: 'listening', port });
      });
    }
  });
}
