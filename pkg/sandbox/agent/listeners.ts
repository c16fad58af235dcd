/**
 * The agent's bound listeners. Each Listener resource binds <pod address>:<port> (the configured
 * wildcard or loopback address replaced by the pod address, the port through the optional port
 * map). An update is applied as a whole: new sockets are bound first and, if any bind fails,
 * closed again and the update is refused (the previous listeners keep serving); a listener whose
 * address is unchanged keeps its socket and only swaps its configuration (connections accepted
 * before are closed after their current response); removed listeners close.
 */
import http from 'node:http';
import net from 'node:net';
import type { Logger } from '../../logger/index.js';
import { errorMessage } from '../../logger/index.js';
import { ConfigError, Problems } from './config/problems.js';
import type { Endpoint, FilterChainModel, ListenerModel } from './model.js';
import type { OriginalDestinationOf } from './original-destination.js';
import { serveHttp } from './http-proxy.js';
import { serveTcp, type Peer } from './tcp-proxy.js';
import { terminateTls } from './peer-tls.js';
import type { DataPlaneContext } from './upstream.js';

/** First byte of a TLS record carrying a handshake (a ClientHello starts with it). */
const TLS_HANDSHAKE_BYTE = 0x16;
/** Envoy's listener_filters_timeout: a connection that sends nothing is closed after it. */
export const LISTENER_FILTERS_TIMEOUT_MS = 15_000;

export interface ListenerStatus {
  name: string;
  /** Where it is bound (`host:port`), or undefined when not bound. */
  address?: string;
  /** The address as configured. */
  configuredAddress: string;
  bound: boolean;
  /** Why it is not bound. */
  reason?: string;
  /** Incremented each time its configuration changes. */
  generation: number;
}

export interface ListenerSetOptions {
  podAddress: string;
  /** Configured port → port actually bound (0: any free port). Ports not listed bind as configured. */
  portMap: Readonly<Record<number, number>>;
  context: DataPlaneContext;
  logger: Logger;
  /**
   * How an accepted connection's original destination is learned (namespace mode: SO_ORIGINAL_DST).
   * Without it, capture listeners (use_original_dst) are not bound: nothing redirects to them.
   */
  originalDestination?: OriginalDestinationOf;
}

/** Hands a captured connection to the listener of its original destination (undefined: none). */
type Handoff = (original: Endpoint) => ListenerModel | undefined;

interface Conn {
  generation: number;
  chain: FilterChainModel;
  peer?: Peer;
}

/** One bound socket, serving the listener currently assigned to it. */
class BoundListener {
  model: ListenerModel;
  generation = 1;
  readonly server: net.Server;
  private readonly http: http.Server;
  /** Dispatched connections and the chain each one was given. */
  private readonly sockets = new Map<net.Socket, Conn>();
  /** Every open accepted connection, including those still being inspected. */
  private readonly accepted = new Set<net.Socket>();
  port = 0;

