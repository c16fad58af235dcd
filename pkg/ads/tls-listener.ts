/**
 * The ADS port's TLS, owned here rather than by grpc-js so that every refusal gets its own clear
 * status: the handshake requests a client certificate but does not reject on it (the peer still
 * proves it holds the certificate's key); the certificate and what TLS said of its chain are kept
 * per connection, keyed by the peer address grpc-js reports for its calls, and the authorizer
 * decides (expired, wrong CA, not yet valid, revoked, mismatched — each its own status and reason).
 * A connection without a certificate is still let through to HTTP/2: its streams are refused at
 * once with UNAUTHENTICATED. Node's TLS only: the connections are handed to grpc-js by server.ts.
 *
 * The serving certificate and trust bundle can be replaced at any time (setMaterial): new
 * handshakes use them, open connections keep theirs. Until the first material, handshakes fail.
 */
import tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import { ADS_TLS_HANDSHAKE_TIMEOUT_MS } from '../constants/index.js';
import { errorMessage, type Logger } from '../logger/index.js';

export interface TlsMaterial {
  /** The server's certificate chain and key (PEM). */
  certPem: string;
  keyPem: string;
  /** The roots client certificates are checked against (PEM bundle). */
  caPem: string;
}

export interface TlsPeer {
  /** DER of the certificate the client presented (absent: none). */
  certificate?: Buffer;
  /** What OpenSSL said of its chain (absent when it verified). */
  authorizationError?: string;
}

export interface TlsListenerOptions {
  logger: Logger;
  /** Each established connection (decrypted duplex), for grpc-js. */
  onConnection(socket: tls.TLSSocket): void;
  handshakeTimeoutMs?: number;
}

function contextOf(m: TlsMaterial): tls.SecureContextOptions {
  return { cert: m.certPem, key: m.keyPem, ca: m.caPem, minVersion: 'TLSv1.2' };
}

/** The key grpc-js' call.getPeer() gives for a connection: `<remoteAddress>:<remotePort>`. */
export function peerKey(address: string | undefined, port: number | undefined): string {
  return port ? `${address ?? ''}:${port}` : (address ?? '');
}

export class TlsListener {
  private readonly server: tls.Server;
  private readonly peers = new Map<string, TlsPeer>();
  private readonly log: Logger;
  private hasMaterial = false;
  /** Failed handshakes (not logged one by one above debug: anyone can cause them). */
  failedHandshakes = 0;

  constructor(private readonly opts: TlsListenerOptions) {
    this.log = opts.logger;
    this.server = tls.createServer({
      requestCert: true,
      rejectUnauthorized: false,
      ALPNProtocols: ['h2'],
      minVersion: 'TLSv1.2',
      handshakeTimeout: opts.handshakeTimeoutMs ?? ADS_TLS_HANDSHAKE_TIMEOUT_MS,
    });
    this.server.on('secureConnection', (socket: tls.TLSSocket) => this.accepted(socket));
    this.server.on('tlsClientError', (err: Error, socket: tls.TLSSocket) => {
      this.failedHandshakes++;
      this.log.debug('ADS TLS handshake failed', {
        peer: peerKey(socket.remoteAddress, socket.remotePort),
        error: errorMessage(err),
        ...(this.hasMaterial ? {} : { why: 'no serving certificate yet (mesh CA unavailable)' }),
      });
    });
  }

  /** Serving certificate and client trust bundle for new handshakes. */
  setMaterial(m: TlsMaterial): void {
    this.server.setSecureContext(contextOf(m));
    this.hasMaterial = true;
  }

  get ready(): boolean {
    return this.hasMaterial;
  }

  /** What the client of a connection presented; undefined for an unknown address. */
  peer(key: string): TlsPeer | undefined {
    return this.peers.get(key);
  }

  async listen(port: number, host: string): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      this.server.once('error', onError);
      this.server.listen(port, host, () => {
        this.server.off('error', onError);
        resolve();
      });
    });
    return (this.server.address() as AddressInfo).port;
  }

  /** Stops accepting connections (open ones are drained by grpc-js). */
  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private accepted(socket: tls.TLSSocket): void {
    const key = peerKey(socket.remoteAddress, socket.remotePort);
    const cert = socket.getPeerCertificate(false) as { raw?: Buffer } | null;
    const peer: TlsPeer = {
      ...(cert?.raw ? { certificate: cert.raw } : {}),
      ...(!socket.authorized && socket.authorizationError
        ? { authorizationError: String(socket.authorizationError) }
        : {}),
    };
    this.peers.set(key, peer);
    socket.once('close', () => {
      if (this.peers.get(key) === peer) this.peers.delete(key);
    });
    this.opts.onConnection(socket);
  }
}
