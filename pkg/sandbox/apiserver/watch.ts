/**
 * One watch connection: a chunked HTTP response of `{"type","object"}` lines fed by the store, with
 * selector transitions (an object leaving the selector is DELETED for this watch, entering it is
 * ADDED), BOOKMARKs, timeoutSeconds, and the fault hooks (drop the socket, 410 in-stream).
 */
import type { ServerResponse } from 'node:http';
import type { KubeObject, Store, StoreEvent } from './store.js';
import type { ResourceInfo } from './resources.js';
import { StatusError } from './status.js';
import { toTable, type IncludeObject } from './table.js';
import { objectJson } from './encode.js';

export interface WatchFilter {
  namespace?: string;
  matches(o: KubeObject): boolean;
}

export interface WatchOptions {
  info: ResourceInfo;
  resourceKey: string;
  filter: WatchFilter;
  /** Undefined: start from "now" after sending the current objects as ADDED. */
  fromRv?: number;
  bookmarks: boolean;
  bookmarkIntervalMs: number;
  timeoutMs: number;
  /** sendInitialEvents=true: current objects, then a BOOKMARK marking the end of them. */
  sendInitialEvents: boolean;
  table?: { include: IncludeObject; version: string };
  /** Bytes buffered for a slow client before the watch is closed. */
  maxBufferedBytes?: number;
}

/** Objects carry their kind/apiVersion in watch events. */
function withKind(info: ResourceInfo, o: KubeObject): KubeObject {
  if (o['kind'] && o['apiVersion']) return o;
  return {
    ...o,
    kind: info.kind,
    apiVersion: info.group ? `${info.group}/${info.version}` : info.version,
  } as KubeObject;
}

export class WatchConnection {
  private unsubscribe?: () => void;
  private bookmarkTimer?: NodeJS.Timeout;
  private timeoutTimer?: NodeJS.Timeout;
  private closed = false;
  private headersSent = false;
  private lastRv: number;

  constructor(
    readonly opts: WatchOptions,
    private readonly store: Store,
    private readonly res: ServerResponse,
    private readonly onClose: (w: WatchConnection) => void,
  ) {
    this.lastRv = store.resourceVersion;
  }

  get resource(): string {
    return this.opts.resourceKey;
  }

  start(): void {
    const { opts } = this;
    this.res.on('close', () => this.cleanup());
    this.res.writeHead(200, {
      'Content-Type': 'application/json',
      'Cache-Control': 'no-cache, private',
      'Transfer-Encoding': 'chunked',
    });
    this.headersSent = true;
    this.res.flushHeaders();
    let from = opts.fromRv;
    if (from === undefined || opts.sendInitialEvents) {
      from = this.store.resourceVersion;
      if (opts.sendInitialEvents || opts.fromRv === undefined) {
        for (const o of this.store.list(opts.resourceKey, opts.filter.namespace)) {
          if (opts.filter.matches(o)) this.send('ADDED', o);
        }
      }
      if (opts.sendInitialEvents) {
        this.send('BOOKMARK', this.bookmarkObject(from, true));
      }
    }
    try {
      this.unsubscribe = this.store.watch(opts.resourceKey, from, (ev) => this.onEvent(ev));
    } catch (e) {
      if (e instanceof StatusError) {
        this.sendError(e);
        return;
      }
      throw e;
    }
    this.lastRv = Math.max(this.lastRv, from);
    if (opts.bookmarks) {
      this.bookmarkTimer = setInterval(() => this.bookmark(), opts.bookmarkIntervalMs);
    }
    this.timeoutTimer = setTimeout(() => {
      // A bookmark right before a timeout lets the client resume without a relist.
      if (opts.bookmarks) this.bookmark();
      this.end();
    }, opts.timeoutMs);
  }

  private onEvent(ev: StoreEvent): void {
    if (this.closed) return;
    const { filter } = this.opts;
    const now =
      filter.matches(ev.object) &&
      (filter.namespace === undefined || ev.object.metadata.namespace === filter.namespace);
    const before =
      ev.prev !== undefined &&
      filter.matches(ev.prev) &&
      (filter.namespace === undefined || ev.prev.metadata.namespace === filter.namespace);
    this.lastRv = ev.rv;
    if (ev.type === 'DELETED') {
      if (before) this.send('DELETED', ev.object);
      return;
    }
    if (ev.type === 'ADDED') {
      if (now) this.send('ADDED', ev.object);
      return;
    }
    if (now && before) this.send('MODIFIED', ev.object);
    else if (now) this.send('ADDED', ev.object);
    else if (before) this.send('DELETED', ev.object);
  }

  private bookmarkObject(rv: number, initialEnd = false): KubeObject {
    const { info } = this.opts;
    return {
      kind: info.kind,
      apiVersion: info.group ? `${info.group}/${info.version}` : info.version,
      metadata: {
        name: '',
        resourceVersion: String(rv),
        ...(initialEnd ? { annotations: { 'k8s.io/initial-events-end': 'true' } } : {}),
      },
    } as KubeObject;
  }

  private bookmark(): void {
    if (this.closed) return;
    // Every event up to the store's version has been delivered (delivery is synchronous).
    this.send('BOOKMARK', this.bookmarkObject(this.store.resourceVersion));
  }

  private firstTable = true;

  private send(type: string, o: KubeObject): void {
    if (this.closed) return;
    const { info } = this.opts;
    if (!this.opts.table && type !== 'BOOKMARK') {
      const apiVersion = info.group ? `${info.group}/${info.version}` : info.version;
      this.write(`{"type":"${type}","object":${objectJson(o, info.kind, apiVersion)}}\n`);
      return;
    }
    let object: unknown = withKind(info, o);
    if (this.opts.table && type !== 'BOOKMARK') {
      object = toTable(this.opts.info, [o], {
        now: Date.now(),
        include: this.opts.table.include,
        resourceVersion: String(o.metadata.resourceVersion ?? ''),
        noHeaders: !this.firstTable,
      });
      this.firstTable = false;
    }
    this.write(JSON.stringify({ type, object }) + '\n');
  }

  private write(line: string): void {
    this.res.write(line);
    if (this.res.writableLength > (this.opts.maxBufferedBytes ?? 64 * 1024 * 1024)) {
      // A client this far behind would only ever fall further: drop it, as kube-apiserver does.
      this.drop();
    }
  }

  /** Writes an ERROR event with this Status and ends the stream. */
  sendError(err: StatusError): void {
    if (this.closed) return;
    this.write(JSON.stringify({ type: 'ERROR', object: err.status }) + '\n');
    this.end();
  }

  /** Ends the stream cleanly (terminating chunk). */
  end(): void {
    if (this.closed) return;
    this.cleanup();
    this.res.end();
  }

  /** Destroys the socket without a terminating chunk: the client sees a broken stream. */
  drop(): void {
    if (this.closed) return;
    this.cleanup();
    this.res.socket?.destroy();
    this.res.destroy();
  }

  private cleanup(): void {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribe?.();
    clearInterval(this.bookmarkTimer);
    clearTimeout(this.timeoutTimer);
    void this.headersSent;
    this.onClose(this);
  }
}
