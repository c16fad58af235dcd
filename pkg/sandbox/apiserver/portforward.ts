/**
 * The pods/portforward connect subresource, in the three ways clients speak it, each forwarding a
 * connection to the pod's address and port as kubelet does inside the pod's network namespace:
 * - SPDY/3.1 (`Upgrade: SPDY/3.1`, X-Stream-Protocol-Version portforward.k8s.io): kubectl ≤ 1.30,
 *   and 1.31+ when WebSockets fail; per forwarded connection an error stream and a data stream
 *   (headers streamtype, port, requestid);
 * - WebSocket carrying that same SPDY (subprotocol SPDY/3.1+portforward.k8s.io, KEP-4006): kubectl
 *   1.31+ first;
 * - WebSocket channels (v4.channel.k8s.io, ?ports=...): @kubernetes/client-node's PortForward; per
 *   port a data channel 2i and an error channel 2i+1, each starting with the port (uint16 LE).
 * A refused port is reported on the error stream in kubelet's words and the forward stays up.
 */
import net from 'node:net';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { NodeNetwork } from '../netns/index.js';
import { WebSocketServer, createWebSocketStream, type WebSocket } from 'ws';
import type { Logger } from '../../logger/index.js';
import type { SubresourceHandler } from './connect.js';
import type { KubeObject } from './store.js';
import { badRequest, notFound } from './status.js';
import { isObj } from './objects.js';
import { SpdyServerConnection, type SpdyStream } from './spdy-connection.js';

export const PORT_FORWARD_PROTOCOL = 'portforward.k8s.io';
export const SPDY_TUNNEL_PROTOCOL = `SPDY/3.1+${PORT_FORWARD_PROTOCOL}`;
export const CHANNEL_PROTOCOLS = ['v4.channel.k8s.io'];

interface Target {
  pod: KubeObject;
  ip: string;
  uid: string;
  name: string;
}

/** kubelet's words for a forward that could not connect. */
export function forwardError(
  t: Pick<Target, 'name' | 'uid' | 'ip'>,
  port: number,
  err: NodeJS.ErrnoException,
): string {
  const reason = err.code === 'ECONNREFUSED' ? 'connect: connection refused' : err.message;
  return (
    `error forwarding port ${port} to pod ${t.name}, uid ${t.uid}: failed to connect to localhost:${port} ` +
    `inside the pod (loopback mode: ${t.ip}:${port}): dial tcp4 ${t.ip}:${port}: ${reason}`
  );
}

function target(pod: KubeObject | undefined, name: string): Target {
  if (!pod) throw notFound('', 'pods', name);
  const status = isObj(pod['status']) ? pod['status'] : {};
  const ip = typeof status['podIP'] === 'string' ? status['podIP'] : '';
  if (!ip || status['phase'] !== 'Running') {
    throw badRequest(
      `unable to upgrade connection: pod ${name} is not running (phase ${String(status['phase'] ?? 'Pending')})`,
    );
  }
  return { pod, ip, uid: String(pod.metadata['uid'] ?? ''), name };
}

/**
 * How a forward reaches the pod. Loopback mode dials the pod's address; namespace mode connects to
 * localhost:<port> inside the pod's network namespace, as kubelet does (the node network).
 */
interface Forwarding {
  dial(ip: string, port: number): Promise<Duplex>;
  /** kubelet's words for a failed dial. */
  error(t: Pick<Target, 'name' | 'uid' | 'ip'>, port: number, err: NodeJS.ErrnoException): string;
}

const loopbackForwarding: Forwarding = { dial: dialDirect, error: forwardError };

/** Namespace mode: kubelet's message names the pod's namespace and localhost. */
function namespaceForwarding(network: NodeNetwork): Forwarding {
  return {
    dial: (ip, port) => network.dialPodLocal(ip, port),
    error: (t, port, err) =>
      `error forwarding port ${port} to pod ${t.name}, uid ${t.uid}: failed to connect to localhost:${port} ` +
      `inside the pod's network namespace: ${err.message}`,
  };
}

