/**
 * A resilient informer: list (paged) then watch (with BOOKMARKs) through @kubernetes/client-node,
 * keeping a cache and calling add/update/delete handlers. The client's own ListWatch gives up for
 * good after a dropped socket, a non-410 watch error or a failed list; this loop never does:
 * - one loop per informer, so never two watches at once;
 * - a watch that ends cleanly (timeoutSeconds, idle timeout) resumes from the last resourceVersion;
 * - 410 Gone (HTTP or an in-stream ERROR) relists at once, and the relist is diffed against the
 *   cache so deletions missed while disconnected are delivered;
 * - an API server that answers with an error (429, 5xx, 403, an in-stream ERROR) is retried after a
 *   capped, jittered exponential backoff (200 ms doubling to 30 s), then resumed (relisting if the
 *   version turns out to be too old);
 * - an API server that cannot be reached at all (connection refused, no route, DNS) is probed again
 *   at a short capped interval (≤ 1 s) and the watch resumes from the last resourceVersion, so a
 *   restarted API server is seen within a second of answering (see retryDelay below for why);
 * - stop() ends the loop and the open watch, and waits for them.
 * Cached objects are the JSON the server sent (timestamps are strings), passed through the
 * `transform` option when given: treat them as read-only.
 */
import { Watch, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import {
  BACKOFF_JITTER,
  INFORMER_LIST_PAGE_SIZE,
  INFORMER_RECONNECT_INITIAL_MS,
  INFORMER_RECONNECT_MAX_MS,
  INFORMER_WATCH_IDLE_TIMEOUT_MS,
  INFORMER_WATCH_TIMEOUT_SECONDS,
} from '../constants/index.js';
import { errorMessage, type Logger } from '../logger/index.js';
import { Backoff, type BackoffOptions } from '../backoff/index.js';
import { KubeApiError, describeRequestError, getJson, isUnreachable } from './rest.js';

export interface InformerOptions<T = never> {
  labelSelector?: string;
  fieldSelector?: string;
  /** Items per list page (default 500). */
  pageSize?: number;
  /** Server-side watch timeout base; each watch asks for a random value in [t, 2t) (default 300). */
  watchTimeoutSeconds?: number;
  /** Client-side: a watch silent this long is restarted (default 90 s). */
  idleTimeoutMs?: number;
  /** Retries after the API server answered with an error (default 200 ms doubling to 30 s). */
  backoff?: BackoffOptions;
  /** Retries while the API server cannot be reached at all (default 250 ms doubling to 1 s). */
  reconnect?: BackoffOptions;
  /**
   * Applied to every object the server sends (list items, ADDED/MODIFIED/DELETED events) before it
   * is cached or handed to a handler, as client-go's SetTransform: drop what no handler reads, so
   * the cache holds less (fsm-controller's pods: trimPod). Must keep metadata name, namespace and
   * resourceVersion; may return the object it was given.
   */
  transform?: (obj: T) => T;
}

export type InformerEvent = 'add' | 'update' | 'delete' | 'synced' | 'error';

export interface InformerHandlers<T> {
  add: (obj: T) => void;
  /** The new object and the one it replaced in the cache. */
  update: (obj: T, old: T) => void;
  /** The last known state of the object. */
  delete: (obj: T) => void;
  /** The first complete list has been loaded into the cache. */
  synced: () => void;
  /** A list or watch failed; the informer retries on its own. */
  error: (err: Error) => void;
}

export interface InformerStats {
  synced: boolean;
  /** Restarts after failures (dropped sockets, errors, 410s, failed lists). */
  restarts: number;
  /** ms since the informer lost its watch (0 while watching). */
  outOfSyncMs: number;
  resourceVersion: string;
  watching: boolean;
  lastError?: string;
  objects: number;
}

/** The interface the controller and CLI program against. */
export interface ResourceInformer<T> {
  start(): Promise<void>;
  stop(): Promise<void>;
  get(name: string, namespace?: string): T | undefined;
  list(namespace?: string): T[];
  hasSynced(): boolean;
  /** Resolves at the first sync; rejects when stopped first or after timeoutMs. */
  waitForSync(timeoutMs?: number): Promise<void>;
  on<E extends InformerEvent>(event: E, handler: InformerHandlers<T>[E]): void;
  off<E extends InformerEvent>(event: E, handler: InformerHandlers<T>[E]): void;
  outOfSyncMs(): number;
  restartCount(): number;
  stats(): InformerStats;
}

type WatchOutcome =
  | { kind: 'clean'; events: number; ms: number }
  | { kind: 'expired'; events: number; ms: number }
  | { kind: 'error'; err: Error; unreachable: boolean; events: number; ms: number };

interface ListBody<T> {
  metadata?: { resourceVersion?: string; continue?: string };
  items?: T[];
}

export function cacheKey(name: string, namespace?: string): string {
  return namespace ? `${namespace}/${name}` : name;
}

function keyOf(o: KubernetesObject): string {
  return cacheKey(o.metadata?.name ?? '', o.metadata?.namespace);
}

export class Informer<T extends KubernetesObject> implements ResourceInformer<T> {
  private cache = new Map<string, T>();
  private rv = '';
  private synced = false;
  private running?: Promise<void>;
  private stopped = true;
  private restarts = 0;
  private outOfSyncSince: number | undefined = Date.now();
  private watching = false;
  private lastError?: string;
  private readonly backoff: Backoff;
  private readonly reconnect: Backoff;
  /** Since when the API server could not be reached (undefined while it answers). */
  private unreachableSince: number | undefined;
  private readonly handlers: { [E in InformerEvent]: InformerHandlers<T>[E][] } = {
    add: [],
    update: [],
    delete: [],
    synced: [],
    error: [],
  };
  private cancelWatch?: () => void;
  private cancelSleep?: () => void;
  private listAbort?: AbortController;
  private syncWaiters: { resolve: () => void; reject: (e: Error) => void }[] = [];
  private readonly log: Logger;

  /**
   * @param path collection path, e.g. `/api/v1/pods` or `/api/v1/namespaces/ns/pods`
   * @param name used in logs and errors, e.g. `pods`
   */
  constructor(
    private readonly kc: KubeConfig,
    logger: Logger,
    private readonly path: string,
    readonly name: string,
    private readonly opts: InformerOptions<T> = {},
  ) {
    this.backoff = new Backoff(opts.backoff);
    this.reconnect = new Backoff({
      initialMs: INFORMER_RECONNECT_INITIAL_MS,
      maxMs: INFORMER_RECONNECT_MAX_MS,
      jitter: BACKOFF_JITTER,
      jitterMode: 'below',
      ...opts.reconnect,
    });
    this.log = logger.child({ component: 'informer', informer: name });
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.stopped = false;
    this.outOfSyncSince = Date.now();
    this.running = this.run().finally(() => {
      this.running = undefined;
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.cancelWatch?.();
    this.cancelSleep?.();
    this.listAbort?.abort();
    const waiters = this.syncWaiters;
    this.syncWaiters = [];
    for (const w of waiters) w.reject(new Error(`informer ${this.name} stopped before it synced`));
    await this.running;
  }

  get(name: string, namespace?: string): T | undefined {
    return this.cache.get(cacheKey(name, namespace));
  }

  list(namespace?: string): T[] {
    const out: T[] = [];
    for (const o of this.cache.values()) {
      if (namespace === undefined || o.metadata?.namespace === namespace) out.push(o);
    }
    return out;
  }

  hasSynced(): boolean {
    return this.synced;
  }

  waitForSync(timeoutMs?: number): Promise<void> {
    if (this.synced) return Promise.resolve();
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const waiter = {
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
        reject: (e: Error) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      if (timeoutMs !== undefined) {
        timer = setTimeout(() => {
          this.syncWaiters = this.syncWaiters.filter((w) => w !== waiter);
          reject(
            new Error(
              `informer ${this.name} did not sync within ${timeoutMs} ms${this.lastError ? `: ${this.lastError}` : ''}`,
            ),
          );
        }, timeoutMs);
      }
      this.syncWaiters.push(waiter);
    });
  }

  on<E extends InformerEvent>(event: E, handler: InformerHandlers<T>[E]): void {
    const list = this.handlers[event] as InformerHandlers<T>[E][] | undefined;
    if (!list) throw new Error(`informer ${this.name}: unknown event "${String(event)}"`);
    list.push(handler);
  }

  off<E extends InformerEvent>(event: E, handler: InformerHandlers<T>[E]): void {
    const list = this.handlers[event] as InformerHandlers<T>[E][];
    const i = list.indexOf(handler);
    if (i >= 0) list.splice(i, 1);
  }

  outOfSyncMs(): number {
    return this.outOfSyncSince === undefined ? 0 : Math.max(0, Date.now() - this.outOfSyncSince);
  }

  restartCount(): number {
    return this.restarts;
  }

  stats(): InformerStats {
    return {
      synced: this.synced,
      restarts: this.restarts,
      outOfSyncMs: this.outOfSyncMs(),
      resourceVersion: this.rv,
      watching: this.watching,
      lastError: this.lastError,
      objects: this.cache.size,
    };
  }

  // ---- the loop ----

  private async run(): Promise<void> {
    let needList = true;
    while (!this.stopped) {
      if (needList) {
        try {
          await this.relist();
          needList = false;
        } catch (e) {
          if (this.stopped) break;
          const err = e instanceof Error ? e : new Error(String(e));
          const unreachable = isUnreachable(e);
          if (e instanceof KubeApiError) this.reachable();
          this.failed(err, 'list', unreachable);
          await this.sleep(this.retryDelay(unreachable));
          continue;
        }
      }
      const out = await this.watchOnce();
      this.watching = false;
      if (this.stopped) break;
      switch (out.kind) {
        case 'clean':
          // A server that ends watches at once with nothing to say must not make us spin.
          if (out.events === 0 && out.ms < 1000) await this.sleep(this.backoff.next());
          else this.backoff.reset();
          break;
        case 'expired':
          this.restarts++;
          this.markOutOfSync();
          this.log.info('watch expired (410): relisting', { resourceVersion: this.rv });
          this.rv = '';
          needList = true;
          break;
        case 'error':
          this.failed(out.err, 'watch', out.unreachable);
          if (out.err instanceof KubeApiError && out.err.statusCode === 410) {
            this.rv = '';
            needList = true;
            break;
          }
          if (out.events > 0 || out.ms > 30_000) this.backoff.reset();
          await this.sleep(this.retryDelay(out.unreachable));
          break;
      }
    }
    this.watching = false;
  }

  /**
   * How long to wait before the next attempt. The rule, anchored on client-go's reflector:
   * - client-go backs off 800 ms doubling to 30 s and forgets the backoff only after 2 minutes
   *   without a failure; its comment gives the reason: cut the traffic an *unhealthy* API server
   *   must serve by ~98%. A watch that fails with "connection refused" is resumed from the last
   *   resourceVersion without a relist ("most likely we will be able to restart watch where we
   *   ended"), under its own backoff.
   * - That reason holds for an API server that answers: every LIST and WATCH it answers with 429 or
   *   5xx costs it work. So answered errors keep the exponential backoff (this.backoff), reset only
   *   by a watch that proved healthy (events, or open for 30 s).
   * - It does not hold while nothing answers: a refused connect never reaches the API server (the
   *   kernel or the load balancer answers it), so waiting 30 s protects nobody and only delays the
   *   recovery by up to 30 s. Then the informer probes at a short interval capped at 1 s, jittered
   *   below the cap so that clients do not come back in step (this.reconnect), and resumes the watch
   *   from its resourceVersion as client-go does. The first HTTP answer ends that mode (see
   *   reachable()); if that answer is an error, the exponential backoff takes over from there.
   */
  private retryDelay(unreachable: boolean): number {
    return unreachable ? this.reconnect.next() : this.backoff.next();
  }

  /** The API server answered (a list page, or a watch's 200): leave the unreachable mode. */
  private reachable(): void {
    this.reconnect.reset();
    if (this.unreachableSince === undefined) return;
    this.log.info('API server reachable again', {
      unreachableMs: Date.now() - this.unreachableSince,
    });
    this.unreachableSince = undefined;
  }

  private failed(err: Error, what: 'list' | 'watch', unreachable: boolean): void {
    this.restarts++;
    this.markOutOfSync();
    this.lastError = `${what}: ${err.message}`;
    this.emit('error', err);
    if (unreachable) {
      // Probing every second while the API server is down: one warning, then debug lines, and an
      // info line with the downtime when it answers again.
      const first = this.unreachableSince === undefined;
      this.unreachableSince ??= Date.now();
      const meta = { error: err.message, attempts: this.reconnect.failures + 1, restarts: this.restarts };
      if (first) this.log.warn(`${what} failed: API server unreachable; retrying every second at most`, meta);
      else this.log.debug(`${what} failed: API server still unreachable`, meta);
      return;
    }
    this.log.warn(`${what} failed; retrying with backoff`, {
      error: err.message,
      failures: this.backoff.failures + 1,
      restarts: this.restarts,
    });
  }

  private markOutOfSync(): void {
    this.outOfSyncSince ??= Date.now();
  }

  private sleep(ms: number): Promise<void> {
    if (this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.cancelSleep = undefined;
        resolve();
      }, ms);
      this.cancelSleep = () => {
        clearTimeout(t);
        this.cancelSleep = undefined;
        resolve();
      };
    });
  }

  private transform(obj: T): T {
    return this.opts.transform ? this.opts.transform(obj) : obj;
  }

  private async relist(): Promise<void> {
    const fresh = new Map<string, T>();
    let cont: string | undefined;
    let rv = '';
    this.listAbort = new AbortController();
    try {
      do {
        const body = (await getJson(
          this.kc,
          this.path,
          {
            limit: this.opts.pageSize ?? INFORMER_LIST_PAGE_SIZE,
            continue: cont,
            labelSelector: this.opts.labelSelector,
            fieldSelector: this.opts.fieldSelector,
          },
          this.listAbort.signal,
        )) as ListBody<T>;
        this.reachable();
        for (const item of body.items ?? []) {
          const o = this.transform(item);
          fresh.set(keyOf(o), o);
        }
        if (!cont) rv = body.metadata?.resourceVersion ?? '';
        cont = body.metadata?.continue || undefined;
        if (this.stopped) return;
      } while (cont);
    } finally {
      this.listAbort = undefined;
    }
    // Replace the cache, delivering what changed while we were not watching.
    const old = this.cache;
    this.cache = fresh;
    this.rv = rv;
    for (const [k, prev] of old) {
      if (!fresh.has(k)) this.emit('delete', prev);
    }
    for (const [k, obj] of fresh) {
      const prev = old.get(k);
      if (!prev) this.emit('add', obj);
      else if (prev.metadata?.resourceVersion !== obj.metadata?.resourceVersion)
        this.emit('update', obj, prev);
    }
    if (!this.synced) {
      this.synced = true;
      this.log.debug('synced', { objects: fresh.size, resourceVersion: rv });
      this.emit('synced');
      const waiters = this.syncWaiters;
      this.syncWaiters = [];
      for (const w of waiters) w.resolve();
    }
  }

  private watchOnce(): Promise<WatchOutcome> {
    const started = Date.now();
    let events = 0;
    let expired = false;
    let streamError: Error | undefined;
    const base = this.opts.watchTimeoutSeconds ?? INFORMER_WATCH_TIMEOUT_SECONDS;
    const timeoutSeconds = Math.floor(base * (1 + Math.random()));
    const query: Record<string, string | number | boolean> = {
      resourceVersion: this.rv,
      allowWatchBookmarks: true,
      timeoutSeconds,
    };
    if (this.opts.labelSelector) query['labelSelector'] = this.opts.labelSelector;
    if (this.opts.fieldSelector) query['fieldSelector'] = this.opts.fieldSelector;
    const watch = new Watch(this.kc);
    // The client's inactivity timeout (30 s) is a private field; with BOOKMARKs every minute from a
    // real kube-apiserver it would cut healthy watches, so it is raised (typed private, public in JS).
    (watch as unknown as { requestTimeoutMs: number }).requestTimeoutMs =
      this.opts.idleTimeoutMs ?? INFORMER_WATCH_IDLE_TIMEOUT_MS;
    return new Promise<WatchOutcome>((resolve) => {
      let settled = false;
      let ctl: AbortController | undefined;
      const finish = (err: unknown): void => {
        if (settled) return;
        settled = true;
        this.cancelWatch = undefined;
        ctl?.abort();
        const ms = Date.now() - started;
        if (expired) resolve({ kind: 'expired', events, ms });
        else if (streamError) resolve({ kind: 'error', err: streamError, unreachable: false, events, ms });
        else if (err === null || err === undefined) resolve({ kind: 'clean', events, ms });
        else if (err instanceof Error && err.name === 'TimeoutError') resolve({ kind: 'clean', events, ms });
        else {
          const e = err as { statusCode?: number; message?: string };
          if (typeof e.statusCode === 'number') this.reachable();
          const wrapped =
            typeof e.statusCode === 'number'
              ? new KubeApiError(
                  e.statusCode,
                  String(e.message ?? ''),
                  `watch ${this.path}: ${e.statusCode} ${e.message ?? ''}`,
                )
              : new Error(`watch ${this.path}: ${describeRequestError(err)}`);
          resolve({ kind: 'error', err: wrapped, unreachable: isUnreachable(err), events, ms });
        }
      };
      this.cancelWatch = () => finish(null);
      const onEvent = (type: string, obj: unknown): void => {
        if (settled) return;
        events++;
        const o =
          type === 'ADDED' || type === 'MODIFIED' || type === 'DELETED'
            ? this.transform(obj as T)
            : (obj as T);
        switch (type) {
          case 'ADDED':
          case 'MODIFIED': {
            const k = keyOf(o);
            const prev = this.cache.get(k);
            this.cache.set(k, o);
            if (!prev) this.emit('add', o);
            else if (prev.metadata?.resourceVersion !== o.metadata?.resourceVersion)
              this.emit('update', o, prev);
            break;
          }
          case 'DELETED': {
            const k = keyOf(o);
            if (this.cache.delete(k)) this.emit('delete', o);
            break;
          }
          case 'BOOKMARK':
            break;
          case 'ERROR': {
            const st = obj as { code?: number; message?: string; reason?: string };
            if (st.code === 410) expired = true;
            else {
              streamError = new KubeApiError(
                st.code ?? 500,
                st.reason ?? 'Unknown',
                `watch ${this.path}: ERROR ${st.code ?? ''} ${st.message ?? ''}`,
              );
            }
            finish(null);
            return;
          }
          default:
            return;
        }
        const rv = o.metadata?.resourceVersion;
        if (rv) this.rv = rv;
      };
      watch.watch(this.path, query, onEvent, finish).then(
        (c) => {
          ctl = c;
          if (settled || this.stopped) {
            c.abort();
            finish(null);
            return;
          }
          // HTTP 200: the stream is open and the cache is current as of this.rv.
          this.watching = true;
          this.outOfSyncSince = undefined;
          this.reachable();
        },
        (err: unknown) => finish(err ?? new Error('watch failed')),
      );
    });
  }

  private emit(event: 'add' | 'delete', obj: T): void;
  private emit(event: 'update', obj: T, old: T): void;
  private emit(event: 'synced'): void;
  private emit(event: 'error', err: Error): void;
  private emit(event: InformerEvent, a?: T | Error, b?: T): void {
    for (const h of [...this.handlers[event]]) {
      try {
        (h as (x?: T | Error, y?: T) => void)(a, b);
      } catch (e) {
        this.log.error('informer handler threw', { event, error: errorMessage(e) });
      }
    }
  }
}
