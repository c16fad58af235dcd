/**
 * tcp_proxy: bytes both ways between the downstream connection and the cluster's endpoint (HTTPS
 * probes keep their TLS end to end: the app's own certificate answers the handshake). A cluster
 * that is unknown, has no endpoint or cannot be reached closes the downstream connection, as Envoy
 * does; the idle timeout closes both sides. An ORIGINAL_DST cluster's endpoint is the connection's
 * original destination (a capture listener learned it), as Envoy's passthrough clusters dial it.
 * Each connection is written to the handler's access logs when it closes.
 */
import type net from 'node:net';
import { errorMessage } from '../../logger/index.js';
import { formatAccessLog, type AccessLogValues } from './access-log.js';
import type { Endpoint, TcpHandlerModel } from './model.js';
import { connectEndpoint, upgradeUpstreamTls, type DataPlaneContext } from './upstream.js';

/** Who the downstream is: its verified SPIFFE ID over mTLS. */
export interface Peer {
  uri?: string;
}

export function serveTcp(
  handler: TcpHandlerModel,
  downstream: net.Socket,
  ctx: DataPlaneContext,
  original?: Endpoint,
  peer?: Peer,
): void {
  downstream.on('error', () => undefined);
  const start = new Date();
  const values: AccessLogValues = {
    start,
    ...(downstream.remoteAddress
      ? { downstreamRemote: `${downstream.remoteAddress}:${downstream.remotePort}` }
      : {}),
    ...(peer?.uri ? { peerUri: peer.uri } : {}),
    upstreamCluster: handler.cluster,
    responseFlags: '',
  };
  if (handler.accessLogs.length > 0) {
    downstream.once('close', () => {
      values.bytesReceived = downstream.bytesRead;
      values.bytesSent = downstream.bytesWritten;
      values.durationMs = Date.now() - start.getTime();
      for (const log of handler.accessLogs) ctx.accessLog(formatAccessLog(log, values));
    });
  }
  const cluster = ctx.cluster(handler.cluster);
  const endpoint =
    cluster?.kind === 'original_dst' ? original : cluster ? ctx.pickEndpoint(cluster) : undefined;
  if (!cluster || !endpoint) {
    ctx.logger.debug('tcp_proxy: no upstream', { cluster: handler.cluster, known: cluster !== undefined });
    values.responseFlags = cluster ? 'UH' : 'NC';
    downstream.destroy();
    return;
  }
  values.upstreamHost = `${endpoint.host}:${endpoint.port}`;
  downstream.pause();
  let closed = false;
  downstream.once('close', () => (closed = true));
  const connect = async (): Promise<net.Socket> => {
    const socket = await connectEndpoint(ctx, cluster, endpoint, cluster.connectTimeoutMs);
    return cluster.tls
      ? upgradeUpstreamTls(socket, cluster.tls, cluster.connectTimeoutMs, ctx.secret)
      : socket;
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
      const message = errorMessage(err);
      // A mesh connection that fails: worth seeing at info (the reason is the TLS or connect error).
      (cluster.tls?.verify ? ctx.logger.warn : ctx.logger.debug).call(
        ctx.logger,
        'tcp_proxy: upstream connect failed',
        {
          cluster: cluster.name,
          upstream: values.upstreamHost,
          error: message,
        },
      );
      values.responseFlags = 'UF';
      downstream.destroy();
    },
  );
}
