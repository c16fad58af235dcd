/**
 * Loopback mode's implementation of the original-destination seam (original-destination.ts): each
 * pod has its own 127.x.y.z and nothing intercepts, so a meshed client reaches the capture listener
 * explicitly (SANDBOX_OUTBOUND_PROXY_ENV names it) and opens the connection with a PROXY protocol v1
 * header naming where it meant to go — HAProxy's format, which Envoy's proxy_protocol listener filter
 * reads the same way: `PROXY TCP4 <src ip> <dst ip> <src port> <dst port>\r\n`. The agent does the
 * same for its own connections to mesh endpoints: it dials the peer's inbound capture port (15003)
 * announcing the endpoint, as the peer's PREROUTING rule would redirect it in a pod namespace.
 */
import type net from 'node:net';
import { isIP } from 'node:net';
import { PROXY_INBOUND_PORT } from '../../constants/index.js';
import type { OriginalDestination, OriginalDestinationOf } from './original-destination.js';

/** The longest PROXY v1 header (the protocol's limit, CRLF included). */
export const PROXY_HEADER_MAX = 107;

/** How long a capture listener waits for the header (Envoy's listener_filters_timeout). */
export const PROXY_HEADER_TIMEOUT_MS = 15_000;

/** `PROXY TCP4 <src> <dst> <sport> <dport>\r\n` (TCP6 for IPv6 addresses). */
export function proxyProtocolHeader(source: OriginalDestination, destination: OriginalDestination): string {
  const family = isIP(destination.address) === 6 ? 'TCP6' : 'TCP4';
  return `PROXY ${family} ${source.address} ${destination.address} ${source.port} ${destination.port}\r\n`;
}

/** The destination of a PROXY v1 header line (without CRLF); an Error naming what is wrong. */
export function parseProxyProtocolHeader(line: string): OriginalDestination {
  const parts = line.split(' ');
  if (parts[0] !== 'PROXY')
    throw new Error(`not a PROXY protocol header: ${JSON.stringify(line.slice(0, 40))}`);
  if (parts[1] === 'UNKNOWN') throw new Error('PROXY UNKNOWN: the header names no destination');
  if (parts.length !== 6 || (parts[1] !== 'TCP4' && parts[1] !== 'TCP6')) {
    throw new Error(`malformed PROXY header: ${JSON.stringify(line)}`);
  }
  const [, family, src, dst, sport, dport] = parts as [string, string, string, string, string, string];
  const v = family === 'TCP4' ? 4 : 6;
  if (isIP(src) !== v || isIP(dst) !== v)
    throw new Error(`PROXY header addresses are not ${family}: ${line}`);
  const port = Number(dport);
  if (!/^\d+$/.test(dport) || !/^\d+$/.test(sport) || port < 1 || port > 65535 || Number(sport) > 65535) {
    throw new Error(`PROXY header ports are invalid: ${line}`);
  }
  return { address: dst, port };
}

/**
 * Reads a PROXY v1 header off the start of `socket` (the bytes after it stay for the next reader).
 * Rejects on a malformed or missing header, on close, or after `timeoutMs`.
 */
export function readProxyProtocolHeader(socket: net.Socket, timeoutMs: number): Promise<OriginalDestination> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const done = (err: Error | undefined, dest?: OriginalDestination): void => {
      clearTimeout(timer);
      socket.removeListener('data', onData);
      socket.removeListener('close', onClose);
      if (err) reject(err);
      else resolve(dest!);
    };
    const onData = (chunk: Buffer): void => {
      buf = Buffer.concat([buf, chunk]);
      const end = buf.indexOf('\r\n');
      if (end < 0) {
        if (buf.length >= PROXY_HEADER_MAX)
          done(new Error(`PROXY header longer than ${PROXY_HEADER_MAX} bytes`));
        return;
      }
      socket.pause();
      const rest = buf.subarray(end + 2);
      if (rest.length > 0) socket.unshift(rest);
      try {
        done(undefined, parseProxyProtocolHeader(buf.subarray(0, end).toString('latin1')));
      } catch (err) {
        done(err as Error);
      }
    };
    const onClose = (): void => done(new Error('closed before a PROXY header'));
    const timer = setTimeout(() => done(new Error(`no PROXY header within ${timeoutMs} ms`)), timeoutMs);
    socket.on('data', onData);
    socket.once('close', onClose);
  });
}

/**
 * The loopback-mode seam: `prepare` reads each captured connection's PROXY header, the lookup
 * returns the destination it named; the agent's mesh connections go to the peer's `peerCapturePort`
 * (default 15003) with a header naming the endpoint.
 */
export function proxyProtocolOriginalDestination(
  options: { timeoutMs?: number; peerCapturePort?: number } = {},
): OriginalDestinationOf {
  const announced = new WeakMap<net.Socket, OriginalDestination>();
  const timeoutMs = options.timeoutMs ?? PROXY_HEADER_TIMEOUT_MS;
  const of: OriginalDestinationOf = (socket) => announced.get(socket);
  of.prepare = async (socket) => {
    announced.set(socket, await readProxyProtocolHeader(socket, timeoutMs));
  };
  of.announceTo = { port: options.peerCapturePort ?? PROXY_INBOUND_PORT, header: proxyProtocolHeader };
  return of;
}
