/**
 * The RFC 6902 patch of an admission, from the pod as received to the pod the injector wants, built
 * from what the injector changed instead of by fast-json-patch's full compare.
 *
 * The desired pod is built by structural sharing: whatever the injector leaves alone is the very same
 * object as in the received pod (spreads and `[...list, added]` keep references). So:
 * - a subtree whose reference did not change is skipped without a look inside (compare walks the whole
 *   pod);
 * - a value the injector added (a container, the volume, the record annotation) goes into the patch as
 *   the object the injector built — compare deep-copies each (its largest cost: the sidecar alone is
 *   ~3 KB of JSON), and the copy is never needed since the patch is serialised at once and nothing
 *   mutates it;
 * - only the objects on the path to a change are walked, key by key, so a rewritten probe gives the
 *   same fine-grained operations compare gives (`replace …/httpGet/port`, `add …/httpGet/path`,
 *   `remove …/tcpSocket`).
 * The result applied to the received pod equals the desired pod (as JSON), exactly as compare's does:
 * the property test (test/unit/injector/patch.test.ts) checks both over generated pods.
 *
 * Semantics follow JSON: a key whose value is `undefined` is absent. Arrays that only grew get `add`
 * operations at their new indexes (in order), arrays that shrank lose their tail (last index first);
 * elements at common indexes are diffed like object members. A value whose kind changes (object,
 * array, primitive) is replaced. Pure; never mutates either input.
 */
import type { Operation } from 'fast-json-patch';

type Json = Record<string, unknown>;

function isPlainObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** One JSON pointer segment (RFC 6901): `~` → `~0`, `/` → `~1`. */
export function escapePointerSegment(key: string): string {
  if (!NEEDS_ESCAPE.test(key)) return key;
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

const NEEDS_ESCAPE = /[~/]/;

/** Ops turning `from` into `to`, appended to `out`; both present (not undefined) at `path`. */
function diffValue(from: unknown, to: unknown, path: string, out: Operation[]): void {
  if (from === to) return;
  if (Array.isArray(from) && Array.isArray(to)) {
    diffArray(from, to, path, out);
  } else if (isPlainObject(from) && isPlainObject(to)) {
    diffObject(from, to, path, out);
  } else if (
    typeof from !== 'object' ||
    typeof to !== 'object' ||
    from === null ||
    to === null ||
    Array.isArray(from) !== Array.isArray(to)
  ) {
    // Primitives that differ, or a change of kind. (Equal primitives returned above.)
    out.push({ op: 'replace', path, value: to });
  }
}

function diffArray(from: unknown[], to: unknown[], path: string, out: Operation[]): void {
  const common = Math.min(from.length, to.length);
  for (let i = 0; i < common; i++) diffMember(from[i], to[i], `${path}/${i}`, out);
  for (let i = from.length - 1; i >= to.length; i--) out.push({ op: 'remove', path: `${path}/${i}` });
  for (let i = from.length; i < to.length; i++) {
    // JSON has no undefined array element: it serialises as null.
    out.push({ op: 'add', path: `${path}/${i}`, value: to[i] === undefined ? null : to[i] });
  }
}

function diffObject(from: Json, to: Json, path: string, out: Operation[]): void {
  for (const key of Object.keys(from)) {
    if (from[key] === undefined) continue;
    if (to[key] === undefined || !Object.hasOwn(to, key)) {
      out.push({ op: 'remove', path: `${path}/${escapePointerSegment(key)}` });
    }
  }
  for (const key of Object.keys(to)) {
    const next = to[key];
    if (next === undefined) continue;
    const prev = from[key] === undefined || !Object.hasOwn(from, key) ? undefined : from[key];
    const at = `${path}/${escapePointerSegment(key)}`;
    if (prev === undefined) out.push({ op: 'add', path: at, value: next });
    else diffValue(prev, next, at, out);
  }
}

/** An array element at a common index: undefined is null in JSON. */
function diffMember(from: unknown, to: unknown, path: string, out: Operation[]): void {
  diffValue(from === undefined ? null : from, to === undefined ? null : to, path, out);
}

/**
 * The patch from `received` to `desired`, where `desired` shares every unchanged subtree with
 * `received` by reference (it is still correct when it does not: unshared subtrees are compared).
 */
export function sharedPatch(received: object, desired: object): Operation[] {
  const out: Operation[] = [];
  diffValue(received, desired, '', out);
  return out;
}
