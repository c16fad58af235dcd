/**
 * What the data plane reads of the current configuration: clusters (CDS), route configurations
 * (RDS) and where a cluster's endpoint really is (the explicit endpoint host map), plus the local
 * replies the agent sends in Envoy's words when it cannot reach an upstream.
 */
import net from 'node:net';
import tls from 'node:tls';
import type { Logger } from '../../logger/index.js';
import type { ClusterModel, Endpoint, RouteConfigModel, UpstreamTlsModel } from './model.js';
import type { OriginalDestinationOf } from './original-destination.js';
import { checkServerSans, secureContextOf, type SecretLookup } from './peer-tls.js';

export interface DataPlaneContext {
  readonly logger: Logger;
  cluster(name: string): ClusterModel | undefined;
  routeConfig(name: string): RouteConfigModel | undefined;
  /** The endpoint to dial for a cluster (round robin; EDS: its load assignment), after the endpoint host map; undefined: none. */
  pickEndpoint(cluster: ClusterModel): Endpoint | undefined;
  /** SDS secrets by name (mTLS). */
  secret: SecretLookup;
  /** Loopback mode: how the agent's connections to mesh endpoints reach the peer's capture listener. */
  announceTo?: OriginalDestinationOf['announceTo'];
  /** One access log line (the sidecar's log). */
  accessLog(line: string): void;
  /** The pod's address: the source of the agent's connections to mesh peers in loopback mode. */
  podAddress?: string;
}

/** Envoy's local reply bodies (text/plain), without any x-envoy-* header. */
export const LOCAL_REPLY = {
  noHealthyUpstream: 'no healthy upstream',
  timeout: 'upstream request timeout',
  connectTimeout:
    'upstream connect error or disconnect/reset before headers. reset reason: connection timeout',
  connectRefused:
    'upstream connect error or disconnect/reset before headers. reset reason: remote connection failure, transport failure reason: delayed connect error: 111',
  connectFailure:
    'upstream connect error or disconnect/reset before headers. reset reason: connection failure',
  termination:
    'upstream connect error or disconnect/reset before headers. reset reason: connection termination',
} as const;

/** Envoy's local reply when the TLS handshake with the upstream fails (`detail`: the TLS error). */
export function tlsFailureReply(detail: string): string {
  // One line, as Envoy's (OpenSSL's messages may carry a line break).
  const oneLine = detail.replace(/\s+/g, ' ').trim();
  return `upstream connect error or disconnect/reset before headers. reset reason: connection failure, transport failure reason: TLS_error:|${oneLine}:TLS_error_end`;
}

/** Round-robin endpoint picking with a host map ('127.0.0.1' → the pod address, when told so). */
export class EndpointPicker {
  private readonly next = new Map<string, number>();

  constructor(
    private readonly hostMap: Readonly<Record<string, string>>,
    /** EDS: the endpoints of a load assignment by name (undefined: not received yet). */
    private readonly assignment: (name: string) => readonly Endpoint[] | undefined = () => undefined,
  ) {}

  pick(cluster: ClusterModel): Endpoint | undefined {
    const endpoints =
      cluster.kind === 'eds' ? (this.assignment(cluster.edsName ?? cluster.name) ?? []) : cluster.endpoints;
    if (endpoints.length === 0) return undefined;
    const i = (this.next.get(cluster.name) ?? 0) % endpoints.length;
    this.next.set(cluster.name, i + 1);
    const ep = endpoints[i]!;
    return { host: this.hostMap[ep.host] ?? ep.host, port: ep.port };
  }
}

export type ConnectFailure = 'timeout' | 'refused' | 'failure';

/**
 * Opens a TCP connection to an endpoint within `timeoutMs` (0: no bound). Resolves with the
 * connected socket or rejects with an Error whose `failure` says why.
 */
