/**
 * tcp_proxy: bytes both ways between the downstream connection and the cluster's endpoint (HTTPS
 * probes keep their TLS end to end: the app's own certificate answers the handshake). A cluster
 * that is unknown, has no endpoint or cannot be reached closes the downstream connection, as Envoy
 * does; the idle timeout closes both sides. An ORIGINAL_DST cluster's endpoint is the connection's
 * original destination (a capture listener learned it), as Envoy's passthrough clusters dial it.
 */
import type net from 'node:net';
import { errorMessage } from '../../logger/index.js';
import type { Endpoint, TcpHandlerModel } from './model.js';
import { connectUpstream, upgradeUpstreamTls, type DataPlaneContext } from './upstream.js';

export function serveTcp(
  handler: TcpHandlerModel,
  downstream: net.Socket,
  ctx: DataPlaneContext,
  original?: Endpoint,
): void {
  downstream.on('error', () => undefined);
  const cluster = ctx.cluster(handler.cluster);
  const endpoint =
    cluster?.kind === 'original_dst' ? original : cluster ? ctx.pickEndpoint(cluster) : undefined;
  if (!cluster || !endpoint) {
    ctx.logger.debug('tcp_proxy: no upstream', { cluster: handler.cluster, known: cluster !== undefined });
    downstream.destroy();
    return;
  }
  downstream.pause();
  let closed = false;
  downstream.once('close', () => (closed = true));
  const connect = async (): Promise<net.Socket> => {
    const socket = await connectUpstream(endpoint, cluster.connectTimeoutMs);
    return cluster.tls ? upgradeUpstreamTls(socket, cluster.tls, cluster.connectTimeoutMs) : socket;
  };
  connect().then(
    (upstream) => {
      if (closed) {
        upstream.destroy();
        return;
      }
      upstream.on('error', () => downstream.destroy());
      downstream.on('error', () => upstream.destroy());
      upstream.once('close', () => downstream.destroy());
      downstream.once('close', () => upstream.destroy());
      if (handler.idleTimeoutMs > 0) {
        const idle = (): void => {
          upstream.destroy();
          downstream.destroy();
        };
        upstream.setTimeout(handler.idleTimeoutMs, idle);
        downstream.setTimeout(handler.idleTimeoutMs, idle);
      }
      downstream.pipe(upstream);
      upstream.pipe(downstream);
    },
    (err: unknown) => {
      ctx.logger.debug('tcp_proxy: upstream connect failed', {
        cluster: cluster.name,
        error: errorMessage(err),
      });
      downstream.destroy();
    },
  );
}
