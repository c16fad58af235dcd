/**
 * What an ADS stream runs on. The protocol engine (stream.ts, sotw-stream.ts, delta-stream.ts,
 * engine.ts) only ever talks to this interface; grpc-transport.ts adapts a grpc-js bidi call to
 * it, and tests drive the engine in memory through the same interface (no ports, no polling).
 *
 * The contract, as the engine relies on it:
 * - onRequest: decoded requests, in arrival order, one call each. A request that cannot be
 *   decoded never reaches the engine: the transport ends the stream itself and reports `gone`.
 * - onClose: 'half-closed' when the peer ended its side (the engine then ends the stream with
 *   OK); 'gone' when the stream is over for any other reason (cancelled, connection lost, or
 *   after end()/fail()). It may be reported more than once; the engine ignores repeats.
 * - write: hands one encoded response over; `done` is called once the transport has flushed it
 *   (or failed to). The engine keeps at most maxInFlight writes without `done`, so a transport
 *   with backpressure calls `done` late, never queues without bound on its own.
 * - end / fail: the final status (OK, or an error code with details), at most once.
 */

/** Status codes of a stream's end: the gRPC numeric codes, so the gRPC adapter passes them through. */
export const AdsStatus = {
  OK: 0,
  CANCELLED: 1,
  INVALID_ARGUMENT: 3,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
} as const;

export type AdsStatusCode = (typeof AdsStatus)[keyof typeof AdsStatus];

/**
 * Who is at the other end of a stream. The place where an authorizer (mesh identity: ADS over
 * mTLS bound to the client certificate) looks before any config byte is sent.
 */
export interface PeerInfo {
  /** Remote address as the transport names it (gRPC: `ipv4:127.0.0.1:54321`). */
  readonly address: string;
  /**
   * The client certificate (DER) presented in the TLS handshake; absent without one. The handshake
   * proved the peer holds its private key; whether it chains to a trusted root, is in its validity
   * window and names this node is the authorizer's decision (so each refusal gets its own status).
   */
  readonly clientCertificate?: Buffer;
  /** What the TLS library itself said of the certificate chain (informational, for logs). */
  readonly tlsAuthorizationError?: string;
}

/** Why a transport is closing: see the contract above. */
export type TransportClose = 'half-closed' | 'gone';

/** Called by the transport once a write was flushed (or failed: `err`). */
export type WriteDone = (err?: Error | null) => void;

export interface AdsTransport<Req> {
  readonly peer: PeerInfo;
  onRequest(handler: (request: Req) => void): void;
  onClose(handler: (how: TransportClose) => void): void;
  write(bytes: Buffer, done: WriteDone): void;
  end(): void;
  fail(code: AdsStatusCode, details: string): void;
}