export function connectUpstream(ep: Endpoint, timeoutMs: number, localAddress?: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({
      host: ep.host,
      port: ep.port,
      allowHalfOpen: true,
      ...(localAddress ? { localAddress } : {}),
    });
    let timer: NodeJS.Timeout | undefined;
    const done = (err?: Error & { failure?: ConnectFailure }): void => {
      if (timer) clearTimeout(timer);
      socket.removeListener('error', onError);
      socket.removeListener('connect', onConnect);
      if (err) {
        socket.destroy();
        reject(err);
      } else {
        resolve(socket);
      }
    };
    const onError = (err: NodeJS.ErrnoException): void =>
      done(Object.assign(err, { failure: err.code === 'ECONNREFUSED' ? 'refused' : 'failure' } as const));
    const onConnect = (): void => done();
    socket.once('error', onError);
    socket.once('connect', onConnect);
    if (timeoutMs > 0) {
      timer = setTimeout(
        () =>
          done(
            Object.assign(new Error(`connect to ${ep.host}:${ep.port} timed out after ${timeoutMs} ms`), {
              failure: 'timeout' as const,
            }),
          ),
        timeoutMs,
      );
    }
  });
}

/**
 * Connects to a cluster's endpoint. Loopback mode (`ctx.announceTo`): a mesh cluster's endpoint
 * (one whose TLS verifies the server) is reached through the peer's inbound capture port, with the
 * header announcing the endpoint written first — the peer's redirect, done by hand.
 */
export async function connectEndpoint(
  ctx: DataPlaneContext,
  cluster: ClusterModel,
  ep: Endpoint,
  timeoutMs: number,
): Promise<net.Socket> {
  const announce = ctx.announceTo;
  if (!announce || !cluster.tls?.verify) return connectUpstream(ep, timeoutMs);
  const socket = await connectUpstream({ host: ep.host, port: announce.port }, timeoutMs, ctx.podAddress);
  socket.write(
    announce.header(
      { address: socket.localAddress ?? ep.host, port: socket.localPort ?? 0 },
      { address: ep.host, port: ep.port },
    ),
  );
  return socket;
}

export function failureOf(err: unknown): ConnectFailure {
  const f = (err as { failure?: unknown } | null)?.failure;
  return f === 'timeout' || f === 'refused' ? f : 'failure';
}

/**
 * The TLS handshake over a connected socket, as a cluster's transport socket asks for it: without a
 * validation context, no verification of the upstream (fsm's probe clusters: kubelet's HTTPS probe
 * semantics); with one (mesh clusters), the SDS certificate presented and the server verified against
 * the SDS bundle and the SAN matchers. SNI only when configured. Rejects with an Error whose message
 * names the TLS error (or the missing secret); `timeoutMs` 0: no bound.
 */
export function upgradeUpstreamTls(
  socket: net.Socket,
  model: UpstreamTlsModel,
  timeoutMs: number,
  secrets: SecretLookup = () => undefined,
): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    let mesh: tls.ConnectionOptions = {};
    if (model.verify || model.certSecret) {
      try {
        mesh = {
          secureContext: secureContextOf(secrets, model.certSecret, model.verify, model.minVersion),
          ...(model.verify ? { checkServerIdentity: checkServerSans(model.verify.sans) } : {}),
        };
      } catch (err) {
        socket.destroy();
        reject(err as Error);
        return;
      }
    }
    const secure = tls.connect({
      socket,
      // Without a validation context, deliberately not verified: exactly what kubelet does for an HTTPS probe.
      rejectUnauthorized: model.verify !== undefined,
      ...mesh,
      ...(model.sni && net.isIP(model.sni) === 0 ? { servername: model.sni } : {}),
      ...(model.alpn.length > 0 ? { ALPNProtocols: model.alpn } : {}),
    });
    let timer: NodeJS.Timeout | undefined;
    const done = (err?: Error): void => {
      if (timer) clearTimeout(timer);
      secure.removeListener('error', onError);
      if (err) {
        secure.destroy();
        reject(err);
      } else resolve(secure);
    };
    const onError = (err: NodeJS.ErrnoException): void =>
      done(new Error(`${err.code ? `${err.code}: ` : ''}${err.message}`));
    secure.once('error', onError);
    secure.once('secureConnect', () => done());
    if (timeoutMs > 0)
      timer = setTimeout(() => done(new Error(`TLS handshake timed out after ${timeoutMs} ms`)), timeoutMs);
  });
}
