/**
 * The collection reads: list (label and field selectors, limit/continue pagination whose tokens
 * pin the list's resourceVersion and expire with compaction, server-side Tables) and watch (resume
 * from a resourceVersion, BOOKMARKs, sendInitialEvents, timeoutSeconds), over the store.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { KubeObject, Store } from './store.js';
import type { ResourceRoute } from './router.js';
import type { Controls } from './controls.js';
import { apiVersionOf } from './resources.js';
import { badRequest, statusFor } from './status.js';
import { matchesFields, matchesLabels, parseFieldSelector, parseLabelSelector } from './selectors.js';
import { tableVersion, toTable, wantsTable, type IncludeObject } from './table.js';
import { WatchConnection } from './watch.js';
import { listJson } from './encode.js';
import { sendJson, sendJsonText } from './http-io.js';

export interface ListWatchOptions {
  store: Store;
  controls: Controls;
  /** Interval between BOOKMARK events on watches that allow them (default 10 s). */
  bookmarkIntervalMs?: number;
  /** Watch duration when the client sends no timeoutSeconds (default 30 min). */
  defaultWatchTimeoutSeconds?: number;
}

type Target = Pick<ResourceRoute, 'info' | 'key' | 'namespace' | 'name' | 'query'>;

/** The labelSelector and fieldSelector of a query as one predicate. */
export function selectorFilter(q: URLSearchParams): (o: KubeObject) => boolean {
  const ls = q.get('labelSelector');
  const fs = q.get('fieldSelector');
  const labelReqs = ls ? parseLabelSelector(ls) : [];
  const fieldReqs = fs ? parseFieldSelector(fs) : [];
  if (labelReqs.length === 0 && fieldReqs.length === 0) return () => true;
  return (o) =>
    matchesLabels(labelReqs, o.metadata['labels'] as Record<string, string> | undefined) &&
    matchesFields(fieldReqs, o);
}

/** How to print a Table when the client asked for one (`Accept: ...;as=Table`). */
export function tableOptions(
  req: IncomingMessage,
  q: URLSearchParams,
): { include: IncludeObject; version: string } | undefined {
  const accept = req.headers['accept'];
  if (!wantsTable(accept)) return undefined;
  const inc = q.get('includeObject');
  const include: IncludeObject = inc === 'None' || inc === 'Object' ? inc : 'Metadata';
  return { include, version: tableVersion(accept!) };
}

interface ContinueToken {
  rv: number;
  start: string;
}

function decodeContinue(cont: string): ContinueToken {
  let token: { rv?: unknown; start?: unknown };
  try {
    token = JSON.parse(Buffer.from(cont, 'base64url').toString('utf8')) as typeof token;
  } catch {
    throw badRequest(`continue key is not valid: "${cont}"`);
  }
  if (typeof token.rv !== 'number' || typeof token.start !== 'string') {
    throw badRequest(`continue key is not valid: "${cont}"`);
  }
  return { rv: token.rv, start: token.start };
}

export function list(o: ListWatchOptions, r: Target, req: IncomingMessage, res: ServerResponse): void {
  const { store } = o;
  const q = r.query;
  o.controls.check('list', r.key);
  const filter = selectorFilter(q);
  const limitParam = q.get('limit');
  const limit = limitParam ? Number.parseInt(limitParam, 10) : 0;
  if (limitParam && (!Number.isFinite(limit) || limit < 0))
    throw badRequest(`invalid limit: "${limitParam}"`);
  let after: string | undefined;
  let listRv = store.resourceVersion;
  const cont = q.get('continue');
  if (cont) {
    const token = decodeContinue(cont);
    if (token.rv < store.oldestResumable(r.key)) {
      throw statusFor(
        410,
        'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.',
      );
    }
    after = token.start;
    listRv = token.rv;
  }
  const page = store.scan(r.key, { namespace: r.namespace, after, limit, filter });
  const meta: Record<string, unknown> = { resourceVersion: String(listRv) };
  if (page.next !== undefined) {
    const token: ContinueToken = { rv: listRv, start: page.next };
    meta['continue'] = Buffer.from(JSON.stringify(token)).toString('base64url');
    meta['remainingItemCount'] = page.remaining;
  }
  const table = tableOptions(req, q);
  if (table) {
    sendJson(
      res,
      200,
      toTable(r.info, page.items, {
        now: Date.now(),
        include: table.include,
        resourceVersion: String(listRv),
        continue: meta['continue'] as string | undefined,
      }),
    );
    return;
  }
  // Items of a list carry no kind/apiVersion on the wire.
  sendJsonText(res, 200, listJson(`${r.info.kind}List`, apiVersionOf(r.info), meta, page.items));
}

/** Opens a watch; a named route watches that one object (as a metadata.name field selector). */
export function watch(o: ListWatchOptions, r: Target, req: IncomingMessage, res: ServerResponse): void {
  o.controls.check('watch', r.key);
  let q = r.query;
  if (r.name !== undefined) {
    q = new URLSearchParams(q);
    q.set('fieldSelector', [q.get('fieldSelector'), `metadata.name=${r.name}`].filter(Boolean).join(','));
  }
  const matches = selectorFilter(q);
  const rvParam = q.get('resourceVersion') ?? '';
  let fromRv: number | undefined;
  if (rvParam !== '' && rvParam !== '0') {
    fromRv = Number(rvParam);
    if (!Number.isInteger(fromRv) || fromRv < 0) throw badRequest(`invalid resource version: ${rvParam}`);
  }
  const ts = q.get('timeoutSeconds');
  let timeoutMs = (o.defaultWatchTimeoutSeconds ?? 1800) * 1000;
  if (ts) {
    const n = Number(ts);
    if (!Number.isFinite(n) || n < 0) throw badRequest(`invalid timeoutSeconds: "${ts}"`);
    if (n > 0) timeoutMs = n * 1000;
  }
  const w = new WatchConnection(
    {
      info: r.info,
      resourceKey: r.key,
      filter: { namespace: r.namespace, matches },
      fromRv,
      bookmarks: q.get('allowWatchBookmarks') === 'true',
      bookmarkIntervalMs: o.bookmarkIntervalMs ?? 10_000,
      timeoutMs,
      sendInitialEvents: q.get('sendInitialEvents') === 'true',
      table: tableOptions(req, q),
    },
    o.store,
    res,
    (c) => o.controls.untrack(c),
  );
  o.controls.track(w);
  w.start();
}
