/**
 * The grpc-js adapter: the only file of the protocol engine that knows gRPC. It registers the two
 * ADS methods on a grpc-js server (requests decoded with the shared proto root, responses written
 * as the pre-built Buffers of wire.ts, so gRPC's serializer is the identity) and turns each bidi
 * call into an AdsTransport for the engine.
 */
import type * as grpc from '@grpc/grpc-js';
import { ADS_DELTA_METHOD_PATH, ADS_SOTW_METHOD_PATH } from '../constants/index.js';
import type { AdsTransport, AdsStatusCode, PeerInfo, TransportClose, WriteDone } from './transport.js';
import {
  decodeDeltaDiscoveryRequest,
  decodeDiscoveryRequest,
  type DeltaDiscoveryRequestMsg,
  type DiscoveryRequestMsg,
} from './wire.js';

/**
 * What a transport knows of its connection beyond the address: with the ADS port's own TLS
 * (tls-listener.ts) the certificate the client presented, looked up by the address grpc-js reports.
 */
export type PeerLookup = (address: string) => Omit<PeerInfo, 'address'> | undefined;

/** One grpc-js bidi call as an AdsTransport. */
export class GrpcTransport<Req> implements AdsTransport<Req> {
  private peerInfo: PeerInfo | undefined;

  constructor(
    private readonly call: grpc.ServerDuplexStream<Req, Buffer>,
    private readonly lookup?: PeerLookup,
  ) {}

  /** Read on demand: most streams never need it. */
  get peer(): PeerInfo {
    if (!this.peerInfo) {
      const address = this.call.getPeer();
      const known = this.lookup?.(address);
      if (known) {
        this.peerInfo = { address, ...known };
      } else {
        // grpc-js' own TLS: getAuthContext() reports a peer certificate only when it verified it.
        const cert = this.call.getAuthContext().sslPeerCertificate;
        this.peerInfo = { address, ...(cert?.raw ? { clientCertificate: cert.raw } : {}) };
      }
    }
    return this.peerInfo;
  }

  onRequest(handler: (request: Req) => void): void {
    this.call.on('data', handler);
  }

  onClose(handler: (how: TransportClose) => void): void {
    this.call.on('end', () => handler('half-closed'));
    const gone = (): void => handler('gone');
    this.call.on('cancelled', gone);
    this.call.on('error', gone);
    this.call.on('close', gone);
  }

  write(bytes: Buffer, done: WriteDone): void {
    this.call.write(bytes, done);
  }

  end(): void {
    this.call.end();
  }

  /** grpc-js sends an error emitted on a server call as the call's status. */
  fail(code: AdsStatusCode, details: string): void {
    this.call.emit('error', Object.assign(new Error(details), { code, details }));
  }
}

/** What registerAdsService hands each new call to (the engine). */
export interface AdsStreamOpener {
  openSotw(transport: AdsTransport<DiscoveryRequestMsg>): unknown;
  openDelta(transport: AdsTransport<DeltaDiscoveryRequestMsg>): unknown;
}

const identity = (b: Buffer): Buffer => b;

/** Registers StreamAggregatedResources and DeltaAggregatedResources on `server`. */
export function registerAdsService(server: grpc.Server, engine: AdsStreamOpener, lookup?: PeerLookup): void {
  server.register<DiscoveryRequestMsg, Buffer>(
    ADS_SOTW_METHOD_PATH,
    (call: grpc.ServerDuplexStream<DiscoveryRequestMsg, Buffer>) =>
      engine.openSotw(new GrpcTransport(call, lookup)),
    identity,
    decodeDiscoveryRequest,
    'bidi',
  );
  server.register<DeltaDiscoveryRequestMsg, Buffer>(
    ADS_DELTA_METHOD_PATH,
    (call: grpc.ServerDuplexStream<DeltaDiscoveryRequestMsg, Buffer>) =>
      engine.openDelta(new GrpcTransport(call, lookup)),
    identity,
    decodeDeltaDiscoveryRequest,
    'bidi',
  );
}
