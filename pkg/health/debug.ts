/**
 * The controller's debug routes: GET /debug/proxies and /debug/proxies/<namespace>/<pod>. They
 * describe every proxy of the mesh, so they answer loopback peers only (a `kubectl port-forward`,
 * or a process on the controller's host) unless the controller runs with --debug-allow-remote.
 * Probe header values are redacted by the source (pkg/catalog) in any case.
 */
import { isIP } from 'node:net';
import type { Express, NextFunction, Request, Response } from 'express';
import { DEBUG_PROXIES_PATH } from '../constants/index.js';

/** What the debug routes read (the controller's ProxyPropagator). */
export interface ProxyDebugSource {
  proxies(): unknown[];
  proxy(namespace: string, pod: string): unknown;
}

export interface DebugRouteOptions {
  /** Answer peers other than loopback (default false). */
  allowRemote?: boolean;
}

/** True for 127.0.0.0/8, ::1 and their IPv4-mapped forms. */
export function isLoopbackAddress(address: string | undefined): boolean {
  if (!address) return false;
  const a = address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
  if (isIP(a) === 4) return a.startsWith('127.');
  return a === '::1';
}

export function debugRoutes(source: ProxyDebugSource, opts: DebugRouteOptions = {}): (app: Express) => void {
  return (app) => {
    if (!opts.allowRemote) {
      app.use(DEBUG_PROXIES_PATH, (req: Request, res: Response, next: NextFunction) => {
        if (isLoopbackAddress(req.socket.remoteAddress)) return next();
        res
          .status(403)
          .type('text/plain')
          .send(
            `${DEBUG_PROXIES_PATH} answers loopback clients only (you are ${req.socket.remoteAddress ?? 'unknown'}): ` +
              'use kubectl port-forward to the controller, or start it with --debug-allow-remote',
          );
      });
    }
    app.get(DEBUG_PROXIES_PATH, (_req: Request, res: Response) => {
      res.json(source.proxies());
    });
    app.get(`${DEBUG_PROXIES_PATH}/:namespace/:pod`, (req: Request, res: Response) => {
      const namespace = String(req.params.namespace);
      const pod = String(req.params.pod);
      const config = source.proxy(namespace, pod);
      if (config === undefined) {
        res
          .status(404)
          .type('text/plain')
          .send(`no proxy ${namespace}/${pod}: the pod is not in the mesh, not injected, or not seen yet`);
        return;
      }
      res.json(config);
    });
  };
}
