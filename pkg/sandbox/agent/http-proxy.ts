/**
 * The HTTP connection manager of a probe listener: route by virtual host and path, rewrite the
 * target, mutate headers, forward to the cluster's endpoint and stream the answer back. Local
 * replies mirror Envoy's status codes and bodies: 404 without a route, 503 when the cluster is
 * unknown / has no endpoint / refuses or resets, 504 when the route timeout fires first.
 */
import http from 'node:http';
import type net from 'node:net';
import { errorMessage } from '../../logger/index.js';
import { CLIENT_CERT_HEADER } from '../../constants/index.js';
import { formatAccessLog } from './access-log.js';
import type { HttpHandlerModel } from './model.js';
import type { Peer } from './tcp-proxy.js';
import { applyHeaderMutations, endToEndHeaders, rewriteRequestTarget, routeRequest } from './routing.js';
import {
  LOCAL_REPLY,
  connectEndpoint,
  failureOf,
  tlsFailureReply,
  upgradeUpstreamTls,
  type DataPlaneContext,
} from './upstream.js';

function localReply(res: http.ServerResponse, status: number, body: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const headers: http.OutgoingHttpHeaders = { 'content-length': Buffer.byteLength(body) };
  if (body) headers['content-type'] = 'text/plain';
  res.writeHead(status, headers);
  res.end(body);
}

/**
 * Serves one request. `closeAfter`: the listener was updated since this connection was accepted,
 * so the connection is closed after this response (new connections get the new configuration).
 */
