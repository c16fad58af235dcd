/**
 * Services in the sandbox, resolved as kube-proxy would route them: a Service port (number or
 * name) → the port its EndpointSlices give for that port → a ready endpoint's address. The API
 * server's webhook calls and service proxy, and the probe agents' ADS address, go through here.
 */
import net from 'node:net';
import type { V1EndpointSlice, V1Service } from '@kubernetes/client-node';
import type { ResourceInformer } from '../k8s/index.js';
import { errorMessage, type Logger } from '../logger/index.js';
import { SERVICE_NAME_LABEL } from './controllers/index.js';

export interface Endpoint {
  host: string;
  port: number;
}

export class ServiceEndpoints {
  private next = 0;

  constructor(
    private readonly services: ResourceInformer<V1Service>,
    private readonly slices: ResourceInformer<V1EndpointSlice>,
  ) {}

  /** A ready endpoint of the Service's port (`''`: its first port); undefined when there is none. */
  resolve(namespace: string, name: string, port: string | number): Endpoint | undefined {
    const svc = this.services.get(name, namespace);
    const ports = svc?.spec?.ports ?? [];
    const sp =
      port === '' ? ports[0] : ports.find((p) => String(p.port) === String(port) || p.name === String(port));
    if (!sp) return undefined;
    const ready: Endpoint[] = [];
    for (const s of this.slices.list(namespace)) {
      if (s.metadata?.labels?.[SERVICE_NAME_LABEL] !== name) continue;
      const ep = (s.ports ?? []).find((p) => (p.name ?? '') === (sp.name ?? ''));
      if (ep?.port === undefined) continue;
      for (const e of s.endpoints ?? []) {
        if (e.conditions?.ready === false) continue;
        for (const a of e.addresses) ready.push({ host: a, port: ep.port });
      }
    }
    if (ready.length === 0) return undefined;
    return ready[this.next++ % ready.length];
  }
}

/**
 * A local TCP address that reaches a Service, resolved per connection (kube-proxy's job): the
 * probe agents dial it for ADS, so a controller that moved to a new pod is found on reconnect.
 */
export async function startServiceForwarder(
  resolve: () => Endpoint | undefined,
  what: string,
  logger: Logger,
): Promise<{ address: string; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => undefined);
    const target = resolve();
    if (!target) {
      logger.debug(`${what}: no ready endpoint; connection refused`);
      client.destroy();
      return;
    }
    const upstream = net.connect(target.port, target.host);
    sockets.add(upstream);
    upstream.on('close', () => sockets.delete(upstream));
    upstream.on('error', (e) => {
      logger.debug(`${what}: ${target.host}:${target.port}: ${errorMessage(e)}`);
      client.destroy();
    });
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as net.AddressInfo;
  return {
    address: `127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}
