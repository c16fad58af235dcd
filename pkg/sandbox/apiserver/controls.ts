/**
 * The test controls of the sandbox API server, the only surface tests touch besides the Kubernetes
 * API itself: open watches (count, drop, expire with an in-stream 410, end cleanly), history
 * compaction, and failures armed for the next matching requests. In-process tests call these
 * methods; out-of-process tests use the same actions over HTTP (GET/POST /fsm-sandbox/faults).
 */
import type { Store } from './store.js';
import type { WatchConnection } from './watch.js';
import { Faults, type FaultVerb } from './faults.js';
import { badRequest, gone, statusFor } from './status.js';
import { isObj } from './objects.js';

export const FAULTS_PATH = '/fsm-sandbox/faults';

const FAULT_VERBS: readonly FaultVerb[] = ['list', 'watch', 'get', 'create', 'update', 'patch', 'delete'];

type O = Record<string, unknown>;

export class Controls {
  readonly faults = new Faults();
  private readonly watches = new Set<WatchConnection>();

  constructor(private readonly store: Store) {}

  // ---- watches ----

  /** Tracks an open watch until it closes (call untrack from its close callback). */
  track(w: WatchConnection): void {
    this.watches.add(w);
  }

  untrack(w: WatchConnection): void {
    this.watches.delete(w);
  }

  /** Open watches (all, or of one store key such as `pods`). */
  watchCount(resource?: string): number {
    return this.select(resource).length;
  }

  /** Destroys the sockets of open watches: clients see a broken stream. */
  dropWatches(resource?: string): number {
    return this.each(resource, (w) => w.drop());
  }

  /** Sends an in-stream ERROR 410 Expired to open watches and ends them; history is compacted. */
  expireWatches(resource?: string): number {
    const rv = this.store.compact();
    return this.each(resource, (w) => w.sendError(gone(`too old resource version: ${rv}`)));
  }

  /** Ends open watches cleanly, as a server-side timeout would. */
  endWatches(resource?: string): number {
    return this.each(resource, (w) => w.end());
  }

  /** Silently compacts history: resumes from older versions get 410. */
  compact(): number {
    return this.store.compact();
  }

  // ---- armed failures ----

  /** The next `count` matching requests fail with `code` (500 on list, 403 on watch, ...). */
  failNext(f: { verb: FaultVerb; resource?: string; code: number; message?: string; count?: number }): void {
    this.faults.fail(f);
  }

  /** Throws the Status of an armed failure matching this request, consuming it. */
  check(verb: FaultVerb, resource: string): void {
    const f = this.faults.take(verb, resource);
    if (f) throw statusFor(f.code, f.message ?? `injected fault: ${verb} ${resource} → ${f.code}`);
  }

  // ---- the HTTP form ----

  /** GET /fsm-sandbox/faults: what is armed and how many watches are open. */
  state(): O {
    return { pending: this.faults.pending(), watches: this.watchCount() };
  }

  /**
   * POST /fsm-sandbox/faults with {"action": ..., "resource"?: key}: runs the action and returns the
   * answer body. Throws a 400 StatusError naming the bad field for a body it cannot act on.
   */
  act(body: unknown): O {
    if (!isObj(body) || typeof body['action'] !== 'string') {
      throw badRequest(
        'the body must be {"action": "dropWatches|expireWatches|endWatches|compact|fail|clear", ...}',
      );
    }
    const resource = typeof body['resource'] === 'string' ? body['resource'] : undefined;
    switch (body['action']) {
      case 'dropWatches':
        return { affected: this.dropWatches(resource) };
      case 'expireWatches':
        return { affected: this.expireWatches(resource) };
      case 'endWatches':
        return { affected: this.endWatches(resource) };
      case 'compact':
        return { resourceVersion: String(this.compact()) };
      case 'clear':
        this.faults.clear();
        return {};
      case 'fail': {
        const verb = body['verb'];
        const code = body['code'];
        if (typeof verb !== 'string' || !FAULT_VERBS.includes(verb as FaultVerb)) {
          throw badRequest(
            `fail: verb must be one of ${FAULT_VERBS.join(', ')}; got ${JSON.stringify(verb)}`,
          );
        }
        if (typeof code !== 'number' || code < 400 || code > 599) {
          throw badRequest(`fail: code must be an HTTP error code (400-599); got ${JSON.stringify(code)}`);
        }
        const count = typeof body['count'] === 'number' ? body['count'] : 1;
        this.failNext({ verb: verb as FaultVerb, resource, code, count });
        return {};
      }
      default:
        throw badRequest(`unknown fault action: ${JSON.stringify(body['action'])}`);
    }
  }

  /** Ends every open watch (server stop). */
  endAll(): void {
    for (const w of [...this.watches]) w.end();
  }

  private select(resource: string | undefined): WatchConnection[] {
    return [...this.watches].filter((w) => resource === undefined || w.resource === resource);
  }

  private each(resource: string | undefined, fn: (w: WatchConnection) => void): number {
    const ws = this.select(resource);
    for (const w of ws) fn(w);
    return ws.length;
  }
}