/** Dials the pod's port; resolves with the socket or rejects with the dial error. */
function dialDirect(ip: string, port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, ip);
    s.once('connect', () => {
      s.off('error', reject);
      resolve(s);
    });
    s.once('error', reject);
  });
}

/** One SPDY connection: pairs of (error, data) streams by requestid, each pair one forward. */
function serveSpdy(conn: SpdyServerConnection, t: Target, log: Logger, fw: Forwarding): void {
  const pairs = new Map<string, { error?: SpdyStream; data?: SpdyStream }>();
  conn.on('stream', (s) => {
    const type = s.header('streamtype');
    const port = Number(s.header('port'));
    if ((type !== 'error' && type !== 'data') || !Number.isInteger(port) || port < 1 || port > 65535) {
      s.reset();
      return;
    }
    // Old clients send no requestid: kubelet derives it from the stream ids (error n, data n+2).
    const id = s.header('requestid') ?? String(type === 'error' ? s.id : s.id - 2);
    const pair = pairs.get(id) ?? {};
    pairs.set(id, pair);
    if (type === 'error') pair.error = s;
    else pair.data = s;
    s.on('error', () => undefined);
    // The client never writes on the error stream; reading drains its FIN.
    if (type === 'error') s.resume();
    if (pair.error && pair.data) {
      pairs.delete(id);
      void forward(pair.error, pair.data, port, t, log, fw);
    }
  });
}

async function forward(
  errorStream: SpdyStream,
  data: SpdyStream,
  port: number,
  t: Target,
  log: Logger,
  fw: Forwarding,
) {
  let upstream: Duplex;
  try {
    upstream = await fw.dial(t.ip, port);
  } catch (e) {
    const msg = fw.error(t, port, e as NodeJS.ErrnoException);
    log.debug('port-forward dial failed', { pod: t.name, port, error: msg });
    errorStream.end(msg);
    data.end();
    return;
  }
  upstream.on('error', () => data.destroy());
  data.on('error', () => upstream.destroy());
  data.on('close', () => upstream.destroy());
  upstream.on('close', () => {
    if (!data.writableEnded) data.end();
    if (!errorStream.writableEnded) errorStream.end();
  });
  data.pipe(upstream);
  upstream.pipe(data);
}

/** WebSocket channels (v4.channel.k8s.io): one upstream connection per requested port. */
function serveChannels(ws: WebSocket, t: Target, ports: number[], log: Logger, fw: Forwarding): void {
  const send = (channel: number, payload: Buffer): void => {
    if (ws.readyState === ws.OPEN) ws.send(Buffer.concat([Buffer.from([channel]), payload]));
  };
  const sockets: (Duplex | undefined)[] = [];
  let open = ports.length;
  const done = (): void => {
    if (--open <= 0) ws.close(1000);
  };
  ports.forEach((port, i) => {
    const portBytes = Buffer.alloc(2);
    portBytes.writeUInt16LE(port);
    send(2 * i, portBytes);
    send(2 * i + 1, portBytes);
    fw.dial(t.ip, port).then(
      (s) => {
        sockets[i] = s;
        s.on('data', (d: Buffer) => send(2 * i, d));
        s.on('error', () => undefined);
        s.on('close', done);
      },
      (e: NodeJS.ErrnoException) => {
        const msg = fw.error(t, port, e);
        log.debug('port-forward dial failed', { pod: t.name, port, error: msg });
        send(2 * i + 1, Buffer.from(msg));
        done();
      },
    );
  });
  ws.on('message', (raw: Buffer, isBinary: boolean) => {
    const msg = isBinary ? raw : Buffer.from(raw.toString(), 'utf8');
    if (msg.length < 1) return;
    const channel = msg[0]!;
    if (channel % 2 === 0) sockets[channel / 2]?.write(msg.subarray(1));
  });
  ws.on('close', () => {
    for (const s of sockets) s?.destroy();
  });
}

