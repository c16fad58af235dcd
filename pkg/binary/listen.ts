import type { AddressInfo, Server } from 'node:net';
import { SANDBOX_POD_IP_ENV } from '../constants/index.js';

/**
 * The address a server binds for a requested host. A wildcard (0.0.0.0, ::, '') becomes
 * $FSM_SANDBOX_POD_IP when that is set: the sandbox's node agent runs each pod on its own loopback
 * address, and this is the loopback-mode stand-in for the pod's own network namespace (where the
 * wildcard would mean "this pod's interfaces"). Explicit addresses are kept. The one switch point:
 * listen() applies it, and so does every server that binds another way (the controller's ADS).
 */
export function bindHost(host: string, env: NodeJS.ProcessEnv = process.env): string {
  const podIP = env[SANDBOX_POD_IP_ENV];
  return podIP && (host === '0.0.0.0' || host === '::' || host === '') ? podIP : host;
}

/**
 * Binds a server and resolves with its address. A port in use rejects naming the port (and what
 * it is for), the message a user of every fsm binary gets; other bind errors name host:port.
 */
export function listen(server: Server, port: number, requestedHost: string, what = ''): Promise<AddressInfo> {
  const host = bindHost(requestedHost);
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      const label = what ? `${what} port` : 'port';
      reject(
        new Error(
          err.code === 'EADDRINUSE'
            ? `${label} ${port} is already in use on ${host}`
            : `cannot listen on ${host}:${port}: ${err.message}`,
        ),
      );
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve(server.address() as AddressInfo);
    });
  });
}
