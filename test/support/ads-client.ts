/**
 * A raw ADS client for tests: speaks StreamAggregatedResources / DeltaAggregatedResources with
 * plain protobuf messages (the shared proto root), no xDS library in between, so tests can send
 * exactly the requests a rule is about (ACK, NACK, stale nonce, wildcard forms, ...).
 */
import * as grpc from '@grpc/grpc-js';
import { ADS_DELTA_METHOD_PATH, ADS_SOTW_METHOD_PATH } from '../../pkg/constants/index.js';
import { decodeMessage, encodeMessage, unpackAny, type PlainMessage } from '../../pkg/envoy/index.js';

const SOTW_REQ = 'envoy.service.discovery.v3.DiscoveryRequest';
const SOTW_RESP = 'envoy.service.discovery.v3.DiscoveryResponse';
const DELTA_REQ = 'envoy.service.discovery.v3.DeltaDiscoveryRequest';
const DELTA_RESP = 'envoy.service.discovery.v3.DeltaDiscoveryResponse';

export interface SotwResponse {
  version_info: string;
  type_url: string;
  nonce: string;
  resources: { type_url: string; value: Uint8Array }[];
  control_plane?: { identifier: string };
  /** Decoded resource names, in response order. */
  names: string[];
  /** Decoded resources. */
  decoded: any[];
}

export interface DeltaResponse {
  system_version_info: string;
  type_url: string;
  nonce: string;
  resources: { name: string; version: string; resource: { type_url: string; value: Uint8Array } }[];
  removed_resources: string[];
  names: string[];
}

/** A DiscoveryRequest from a plain object (proto field names). */
export function encodeSotwRequest(req: PlainMessage): Buffer {
  return encodeMessage(SOTW_REQ, req);
}

/** A DeltaDiscoveryRequest from a plain object (proto field names). */
export function encodeDeltaRequest(req: PlainMessage): Buffer {
  return encodeMessage(DELTA_REQ, req);
}

/** A DiscoveryResponse's bytes, decoded with its resources unpacked and named. */
export function decodeSotwResponse(bytes: Buffer): SotwResponse {
  const m = decodeMessage<SotwResponse>(SOTW_RESP, bytes);
  m.resources ??= [];
  m.decoded = m.resources.map((a) => unpackAny<any>(a));
  m.names = m.decoded.map((d) => String(d.name ?? d.cluster_name));
  return m;
}

/** A DeltaDiscoveryResponse's bytes, decoded, with the names of its resources. */
export function decodeDeltaResponse(bytes: Buffer): DeltaResponse {
  const m = decodeMessage<DeltaResponse>(DELTA_RESP, bytes);
  m.resources ??= [];
  m.removed_resources ??= [];
  m.names = m.resources.map((r) => r.name);
  return m;
}

/** A bidi stream whose responses are queued; next() awaits the next one. */
export class RawStream<Resp> {
  private readonly queue: Resp[] = [];
  private readonly waiters: { resolve: (r: Resp) => void; reject: (e: Error) => void }[] = [];
  private ended: grpc.StatusObject | undefined;
  private readonly statusWaiters: ((s: grpc.StatusObject) => void)[] = [];
  readonly call: grpc.ClientDuplexStream<PlainMessage, Resp>;

  constructor(call: grpc.ClientDuplexStream<PlainMessage, Resp>) {
    this.call = call;
    call.on('data', (r: Resp) => {
      const w = this.waiters.shift();
      if (w) w.resolve(r);
      else this.queue.push(r);
    });
    call.on('status', (s: grpc.StatusObject) => this.end(s));
    call.on('error', () => undefined); // surfaced through 'status'
  }

  private end(s: grpc.StatusObject): void {
    if (this.ended) return;
    this.ended = s;
    for (const w of this.waiters.splice(0)) w.reject(new Error(`stream ended: ${s.code} ${s.details}`));
    for (const w of this.statusWaiters.splice(0)) w(s);
  }

  send(req: PlainMessage): void {
    this.call.write(req);
  }

  /** The next response (queued or future); rejects if the stream ends first. */
  next(): Promise<Resp> {
    const r = this.queue.shift();
    if (r) return Promise.resolve(r);
    if (this.ended)
      return Promise.reject(new Error(`stream ended: ${this.ended.code} ${this.ended.details}`));
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  /** Responses received and not yet taken by next(). */
  get queued(): number {
    return this.queue.length;
  }

  /** Resolves with the final status of the stream. */
  status(): Promise<grpc.StatusObject> {
    if (this.ended) return Promise.resolve(this.ended);
    return new Promise((resolve) => this.statusWaiters.push(resolve));
  }

  close(): void {
    this.call.end();
  }

  cancel(): void {
    this.call.cancel();
  }
}

export class RawAdsClient {
  readonly client: grpc.Client;

  constructor(
    address: string,
    options: grpc.ChannelOptions = {},
    credentials: grpc.ChannelCredentials = grpc.credentials.createInsecure(),
  ) {
    this.client = new grpc.Client(address, credentials, {
      // A private connection per client: tests and benchmarks model separate proxies.
      'grpc.use_local_subchannel_pool': 1,
      ...options,
    });
  }

  sotw(): RawStream<SotwResponse> {
    const call = this.client.makeBidiStreamRequest<PlainMessage, SotwResponse>(
      ADS_SOTW_METHOD_PATH,
      encodeSotwRequest,
      decodeSotwResponse,
    );
    return new RawStream(call);
  }

  delta(): RawStream<DeltaResponse> {
    const call = this.client.makeBidiStreamRequest<PlainMessage, DeltaResponse>(
      ADS_DELTA_METHOD_PATH,
      encodeDeltaRequest,
      decodeDeltaResponse,
    );
    return new RawStream(call);
  }

  close(): void {
    this.client.close();
  }
}

/** An ACK of a SotW response (same names unless given). */
export function ackOf(resp: SotwResponse, resourceNames: string[] = []): PlainMessage {
  return {
    type_url: resp.type_url,
    version_info: resp.version_info,
    response_nonce: resp.nonce,
    resource_names: resourceNames,
  };
}

/** A NACK of a SotW response: the version the client still runs, and error_detail. */
export function nackOf(
  resp: SotwResponse,
  previousVersion: string,
  message: string,
  resourceNames: string[] = [],
): PlainMessage {
  return {
    type_url: resp.type_url,
    version_info: previousVersion,
    response_nonce: resp.nonce,
    resource_names: resourceNames,
    error_detail: { code: 3, message },
  };
}
