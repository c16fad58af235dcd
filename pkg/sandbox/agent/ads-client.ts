/**
 * The agent's ADS client: one State-of-the-World StreamAggregatedResources stream over
 * @grpc/grpc-js, its method and message types taken from the service definition in fsm's proto
 * root. Per type URL it keeps the subscription, the last ACKed version_info and the latest nonce.
 *
 * - The first request of a stream carries the node (id = the proxy UUID, cluster, locality).
 * - A response is handed to the handler; a resolved apply is ACKed (version_info and nonce of
 *   the response), a rejected one NACKed (version_info = the last ACKed one, error_detail with the
 *   message) and the handler is expected to keep its last good state.
 * - Responses are applied one at a time, in order.
 * - When the stream ends (controller restart, network), a new channel and stream are opened after
 *   a capped, jittered backoff; every subscribed type is requested again with its last ACKed
 *   version_info, so an unchanged controller sends what the agent already runs.
 */
import * as grpc from '@grpc/grpc-js';
import type { Type } from 'protobufjs';
import { backoffDelayMs, type BackoffOptions } from '../../backoff/index.js';
import { ADS_SERVICE_NAME, ADS_RECONNECT_BACKOFF } from '../../constants/index.js';
import { decodeMessage, envoyRoot, shortTypeName, type PlainMessage } from '../../envoy/index.js';
import { errorMessage, type Logger } from '../../logger/index.js';
import { ConfigError, Problems } from './config/problems.js';

/** google.rpc.Code INVALID_ARGUMENT: what Envoy puts in error_detail.code of a NACK. */
export const NACK_CODE = 3;

export interface NodeIdentity {
  /** The proxy UUID (node.id). */
  id: string;
  /** node.cluster (Envoy's --service-cluster). */
  cluster?: string;
  locality?: { region?: string; zone?: string; sub_zone?: string };
}

/** One decoded resource of a response. */
export interface XdsResource {
  name: string;
  /** Decoded message (DECODE_OPTIONS of the proto layer). */
  message: PlainMessage;
  /** The resource's encoded bytes (content identity). */
  bytes: Uint8Array;
}

/** Applies one response; a rejection NACKs it. */
export type ApplyResponse = (typeUrl: string, resources: XdsResource[], versionInfo: string) => Promise<void>;

export interface AdsClientOptions {
  /** host:port of the controller's ADS. */
  address: string;
  node: NodeIdentity;
  apply: ApplyResponse;
  logger: Logger;
  /** Reconnect policy over ADS_RECONNECT_BACKOFF (250 ms doubling to 10 s, delays in [ceiling/2, ceiling]). */
  backoff?: BackoffOptions;
  /** Jitter source (tests); default Math.random. */
  random?: () => number;
  /** Default insecure (the controller's ADS is plaintext inside the cluster). */
  credentials?: grpc.ChannelCredentials | (() => grpc.ChannelCredentials);
  /** Extra channel options (e.g. the TLS server name to check: grpc.ssl_target_name_override). */
  channelOptions?: grpc.ChannelOptions;
  /** user_agent_name sent in the node. */
  userAgent?: string;
  /** Called after every status change: connected, disconnected, ACK, NACK. */
  onChange?: () => void;
}

export interface TypeStatus {
  /** Last ACKed version_info ('' before the first ACK). */
  version: string;
  /** Nonce of the last response received. */
  nonce: string;
  /** Resource names subscribed (empty: wildcard). */
  names: string[];
  acks: number;
  nacks: number;
  /** The last NACK: the version refused and why. Cleared by the next ACK. */
  lastNack?: { version: string; message: string };
}

export interface AdsClientStatus {
  /** The stream is open and the server has answered on it (headers or a response). */
  connected: boolean;
  /** Streams opened since start (1 + reconnects). */
  streams: number;
  /** Why the last stream ended. */
  lastDisconnect?: string;
  types: Record<string, TypeStatus>;
}

interface TypeState extends TypeStatus {
  typeUrl: string;
  /** Wildcard subscriptions send no names. */
  wildcard: boolean;
  /** Sent on the current stream. */
  requested: boolean;
}

interface Method {
  path: string;
  request: Type;
  response: Type;
}

let adsMethod: Method | undefined;

/** StreamAggregatedResources from the service definition of the shared proto root. */
export function streamAggregatedResourcesMethod(): Method {
  if (!adsMethod) {
    const svc = envoyRoot().lookupService(ADS_SERVICE_NAME);
    const m = svc.methods.StreamAggregatedResources;
    if (!m) throw new Error(`${ADS_SERVICE_NAME} has no StreamAggregatedResources method`);
    m.resolve();
    adsMethod = {
      path: `/${ADS_SERVICE_NAME}/${m.name}`,
      request: m.resolvedRequestType!,
      response: m.resolvedResponseType!,
    };
  }
  return adsMethod;
}