function requestedPorts(q: URLSearchParams): number[] {
  const raw = q.getAll('ports').flatMap((p) => p.split(','));
  const ports = raw.map((p) => Number(p.trim()));
  if (ports.length === 0 || ports.some((p) => !Number.isInteger(p) || p < 1 || p > 65535)) {
    throw badRequest(
      `query parameter "ports" is required: a port (1-65535) for each forward, got ${JSON.stringify(raw)}`,
    );
  }
  return ports;
}

function offered(req: IncomingMessage, header: string): string[] {
  return String(req.headers[header] ?? '')
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
}

/** pods/portforward; `network` in namespace mode (loopback mode dials pod addresses directly). */
export function portForwardHandler(network?: NodeNetwork): SubresourceHandler {
  const fw = network && network.mode === 'namespaces' ? namespaceForwarding(network) : loopbackForwarding;
  return {
    async upgrade({ route, req, store, logger }, socket: Duplex, head: Buffer) {
      const log = logger.child({ component: 'portforward' });
      const t = target(store.get('pods', route.namespace, route.name!), route.name!);
      const upgrade = String(req.headers['upgrade'] ?? '').toLowerCase();
      if (upgrade === 'websocket') {
        const protocols = offered(req, 'sec-websocket-protocol');
        const tunnel = protocols.includes(SPDY_TUNNEL_PROTOCOL);
        const channel = CHANNEL_PROTOCOLS.find((p) => protocols.includes(p));
        if (!tunnel && !channel) {
          throw badRequest(
            `unable to upgrade connection: none of the offered WebSocket subprotocols [${protocols.join(', ')}] is supported (${SPDY_TUNNEL_PROTOCOL}, ${CHANNEL_PROTOCOLS.join(', ')})`,
          );
        }
        const ports = tunnel ? [] : requestedPorts(route.query);
        const chosen = tunnel ? SPDY_TUNNEL_PROTOCOL : channel!;
        // `ws` refuses subprotocols that are not RFC 7230 tokens, and '/' is not one: it sees a
        // placeholder, and the answer names the protocol the client asked for.
        req.headers['sec-websocket-protocol'] = 'fsm-sandbox-portforward';
        const ws = await new Promise<WebSocket>((resolve) => {
          const forThis = new WebSocketServer({
            noServer: true,
            perMessageDeflate: false,
            handleProtocols: () => chosen,
          });
          forThis.handleUpgrade(req, socket, head, (w) => resolve(w));
        });
        ws.on('error', () => undefined);
        if (tunnel) {
          const stream = createWebSocketStream(ws);
          stream.on('error', () => undefined);
          serveSpdy(new SpdyServerConnection(stream), t, log, fw);
        } else serveChannels(ws, t, ports, log, fw);
        return;
      }
      if (upgrade === 'spdy/3.1') {
        if (!offered(req, 'x-stream-protocol-version').includes(PORT_FORWARD_PROTOCOL)) {
          throw badRequest(
            `unable to upgrade: X-Stream-Protocol-Version must include ${PORT_FORWARD_PROTOCOL}`,
          );
        }
        socket.write(
          'HTTP/1.1 101 Switching Protocols\r\n' +
            'Connection: Upgrade\r\n' +
            'Upgrade: SPDY/3.1\r\n' +
            `X-Stream-Protocol-Version: ${PORT_FORWARD_PROTOCOL}\r\n` +
            '\r\n',
        );
        // Bytes that came with the request are the connection's first frames.
        if (head.length) socket.unshift(head);
        serveSpdy(new SpdyServerConnection(socket), t, log, fw);
        return;
      }
      throw badRequest(`unable to upgrade connection: Upgrade ${upgrade || '(none)'} is not supported`);
    },
  };
}