  constructor(
    model: ListenerModel,
    readonly key: string,
    readonly host: string,
    private readonly requestedPort: number,
    private readonly ctx: DataPlaneContext,
    private readonly logger: Logger,
    private readonly capture?: { originalDestination: OriginalDestinationOf; handoff: Handoff },
  ) {
    this.model = model;
    this.http = http.createServer((req, res) => {
      const conn = this.sockets.get(req.socket);
      if (!conn || conn.chain.handler.kind !== 'http') {
        res.destroy();
        return;
      }
      serveHttp(conn.chain.handler, req, res, this.ctx, conn.generation !== this.generation, conn.peer);
    });
    this.http.on('clientError', (_err, socket) => socket.destroy());
    this.server = net.createServer({ allowHalfOpen: true }, (socket) => this.accept(socket));
    this.server.on('error', (err) =>
      this.logger.warn('listener error', { listener: this.model.name, error: errorMessage(err) }),
    );
  }

  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      this.server.once('error', onError);
      this.server.listen({ host: this.host, port: this.requestedPort, exclusive: true }, () => {
        this.server.removeListener('error', onError);
        this.port = (this.server.address() as net.AddressInfo).port;
        resolve();
      });
    });
  }

  reassign(model: ListenerModel): void {
    this.model = model;
    this.generation++;
  }

  private chainFor(protocol: 'tls' | 'raw_buffer', m: ListenerModel): FilterChainModel | undefined {
    return (
      m.chains.find((c) => c.transportProtocol === protocol) ??
      m.chains.find((c) => c.transportProtocol === undefined) ??
      m.defaultChain
    );
  }

  private accept(socket: net.Socket): void {
    socket.on('error', () => undefined);
    this.accepted.add(socket);
    socket.once('close', () => this.accepted.delete(socket));
    const prepare = this.capture?.originalDestination.prepare;
    if (!prepare) {
      this.serve(socket);
      return;
    }
    // Loopback mode: the connection first says where it was going (PROXY protocol header).
    prepare(socket).then(
      () => this.serve(socket),
      (err: unknown) => {
        this.logger.info('captured connection refused: no original destination', {
          listener: this.model.name,
          remote: `${socket.remoteAddress}:${socket.remotePort}`,
          error: errorMessage(err),
        });
        socket.destroy();
      },
    );
  }

  private serve(socket: net.Socket): void {
    const generation = this.generation;
    // A capture listener serves each connection as the listener of its original destination would.
    let model = this.model;
    let original: Endpoint | undefined;
    if (this.capture) {
      try {
        const od = this.capture.originalDestination(socket);
        original = od && { host: od.address, port: od.port };
      } catch (err) {
        this.logger.warn('cannot read the original destination', {
          listener: model.name,
          error: errorMessage(err),
        });
      }
      const target = original && this.capture.handoff(original);
      if (target) model = target;
    }
    if (!model.tlsInspector) {
      this.dispatch(socket, this.chainFor('raw_buffer', model), generation, original);
      return;
    }
    // TLS inspector: peek at the first bytes, put them back, and pick the chain.
    const timer = setTimeout(() => socket.destroy(), LISTENER_FILTERS_TIMEOUT_MS);
    socket.once('close', () => clearTimeout(timer));
    socket.once('data', (chunk: Buffer) => {
      clearTimeout(timer);
      socket.pause();
      socket.unshift(chunk);
      const protocol = chunk[0] === TLS_HANDSHAKE_BYTE ? 'tls' : 'raw_buffer';
      this.dispatch(socket, this.chainFor(protocol, model), generation, original);
    });
    // A connection whose PROXY header was read first is paused: let its bytes come.
    socket.resume();
  }

  private dispatch(
    socket: net.Socket,
    chain: FilterChainModel | undefined,
    generation: number,
    original?: Endpoint,
  ): void {
    if (!chain) {
      socket.destroy(); // no filter chain matches: Envoy closes the connection
      return;
    }
    if (!chain.tls) {
      this.handle(socket, chain, generation, original);
      return;
    }
    // The chain terminates (m)TLS: the handler serves what is inside, knowing who the peer proved to be.
    const remote = `${socket.remoteAddress}:${socket.remotePort}`;
    terminateTls(socket, chain.tls, this.ctx.secret, LISTENER_FILTERS_TIMEOUT_MS).then(
      ({ socket: secure, peerUri }) => {
        this.accepted.add(secure);
        secure.once('close', () => this.accepted.delete(secure));
        this.handle(secure, chain, generation, original, peerUri ? { uri: peerUri } : {});
      },
      (err: unknown) =>
        this.logger.info('inbound TLS refused', {
          listener: this.model.name,
          chain: chain.name,
          remote,
          error: errorMessage(err),
        }),
    );
  }

  private handle(
    socket: net.Socket,
    chain: FilterChainModel,
    generation: number,
    original: Endpoint | undefined,
    peer?: Peer,
  ): void {
    this.sockets.set(socket, { generation, chain, ...(peer ? { peer } : {}) });
    socket.once('close', () => this.sockets.delete(socket));
    if (chain.handler.kind === 'http') {
      this.http.emit('connection', socket);
      socket.resume();
    } else {
      serveTcp(chain.handler, socket, this.ctx, original, peer);
    }
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      for (const s of this.accepted) s.destroy();
      this.accepted.clear();
      this.sockets.clear();
    });
  }
}

export class ListenerSet {
  private readonly bound = new Map<string, BoundListener>();
  private unbound: ListenerModel[] = [];
  private readonly byName = new Map<string, BoundListener>();

  constructor(private readonly options: ListenerSetOptions) {}

  /** The port to bind for a configured port (through the port map). */
  portFor(configuredPort: number): number {
    return this.options.portMap[configuredPort] ?? configuredPort;
  }

  /** Bound: a listener with an address, or a capture listener where original destinations are known. */
  private binds(m: ListenerModel): boolean {
    return m.bind || (m.captures === true && this.options.originalDestination !== undefined);
  }

