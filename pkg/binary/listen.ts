import type { AddressInfo, Server } from 'node:net';

/**
 * Binds a server and resolves with its address. A port in use rejects naming the port (and what
 * it is for), the message a user of every fsm binary gets; other bind errors name host:port.
 */
export function listen(server: Server, port: number, host: string, what = ''): Promise<AddressInfo> {
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