export function serveHttp(
  handler: HttpHandlerModel,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  ctx: DataPlaneContext,
  closeAfter: boolean,
  peer?: Peer,
): void {
  if (closeAfter) res.setHeader('connection', 'close');
  const logged = handler.accessLogs.length > 0 ? logRequest(handler, req, res, ctx, peer) : undefined;
  const target = req.url ?? '/';
  const config = 'inline' in handler.routes ? handler.routes.inline : ctx.routeConfig(handler.routes.rds);
  const routed = config ? routeRequest(config, req.headers.host, target) : undefined;
  if (!config || !routed) {
    ctx.logger.debug('no route', { path: target, host: req.headers.host, listener: handler.statPrefix });
    req.resume();
    localReply(res, 404, '');
    return;
  }
  const { vhost, route } = routed;
  const action = route.action;
  if (action.kind === 'direct') {
    req.resume();
    localReply(res, action.status, action.body);
    return;
  }
  const cluster = ctx.cluster(action.cluster);
  if (logged) logged.cluster = action.cluster;
  if (!cluster) {
    ctx.logger.debug('route names an unknown cluster', { cluster: action.cluster, route: route.name });
    req.resume();
    localReply(res, 503, '');
    return;
  }
  const endpoint = ctx.pickEndpoint(cluster);
  if (!endpoint) {
    req.resume();
    localReply(res, 503, LOCAL_REPLY.noHealthyUpstream);
    return;
  }

  const headers = endToEndHeaders(req.headers);
  if (action.hostRewrite !== undefined) headers.host = action.hostRewrite;
  headers['x-forwarded-proto'] ??= 'http';
  // x-forwarded-client-cert: never what the caller sent; over mTLS (SANITIZE_SET) the verified URI.
  delete headers[CLIENT_CERT_HEADER];
  if (handler.forwardClientCert === 'SANITIZE_SET' && handler.clientCertUri && peer?.uri) {
    headers[CLIENT_CERT_HEADER] = `URI=${peer.uri}`;
  }
  applyHeaderMutations(headers, [route.headers, vhost.headers, config.headers]);
  const path = rewriteRequestTarget(route, target);

  let finished = false;
  let upstreamSocket: net.Socket | undefined;
  let upstreamReq: http.ClientRequest | undefined;
  let timer: NodeJS.Timeout | undefined;
  const finish = (): void => {
    finished = true;
    if (timer) clearTimeout(timer);
  };
  const abortUpstream = (): void => {
    upstreamReq?.destroy();
    upstreamSocket?.destroy();
  };
  const fail = (status: number, body: string): void => {
    if (finished) return;
    finish();
    abortUpstream();
    localReply(res, status, body);
  };
  if (action.timeoutMs > 0) {
    timer = setTimeout(() => fail(504, LOCAL_REPLY.timeout), action.timeoutMs);
  }
  // The client went away before the answer was complete: drop the upstream request too.
  res.on('close', () => {
    if (!res.writableFinished) {
      finish();
      abortUpstream();
    }
  });

  // A TLS cluster: the handshake is part of connecting (Envoy's transport socket), within the same timeout.
  const connect = async (): Promise<net.Socket> => {
    const started = Date.now();
    const socket = await connectEndpoint(ctx, cluster, endpoint, cluster.connectTimeoutMs);
    if (!cluster.tls) return socket;
    upstreamSocket = socket;
    const left =
      cluster.connectTimeoutMs > 0 ? Math.max(1, cluster.connectTimeoutMs - (Date.now() - started)) : 0;
    try {
      return await upgradeUpstreamTls(socket, cluster.tls, left, ctx.secret);
    } catch (err) {
      throw Object.assign(err as Error, { tls: true });
    }
  };
  connect().then(
    (socket) => {
      if (finished) {
        socket.destroy();
        return;
      }
      upstreamSocket = socket;
      let up: http.ClientRequest;
      try {
        up = http.request({
          method: req.method,
          path,
          headers,
          setHost: false,
          // No `agent`: with createConnection alone, the request uses exactly this socket.
          createConnection: () => socket,
        });
      } catch (err) {
        // Node refuses the request line or a header (e.g. a rewrite produced an invalid path):
        // never a crash, a local reply as Envoy gives for an upstream it cannot use.
        ctx.logger.warn('upstream request refused', {
          cluster: cluster.name,
          path,
          error: errorMessage(err),
        });
        fail(503, LOCAL_REPLY.connectFailure);
        return;
      }
      upstreamReq = up;
      up.on('response', (upRes) => {
        if (finished) {
          upRes.resume();
          return;
        }
        try {
          res.writeHead(upRes.statusCode ?? 502, upRes.statusMessage, endToEndHeaders(upRes.headers));
        } catch (err) {
          // A status line or header Node will not write back: Envoy's "protocol error" is a 503 too.
          ctx.logger.debug('upstream response refused', { cluster: cluster.name, error: errorMessage(err) });
          upRes.resume();
          fail(503, LOCAL_REPLY.termination);
          return;
        }
        upRes.on('end', finish);
        upRes.on('error', () => fail(503, LOCAL_REPLY.termination));
        upRes.pipe(res);
      });
      up.on('error', (err) => {
        ctx.logger.debug('upstream request failed', { cluster: cluster.name, error: errorMessage(err) });
        fail(503, LOCAL_REPLY.termination);
      });
      req.pipe(up);
    },
    (err: unknown) => {
      ctx.logger.debug('upstream connect failed', { cluster: cluster.name, error: errorMessage(err) });
      if ((err as { tls?: boolean }).tls) {
        fail(503, tlsFailureReply(errorMessage(err)));
        return;
      }
      const f = failureOf(err);
      fail(
        503,
        f === 'timeout'
          ? LOCAL_REPLY.connectTimeout
          : f === 'refused'
            ? LOCAL_REPLY.connectRefused
            : LOCAL_REPLY.connectFailure,
      );
    },
  );
}

/** Writes the request to the handler's access logs when its response is done (or abandoned). */
function logRequest(
  handler: HttpHandlerModel,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  ctx: DataPlaneContext,
  peer: Peer | undefined,
): { cluster?: string } {
  const start = new Date();
  const logged: { cluster?: string } = {};
  const request = { ...req.headers, ':method': req.method, ':path': req.url };
  res.once('close', () => {
    const values = {
      start,
      ...(req.socket.remoteAddress
        ? { downstreamRemote: `${req.socket.remoteAddress}:${req.socket.remotePort}` }
        : {}),
      ...(peer?.uri ? { peerUri: peer.uri } : {}),
      ...(logged.cluster ? { upstreamCluster: logged.cluster } : {}),
      responseCode: res.headersSent ? res.statusCode : 0,
      responseFlags: res.writableFinished ? '' : 'DC',
      durationMs: Date.now() - start.getTime(),
      protocol: `HTTP/${req.httpVersion}`,
      request,
    };
    for (const log of handler.accessLogs) ctx.accessLog(formatAccessLog(log, values));
  });
  return logged;
}