  /** The not-bound listener (bind_to_port false) of an original destination: its exact address, or its port on the wildcard. */
  private handoff(models: readonly ListenerModel[]): Handoff {
    const targets = models.filter((m) => !m.bind && !m.captures);
    return (original) =>
      targets.find((m) => m.configuredHost === original.host && m.configuredPort === original.port) ??
      targets.find(
        (m) =>
          (m.configuredHost === '0.0.0.0' || m.configuredHost === '::') && m.configuredPort === original.port,
      );
  }

  private keyOf(model: ListenerModel): string {
    const port = this.portFor(model.configuredPort);
    // Ephemeral ports are per listener: a listener keeps its socket while its name stays.
    return port === 0 ? `${model.name}@${this.options.podAddress}:0` : `${this.options.podAddress}:${port}`;
  }

  /** Applies the full set of listeners; throws ConfigError (nothing changed) when one cannot be bound. */
  async update(models: readonly ListenerModel[]): Promise<void> {
    const wanted = new Map<string, ListenerModel>();
    const clashes = new Problems();
    for (const m of models) {
      if (!this.binds(m)) continue;
      const key = this.keyOf(m);
      const other = wanted.get(key);
      if (other) {
        clashes.add(
          `Listener ${JSON.stringify(m.name)}`,
          `address ${key} is already used by listener ${JSON.stringify(other.name)}`,
        );
        continue;
      }
      wanted.set(key, m);
    }
    if (clashes.count > 0) throw ConfigError.of(clashes.list());
    // 1. Bind the new addresses; undo them all if one fails.
    const fresh: BoundListener[] = [];
    const handoff = this.handoff(models);
    const od = this.options.originalDestination;
    for (const [key, m] of wanted) {
      if (this.bound.has(key)) continue;
      const b = new BoundListener(
        m,
        key,
        this.options.podAddress,
        this.portFor(m.configuredPort),
        this.options.context,
        this.options.logger,
        m.captures && od ? { originalDestination: od, handoff: (o) => this.currentHandoff(o) } : undefined,
      );
      try {
        await b.listen();
      } catch (err) {
        await Promise.all(fresh.map((f) => f.close()));
        b.server.close();
        throw new ConfigError(
          `Listener ${JSON.stringify(m.name)}: cannot bind ${this.options.podAddress}:${this.portFor(m.configuredPort)}: ${errorMessage(err)}`,
        );
      }
      fresh.push(b);
    }
    // 2. Commit: swap configurations, close what is gone.
    for (const [key, b] of [...this.bound]) {
      const m = wanted.get(key);
      if (!m) {
        this.bound.delete(key);
        this.options.logger.info('listener closed', {
          listener: b.model.name,
          address: `${b.host}:${b.port}`,
        });
        await b.close();
      } else if (m.fingerprint === undefined || m.fingerprint !== b.model.fingerprint) {
        b.reassign(m);
      } else {
        b.model = m;
      }
    }
    for (const b of fresh) {
      this.bound.set(b.key, b);
      this.options.logger.info('listener bound', { listener: b.model.name, address: `${b.host}:${b.port}` });
    }
    this.byName.clear();
    for (const b of this.bound.values()) this.byName.set(b.model.name, b);
    this.unbound = models.filter((m) => !this.binds(m));
    this.currentHandoff = handoff;
  }

  /** The hand-off of the configuration applied last (capture listeners read it per connection). */
  private currentHandoff: Handoff = () => undefined;

  /** The port a listener is bound on (tests use it with port-0 maps). */
  boundPort(name: string): number | undefined {
    return this.byName.get(name)?.port;
  }

  status(): ListenerStatus[] {
    const out: ListenerStatus[] = [];
    for (const b of this.bound.values()) {
      out.push({
        name: b.model.name,
        address: `${b.host}:${b.port}`,
        configuredAddress: `${b.model.configuredHost}:${b.model.configuredPort}`,
        bound: true,
        generation: b.generation,
      });
    }
    for (const m of this.unbound) {
      out.push({
        name: m.name,
        configuredAddress: `${m.configuredHost}:${m.configuredPort}`,
        bound: false,
        reason: m.skipReason,
        generation: 0,
      });
    }
    return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  async closeAll(): Promise<void> {
    const all = [...this.bound.values()];
    this.bound.clear();
    this.byName.clear();
    this.unbound = [];
    await Promise.all(all.map((b) => b.close()));
  }
}
