/** The controller's debug routes: GET /debug/proxies and /debug/proxies/<namespace>/<pod>. */
import type { Express, Request, Response } from 'express';
import { DEBUG_PROXIES_PATH } from '../constants/index.js';

/** What the debug routes read (the controller's ProxyPropagator). */
export interface ProxyDebugSource {
  proxies(): unknown[];
  proxy(namespace: string, pod: string): unknown;
}

export function debugRoutes(source: ProxyDebugSource): (app: Express) => void {
  return (app) => {
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
