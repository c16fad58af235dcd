/**
 * Connect subresources: the ones a handler serves rather than the store (services/proxy today;
 * pods/log and pods/portforward are meant to plug in here). A handler is registered per
 * (resource, subresource); the router then routes `<resource>/<name>[:<port>]/<subresource>[/<path>]`
 * to it with verb `connect`. Plain requests go to `serve`; upgrade requests (WebSocket, SPDY) go
 * to `upgrade` with the raw socket, after the server has authenticated and routed them.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from '../../logger/index.js';
import type { ConnectSubresource, ResourceRoute } from './router.js';
import type { Store } from './store.js';
import { badRequest, type StatusError } from './status.js';

export interface SubresourceContext {
  route: ResourceRoute;
  req: IncomingMessage;
  store: Store;
  logger: Logger;
}

export interface SubresourceHandler {
  /** Whether a path may follow the subresource (`services/<name>/proxy/<path>`). */
  subpath?: boolean;
  /** Plain HTTP requests. Throw a StatusError to answer with a Status. */
  serve?(ctx: SubresourceContext, res: ServerResponse): Promise<void>;
  /**
   * Upgrade requests (`Connection: Upgrade`): the handler owns `socket` (and must answer 101 or an
   * error on it); `head` is the first bytes after the request. Throw a StatusError before writing to
   * answer with a Status.
   */
  upgrade?(ctx: SubresourceContext, socket: Duplex, head: Buffer): Promise<void>;
}

/** The connect subresources a server serves. */
export class Subresources {
  private readonly handlers = new Map<
    string,
    { resource: string; subresource: string; handler: SubresourceHandler }
  >();

  /** Registers (or, with undefined, removes) the handler of `<resource key>/<subresource>`. */
  set(resource: string, subresource: string, handler: SubresourceHandler | undefined): void {
    const k = `${resource}/${subresource}`;
    if (handler) this.handlers.set(k, { resource, subresource, handler });
    else this.handlers.delete(k);
  }

  get(route: Pick<ResourceRoute, 'key' | 'subresource'>): SubresourceHandler | undefined {
    if (route.subresource === undefined) return undefined;
    return this.handlers.get(`${route.key}/${route.subresource}`)?.handler;
  }

  /** What the router needs to know. */
  table(): ConnectSubresource[] {
    return [...this.handlers.values()].map((e) => ({
      resource: e.resource,
      subresource: e.subresource,
      subpath: e.handler.subpath ?? false,
    }));
  }

  /** Serves a plain request; a handler that only upgrades answers 400, as kube-apiserver does. */
  async serve(ctx: SubresourceContext, res: ServerResponse): Promise<void> {
    const h = this.get(ctx.route);
    if (!h?.serve) throw badRequest('Upgrade request required');
    await h.serve(ctx, res);
  }
}

/** An HTTP/1.1 response carrying a Status, written on a socket taken over for an upgrade. */
export function rawStatusResponse(err: StatusError): string {
  const body = JSON.stringify(err.status);
  return (
    `HTTP/1.1 ${err.code} ${err.status.reason}\r\n` +
    'Content-Type: application/json\r\n' +
    `Content-Length: ${Buffer.byteLength(body)}\r\n` +
    'Cache-Control: no-cache, private\r\n' +
    'Connection: close\r\n' +
    '\r\n' +
    body
  );
}
