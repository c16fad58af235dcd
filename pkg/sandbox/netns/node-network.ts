/**
 * The node network: the one seam between the root namespace (the API server, the node agent and
 * its prober, the user's shell) and the pods. Loopback mode and namespace mode share everything
 * else. In loopback mode a pod is an address on this machine's loopback, dialed directly. In
 * namespace mode pods live in network namespaces behind the node namespace's bridge, which the root
 * namespace has no route to (the machine's own network stays untouched): the node-network helper
 * (node-helper.ts), a process in the node namespace, dials for the root side. Its door is a unix
 * socket (a filesystem object, visible from every namespace) speaking HTTP CONNECT, so node's own
 * http client, grpc-js (its http_connect_target) and curl all speak it. A connection to localhost
 * inside a pod (kubectl port-forward, as kubelet makes it) is made by a small process started in
 * the pod's namespace (pod-dial.ts), as the dockershim's nsenter+socat did.
 */
import { spawn } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import { Duplex } from 'node:stream';
import tls from 'node:tls';
import { projectFile } from '../../binary/index.js';
import { podCommand } from './pod-command.js';

export type NetworkMode = 'namespaces' | 'loopback';

/** Headers of the helper's CONNECT: the dial's bound, and the request to hear why a dial failed. */
export const DIAL_TIMEOUT_HEADER = 'x-fsm-dial-timeout-ms';
export const DIAL_REPORT_HEADER = 'x-fsm-dial-report';
export const DIAL_ERROR_HEADER = 'x-fsm-dial-error';

export interface NodeNetwork {
  readonly mode: NetworkMode;
  /**
   * A TCP connection from the node to host:port (a pod IP, a Service ClusterIP), as kubelet's own.
   * Rejects with an Error whose `code` is the socket error (ECONNREFUSED, ETIMEDOUT, EHOSTUNREACH…).
   */
  dial(host: string, port: number, timeoutMs?: number): Promise<net.Socket>;
  /** A connection to localhost:port inside the pod of this address (kubectl port-forward). */
  dialPodLocal(podIP: string, port: number): Promise<Duplex>;
  /** A gRPC target and channel options reaching host:port from the node. */
  grpcTarget(host: string, port: number): { target: string; options: Record<string, string | number> };
}

export class DialError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

function directDial(host: string, port: number, timeoutMs = 10_000): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host, port });
    const timer = setTimeout(() => {
      s.destroy();
      reject(new DialError(`dial tcp ${host}:${port}: i/o timeout`, 'ETIMEDOUT'));
    }, timeoutMs);
    s.once('connect', () => {
      clearTimeout(timer);
      s.removeAllListeners('error');
      resolve(s);
    });
    s.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

/** Loopback mode: every pod is an address of this machine's loopback. */
export const loopbackNetwork: NodeNetwork = {
  mode: 'loopback',
  dial: directDial,
  dialPodLocal: (podIP, port) => directDial(podIP, port),
  grpcTarget: (host, port) => ({ target: `${host}:${port}`, options: {} }),
};

/** Namespace mode: the node-network helper's socket and the pods' namespaces. */
export interface NamespaceDialer {
  /** The helper's unix socket (HTTP CONNECT). */
  socketPath: string;
  /** The namespace of a running pod's address. */
  namespaceOf(podIP: string): string | undefined;
}

/** CONNECT host:port through the helper. */
export function connectThrough(
  socketPath: string,
  host: string,
  port: number,
  timeoutMs = 10_000,
): Promise<net.Socket> {
  const target = net.isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
  return new Promise((resolve, reject) => {
    const req = http.request({
      socketPath,
      method: 'CONNECT',
      path: target,
      headers: { host: target, [DIAL_TIMEOUT_HEADER]: String(timeoutMs), [DIAL_REPORT_HEADER]: '1' },
      agent: false,
    });
    // The helper bounds its own dial; this bounds the whole exchange, helper included.
    const timer = setTimeout(
      () => req.destroy(new DialError(`dial tcp ${target}: i/o timeout`, 'ETIMEDOUT')),
      timeoutMs + 1000,
    );
    req.once('connect', (res, socket, head) => {
      clearTimeout(timer);
      if (res.statusCode === 200) {
        if (head.length > 0) socket.unshift(head);
        resolve(socket);
        return;
      }
      const code = String(res.headers[DIAL_ERROR_HEADER] ?? 'EIO');
      let body = head.toString('utf8');
      socket.setEncoding('utf8');
      socket.on('data', (c: string) => (body += c));
      socket.once('close', () => reject(new DialError(body.trim() || `dial tcp ${target}: ${code}`, code)));
      socket.once('error', () => undefined);
    });
    req.once('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(
        e instanceof DialError
          ? e
          : new DialError(`the node network helper (${socketPath}) cannot be reached: ${e.message}`, 'EIO'),
      );
    });
    req.end();
  });
}

