/**
 * How a log line is assembled and rendered, shared by the winston logger and the lean one so their
 * lines cannot drift apart: the fields and their precedence are winston's (a call's own fields over
 * the logger's defaultMeta over child fields, the innermost child first), the JSON rendering is
 * logform's json() (safe-stable-stringify: sorted keys, bigint as a string, "[Circular]"), and the
 * readable one is fsm's single line.
 */
import { createRequire } from 'node:module';
import type { configure } from 'safe-stable-stringify';
import type { LogLevel } from '../constants/index.js';

/** Lower number = more severe, as winston expects. */
export const LEVELS: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3, trace: 4 };

// Required, not imported: an ESM import of this CommonJS package has Node scan its source for
// export names (cjs-module-lexer), which left fsm-healthcheck 10 MiB larger (Node 22.23: a node:http
// server with the package imported 56.4 MiB, required 47.1 MiB).
const safeStringify = createRequire(import.meta.url)('safe-stable-stringify') as {
  configure: typeof configure;
};
/** logform json()'s stringify: keys sorted. */
const stringify = safeStringify.configure({});
/** A readable field's value: JSON.stringify's key order, but a bigint or a cycle does not throw. */
const stringifyInOrder = safeStringify.configure({ deterministic: false });

/** logform's json() replacer: a bigint keeps its digits as a string. */
function replacer(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}

/** One JSON line (without its newline), as winston's json format renders `info`. */
export function jsonLine(info: Record<string, unknown>): string {
  return stringify(info, replacer) ?? '{}';
}

/** The readable single line: `<timestamp> LEVEL [component] message k=v ...`. */
export function readableLine(info: Record<string | symbol, unknown>): string {
  const { level, message, timestamp, component, ...rest } = info;
  const fields = Object.entries(rest)
    .filter(([k]) => typeof k === 'string')
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : stringifyInOrder(v, replacer)}`)
    .join(' ');
  const comp = component ? `[${String(component)}] ` : '';
  return `${String(timestamp)} ${String(level).toUpperCase().padEnd(5)} ${comp}${String(message)}${fields ? ' ' + fields : ''}`;
}

/**
 * The fields of one line, as winston assembles them for `log(level, message, meta)` on a logger
 * made by `child(c1).child(c2)...` of a root with `defaultMeta`: children from the outermost,
 * each overridden by the next, then defaultMeta, the call's fields, level and message; a `message`
 * field is appended to the message; a timestamp is added unless the call gave one.
 */
export function assembleInfo(
  children: readonly Record<string, unknown>[],
  defaultMeta: Record<string, unknown> | undefined,
  level: LogLevel,
  message: string,
  meta: Record<string, unknown> | undefined,
  now: () => Date = () => new Date(),
): Record<string, unknown> {
  let info: Record<string, unknown> = Object.assign({}, defaultMeta, meta, { level, message });
  if (meta?.['message']) info['message'] = `${message} ${String(meta['message'])}`;
  for (let i = children.length - 1; i >= 0; i--) info = Object.assign({}, children[i], info);
  if (!info['timestamp']) info['timestamp'] = now().toISOString();
  return info;
}