interface RawResponse {
  version_info?: string;
  type_url?: string;
  nonce?: string;
  resources?: { type_url?: string; value?: Uint8Array }[];
}

function resourceName(message: PlainMessage): string {
  const n = message.name ?? message.cluster_name;
  return typeof n === 'string' ? n : '';
}

/**
 * The resources of a response, decoded. Every one that is not of the response's type or cannot
 * be decoded is a problem; a ConfigError lists them all.
 */
export function decodeResources(
  typeUrl: string,
  anys: readonly { type_url?: string; value?: Uint8Array }[],
): XdsResource[] {
  const problems = new Problems();
  const resources: XdsResource[] = [];
  anys.forEach((any, i) => {
    if (any.type_url !== typeUrl) {
      problems.add(`resources[${i}]`, `type ${JSON.stringify(any.type_url)} in a ${typeUrl} response`);
      return;
    }
    const bytes = any.value ?? new Uint8Array(0);
    try {
      const message = decodeMessage(typeUrl, bytes);
      resources.push({ name: resourceName(message), message, bytes });
    } catch (err) {
      problems.add(`resources[${i}]`, `cannot decode: ${errorMessage(err)}`);
    }
  });
  if (problems.count > 0) throw ConfigError.of(problems.list());
  return resources;
}

export class AdsClient {
  private readonly types = new Map<string, TypeState>();
  private readonly order: string[] = [];
  private client: grpc.Client | undefined;
  private call: grpc.ClientDuplexStream<PlainMessage, RawResponse> | undefined;
  private generation = 0;
  private nodeSent = false;
  private connectedFlag = false;
  private streams = 0;
  private attempt = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private lastDisconnect: string | undefined;
  private queue: Promise<void> = Promise.resolve();
  private readonly log: Logger;

  constructor(private readonly options: AdsClientOptions) {
    this.log = options.logger;
  }

  /**
   * Adds or changes a subscription (names undefined: wildcard). Types are requested in the order
   * they were first subscribed. A change is sent at once on an open stream.
   */
  subscribe(typeUrl: string, names?: readonly string[]): void {
    let st = this.types.get(typeUrl);
    const wildcard = names === undefined;
    const list = [...(names ?? [])].sort();
    if (!st) {
      st = { typeUrl, version: '', nonce: '', names: list, wildcard, acks: 0, nacks: 0, requested: false };
      this.types.set(typeUrl, st);
      this.order.push(typeUrl);
    } else {
      if (st.wildcard === wildcard && st.names.join('\n') === list.join('\n')) return;
      st.wildcard = wildcard;
      st.names = list;
    }
    if (this.call) this.request(st);
  }

  start(): void {
    this.stopped = false;
    this.open();
  }

  status(): AdsClientStatus {
    const types: Record<string, TypeStatus> = {};
    for (const st of this.types.values()) {
      types[st.typeUrl] = {
        version: st.version,
        nonce: st.nonce,
        names: [...st.names],
        acks: st.acks,
        nacks: st.nacks,
        ...(st.lastNack ? { lastNack: { ...st.lastNack } } : {}),
      };
    }
    return {
      connected: this.connectedFlag,
      streams: this.streams,
      lastDisconnect: this.lastDisconnect,
      types,
    };
  }