/** The pod-dial entry (dist/pkg/sandbox/netns/pod-dial.js). */
export const POD_DIAL_SCRIPT = projectFile('dist', 'pkg', 'sandbox', 'netns', 'pod-dial.js');

/** localhost:port inside a pod's namespace, through a small process started there. */
export function dialInNamespace(namespace: string, port: number, timeoutMs = 10_000): Promise<Duplex> {
  const [file, ...args] = podCommand({ namespace }, [process.execPath, POD_DIAL_SCRIPT, String(port)]);
  const child = spawn(file!, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let status = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new DialError(`dial tcp4 127.0.0.1:${port}: i/o timeout`, 'ETIMEDOUT'));
    }, timeoutMs);
    const onStatus = (chunk: Buffer): void => {
      status += chunk.toString('utf8');
      const nl = status.indexOf('\n');
      if (nl < 0) return;
      clearTimeout(timer);
      child.stderr.off('data', onStatus);
      const line = status.slice(0, nl);
      if (line === 'connected') {
        const duplex = Duplex.from({ readable: child.stdout, writable: child.stdin });
        duplex.once('close', () => child.kill('SIGKILL'));
        child.once('exit', () => duplex.destroy());
        resolve(duplex);
      } else {
        const [, code = 'EIO', ...rest] = line.split(' ');
        reject(new DialError(rest.join(' ') || line, code));
      }
    };
    child.stderr.on('data', onStatus);
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(new DialError(`cannot start ${POD_DIAL_SCRIPT} in ${namespace}: ${e.message}`, 'EIO'));
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (!status.includes('\n'))
        reject(new DialError(`pod dial exited with code ${code}: ${status}`, 'EIO'));
    });
  });
}

export function namespaceNetwork(d: NamespaceDialer): NodeNetwork {
  return {
    mode: 'namespaces',
    dial: (host, port, timeoutMs) => connectThrough(d.socketPath, host, port, timeoutMs),
    dialPodLocal: (podIP, port) => {
      const ns = d.namespaceOf(podIP);
      if (!ns)
        return Promise.reject(new DialError(`no running pod has the address ${podIP}`, 'EHOSTUNREACH'));
      return dialInNamespace(ns, port);
    },
    // grpc-js speaks HTTP CONNECT to a proxy: here the helper's socket.
    grpcTarget: (host, port) => ({
      target: `unix:${d.socketPath}`,
      options: { 'grpc.http_connect_target': `dns:///${host}:${port}` },
    }),
  };
}

type CreateConnection = NonNullable<http.RequestOptions['createConnection']>;

/**
 * `createConnection` for node's http/https clients through a node network (undefined in loopback
 * mode: the default agent dials). `secure`: TLS over the dialed connection with these options.
 */
export function createConnectionVia(
  network: NodeNetwork,
  secure?: tls.ConnectionOptions,
  timeoutMs?: number,
): CreateConnection | undefined {
  if (network.mode === 'loopback') return undefined;
  const create = (
    options: { host?: string | null; hostname?: string | null; port?: number | string | null },
    done: (err: Error | null, socket?: net.Socket) => void,
  ): undefined => {
    const host = String(options.hostname ?? options.host ?? '').replace(/^\[|\]$/g, '');
    const port = Number(options.port);
    network.dial(host, port, timeoutMs).then(
      (raw) => done(null, secure ? tls.connect({ ...secure, socket: raw }) : raw),
      (err: Error) => done(err),
    );
    return undefined;
  };
  return create as unknown as CreateConnection;
}
