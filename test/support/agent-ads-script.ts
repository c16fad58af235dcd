/**
 * A scripted ADS server for probe agent client tests: a real grpc-js server on 127.0.0.1:0
 * serving StreamAggregatedResources, which records every request the agent sends and lets the
 * test decide each response (version, nonce, resources) and when a stream ends. The protocol
 * details the agent must get right (node on the first request, ACK/NACK fields, versions sent
 * after a reconnect) are visible here request by request.
 */
import * as grpc from '@grpc/grpc-js';
import { ADS_SOTW_METHOD_PATH } from '../../pkg/constants/index.js';
import {
  decodeDiscoveryRequest,
  encodeDiscoveryResponse,
  sotwResourceChunk,
  type DiscoveryRequestMsg,
} from '../../pkg/ads/index.js';
import { encodeMessage, type PlainMessage } from '../../pkg/envoy/index.js';

export interface ScriptedStream {
  readonly id: number;
  readonly requests: DiscoveryRequestMsg[];
  /** Sends a DiscoveryResponse of plain resource objects of `typeUrl`. */
  respond(typeUrl: string, version: string, resources: PlainMessage[], nonce: string): void;
  /** Ends the stream with a status. */
  fail(code: grpc.status, details: string): void;
  readonly ended: boolean;
}

export class ScriptedAds {
  readonly streams: ScriptedStream[] = [];
  private readonly server = new grpc.Server();
  private waiters: (() => void)[] = [];
  address = '';
  port = 0;

  constructor() {
    this.server.register<DiscoveryRequestMsg, Buffer>(
      ADS_SOTW_METHOD_PATH,
      (call: grpc.ServerDuplexStream<DiscoveryRequestMsg, Buffer>) => this.accept(call),
      (b: Buffer) => b,
      decodeDiscoveryRequest,
      'bidi',
    );
  }

  private accept(call: grpc.ServerDuplexStream<DiscoveryRequestMsg, Buffer>): void {
    let ended = false;
    const stream: ScriptedStream = {
      id: this.streams.length + 1,
      requests: [],
      respond: (typeUrl, version, resources, nonce) => {
        const chunks = resources.map((r) => sotwResourceChunk(typeUrl, encodeMessage(typeUrl, r)));
        call.write(encodeDiscoveryResponse(version, chunks, typeUrl, nonce));
      },
      fail: (code, details) => {
        if (ended) return;
        ended = true;
        call.emit('error', Object.assign(new Error(details), { code, details }));
      },
      get ended() {
        return ended;
      },
    };
    call.on('data', (req: DiscoveryRequestMsg) => {
      stream.requests.push(req);
      this.wake();
    });
    call.on('error', () => (ended = true));
    call.on('cancelled', () => {
      ended = true;
      this.wake();
    });
    this.streams.push(stream);
    this.wake();
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  /** Resolves once `cond()` holds, re-checked on every stream and request. */
  async until(cond: () => boolean): Promise<void> {
    while (!cond()) await new Promise<void>((r) => this.waiters.push(r));
  }

  /** The `n`-th request (0-based) of stream `s`, once it arrived. */
  async request(s: number, n: number): Promise<DiscoveryRequestMsg> {
    await this.until(() => (this.streams[s]?.requests.length ?? 0) > n);
    return this.streams[s]!.requests[n]!;
  }

  async start(port = 0): Promise<this> {
    this.port = await new Promise<number>((resolve, reject) =>
      this.server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (err, p) =>
        err ? reject(err) : resolve(p),
      ),
    );
    this.address = `127.0.0.1:${this.port}`;
    return this;
  }

  stop(): Promise<void> {
    for (const s of this.streams) s.fail(grpc.status.UNAVAILABLE, 'scripted server stopping');
    return new Promise((resolve) => {
      const force = setTimeout(() => {
        this.server.forceShutdown();
        resolve();
      }, 500);
      this.server.tryShutdown(() => {
        clearTimeout(force);
        resolve();
      });
    });
  }
}