  /** Closes the stream and the channel; no reconnect. Waits for the response being applied. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.closeStream();
    await this.queue;
  }

  private closeStream(): void {
    this.generation++;
    this.connectedFlag = false;
    const call = this.call;
    const client = this.client;
    this.call = undefined;
    this.client = undefined;
    try {
      call?.cancel();
    } catch {
      // already ended
    }
    client?.close();
  }

  private open(): void {
    if (this.stopped) return;
    const method = streamAggregatedResourcesMethod();
    const generation = ++this.generation;
    this.streams++;
    // A fresh channel per stream: its connection attempt happens now, not after grpc-js' own
    // (long) reconnect backoff, so our capped backoff is the only one.
    // A factory is called for every connection: credentials read from files (a mounted Secret)
    // are read again, as Envoy re-reads its SDS files.
    const creds = this.options.credentials;
    const client = new grpc.Client(
      this.options.address,
      typeof creds === 'function' ? creds() : (creds ?? grpc.credentials.createInsecure()),
      {
        'grpc.use_local_subchannel_pool': 1,
        'grpc.keepalive_time_ms': 30_000,
        'grpc.keepalive_timeout_ms': 10_000,
        ...this.options.channelOptions,
      },
    );
    const call = client.makeBidiStreamRequest<PlainMessage, RawResponse>(
      method.path,
      (req) => {
        const bytes = method.request.encode(method.request.fromObject(req)).finish();
        return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      },
      (bytes) =>
        method.response.toObject(method.response.decode(bytes), {
          longs: String,
          enums: String,
        }) as RawResponse,
    );
    this.client = client;
    this.call = call;
    this.nodeSent = false;
    call.on('metadata', () => {
      if (generation === this.generation) this.markConnected();
    });
    call.on('data', (resp: RawResponse) => {
      if (generation !== this.generation) return;
      this.markConnected();
      // Only a real response proves the controller is back: then the backoff starts over.
      this.attempt = 0;
      this.queue = this.queue
        .then(() => this.handle(resp, generation))
        .catch((err: unknown) =>
          this.log.error('ADS response handling failed', { error: errorMessage(err) }),
        );
    });
    call.on('error', () => undefined); // reported through 'status'
    call.on('status', (s: grpc.StatusObject) => {
      if (generation !== this.generation) return;
      // grpc-js quotes the connection's last error as `Last error: Error: <message>`: keep the message.
      const details = s.details.replace(/Last error: Error: /g, 'Last error: ');
      this.lastDisconnect = `${grpc.status[s.code] ?? s.code}: ${details}`;
      this.log.warn('ADS stream ended', { address: this.options.address, reason: this.lastDisconnect });
      this.closeStream();
      this.scheduleReconnect();
      this.options.onChange?.();
    });
    for (const t of this.order) {
      const st = this.types.get(t)!;
      st.requested = false;
      // An explicit subscription that lists nothing is not requested on a new stream.
      if (!st.wildcard && st.names.length === 0) continue;
      this.request(st);
    }
  }

  private markConnected(): void {
    if (this.connectedFlag) return;
    this.connectedFlag = true;
    this.log.info('ADS stream connected', { address: this.options.address, node: this.options.node.id });
    this.options.onChange?.();
  }

  private scheduleReconnect(): void {
    if (this.stopped) return;
    const delay = backoffDelayMs(
      this.attempt++,
      { ...ADS_RECONNECT_BACKOFF, ...this.options.backoff },
      this.options.random,
    );
    this.log.debug('ADS reconnect scheduled', { delayMs: delay, attempt: this.attempt });
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      try {
        this.open();
      } catch (err) {
        // A channel that cannot even be created: try again later rather than crash the process.
        this.lastDisconnect = `cannot open the ADS stream: ${errorMessage(err)}`;
        this.log.warn('ADS stream failed to open', {
          address: this.options.address,
          error: errorMessage(err),
        });
        this.closeStream();
        this.scheduleReconnect();
      }
    }, delay);
  }

  private nodeMessage(): PlainMessage {
    const { id, cluster, locality } = this.options.node;
    const node: PlainMessage = {
      id,
      cluster: cluster ?? '',
      user_agent_name: this.options.userAgent ?? 'fsm-probe-agent',
    };
    if (locality) node.locality = { ...locality };
    return node;
  }

  /** A request for one type: subscription, last ACKed version, latest nonce (none on a new stream). */
  private request(st: TypeState, extra: PlainMessage = {}): void {
    if (!this.call) return;
    const req: PlainMessage = {
      version_info: st.version,
      resource_names: st.wildcard ? [] : st.names,
      type_url: st.typeUrl,
      response_nonce: st.requested ? st.nonce : '',
      ...extra,
    };
    if (!this.nodeSent) {
      req.node = this.nodeMessage();
      this.nodeSent = true;
    }
    st.requested = true;
    this.call.write(req);
  }

  private async handle(resp: RawResponse, generation: number): Promise<void> {
    const typeUrl = resp.type_url ?? '';
    const st = this.types.get(typeUrl);
    if (!st) {
      this.log.warn('response for a type never subscribed ignored', { type: typeUrl });
      return;
    }
    const versionInfo = resp.version_info ?? '';
    const nonce = resp.nonce ?? '';
    st.nonce = nonce;
    let error: string | undefined;
    try {
      await this.options.apply(typeUrl, decodeResources(typeUrl, resp.resources ?? []), versionInfo);
    } catch (err) {
      error = errorMessage(err);
    }
    // The stream may have ended while applying: the new stream re-requests with the last ACK.
    if (generation !== this.generation || !this.call) {
      if (!error) st.version = versionInfo; // applied, so it is what we run
      return;
    }
    const type = shortTypeName(typeUrl);
    if (error === undefined) {
      st.version = versionInfo;
      st.acks++;
      st.lastNack = undefined;
      this.log.debug('ACK', { type, version: versionInfo, nonce });
      this.request(st);
    } else {
      st.nacks++;
      st.lastNack = { version: versionInfo, message: error };
      this.log.warn('NACK', { type, version: versionInfo, keeping: st.version, error });
      this.request(st, { error_detail: { code: NACK_CODE, message: error } });
    }
    this.options.onChange?.();
  }
}
