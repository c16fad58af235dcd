/**
 * A checker of protoc-gen-validate rules, the constraints Envoy enforces on every message it loads
 * (`[(validate.rules).string.min_len = 1]`, `[(validate.rules).message.required = true]`, oneofs
 * with `(validate.required)`...). Works on decoded protobufjs messages of a root loaded with the
 * upstream Envoy protos, recursing into google.protobuf.Any through the same root. A rule kind it
 * does not implement throws (naming it and the path) instead of passing silently.
 */
import type { Enum, Field, Message, Root, Type } from 'protobufjs';

type Rules = Record<string, any>;

function rulesOf(field: Field): Rules | undefined {
  const parsed = (field as unknown as { parsedOptions?: Record<string, unknown>[] | null }).parsedOptions;
  let out: Rules | undefined;
  for (const o of parsed ?? []) {
    const r = o['(validate.rules)'];
    if (r && typeof r === 'object') out = { ...(out ?? {}), ...(r as Rules) };
  }
  return out;
}

function num(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string') return Number(v);
  if (v && typeof (v as { toNumber?: () => number }).toNumber === 'function')
    return (v as { toNumber: () => number }).toNumber();
  return Number(v);
}

function durationNs(v: any): number {
  if (!v) return 0;
  return num(v.seconds ?? 0) * 1e9 + num(v.nanos ?? 0);
}

const HEADER_NAME = /^:?[0-9a-zA-Z!#$%&'*+\-.^_|~`]+$/;
// eslint-disable-next-line no-control-regex -- header values exclude control characters (RFC 9110)
const HEADER_VALUE = /^[^\u0000-\u0008\u000A-\u001F\u007F]*$/;
// eslint-disable-next-line no-control-regex -- the non-strict header check refuses NUL, CR and LF only
const LOOSE = /^[^\u0000\u000A\u000D]*$/;

export class PgvViolation extends Error {}

export interface PgvChecker {
  /** Throws PgvViolation naming the path and rule of the first violation. */
  check(typeName: string, message: Message | Record<string, unknown>): void;
}

export function pgvChecker(root: Root): PgvChecker {
  const fail = (path: string, msg: string): never => {
    throw new PgvViolation(`${path}: ${msg}`);
  };

  function numeric(path: string, r: Rules, v: number): void {
    for (const [k, x] of Object.entries(r)) {
      const b = num(x);
      if (k === 'gt' && !(v > b)) fail(path, `${v} must be > ${b}`);
      else if (k === 'gte' && !(v >= b)) fail(path, `${v} must be >= ${b}`);
      else if (k === 'lt' && !(v < b)) fail(path, `${v} must be < ${b}`);
      else if (k === 'lte' && !(v <= b)) fail(path, `${v} must be <= ${b}`);
      else if (k === 'const' && v !== b) fail(path, `${v} must be ${b}`);
      else if (k === 'in' && !(x as unknown[]).map(num).includes(v))
        fail(path, `${v} not in ${JSON.stringify(x)}`);
      else if (k === 'not_in' && (x as unknown[]).map(num).includes(v))
        fail(path, `${v} in ${JSON.stringify(x)}`);
      else if (!['gt', 'gte', 'lt', 'lte', 'const', 'in', 'not_in', 'ignore_empty'].includes(k))
        fail(path, `unsupported numeric rule ${k}`);
    }
  }

  function stringRules(path: string, r: Rules, v: string): void {
    if (r.ignore_empty && v === '') return;
    const len = [...v].length;
    const bytes = Buffer.byteLength(v);
    for (const [k, x] of Object.entries(r)) {
      switch (k) {
        case 'min_len':
          if (len < num(x)) fail(path, `length ${len} < min_len ${x}`);
          break;
        case 'max_len':
          if (len > num(x)) fail(path, `length ${len} > max_len ${x}`);
          break;
        case 'len':
          if (len !== num(x)) fail(path, `length ${len} != len ${x}`);
          break;
        case 'min_bytes':
          if (bytes < num(x)) fail(path, `${bytes} bytes < min_bytes ${x}`);
          break;
        case 'max_bytes':
          if (bytes > num(x)) fail(path, `${bytes} bytes > max_bytes ${x}`);
          break;
        case 'pattern':
          if (!new RegExp(String(x), 'u').test(v)) fail(path, `${JSON.stringify(v)} does not match ${x}`);
          break;
        case 'prefix':
          if (!v.startsWith(String(x))) fail(path, `must start with ${x}`);
          break;
        case 'suffix':
          if (!v.endsWith(String(x))) fail(path, `must end with ${x}`);
          break;
        case 'contains':
          if (!v.includes(String(x))) fail(path, `must contain ${x}`);
          break;
        case 'const':
          if (v !== x) fail(path, `must be ${JSON.stringify(x)}`);
          break;
        case 'in':
          if (!(x as string[]).includes(v)) fail(path, `${JSON.stringify(v)} not in ${JSON.stringify(x)}`);
          break;
        case 'not_in':
          if ((x as string[]).includes(v)) fail(path, `${JSON.stringify(v)} is excluded`);
          break;
        case 'well_known_regex': {
          const strict = r.strict !== false;
          const re = !strict
            ? LOOSE
            : x === 'HTTP_HEADER_NAME'
              ? HEADER_NAME
              : x === 'HTTP_HEADER_VALUE'
                ? HEADER_VALUE
                : undefined;
          if (!re) fail(path, `unsupported well_known_regex ${x}`);
          if (v !== '' && !re!.test(v)) fail(path, `${JSON.stringify(v)} is not a valid ${x}`);
          break;
        }
        case 'strict':
        case 'ignore_empty':
          break;
        default:
          fail(path, `unsupported string rule ${k}`);
      }
    }
  }

  function scalarRules(path: string, field: Field, r: Rules, v: unknown): void {
    for (const [kind, sub] of Object.entries(r)) {
      switch (kind) {
        case 'string':
          stringRules(path, sub, String(v ?? ''));
          break;
        case 'bytes': {
          const n = (v as Uint8Array | undefined)?.length ?? 0;
          for (const [k, x] of Object.entries(sub as Rules)) {
            if (k === 'min_len' && n < num(x)) fail(path, `${n} bytes < min_len ${x}`);
            else if (k === 'max_len' && n > num(x)) fail(path, `${n} bytes > max_len ${x}`);
            else if (!['min_len', 'max_len', 'ignore_empty'].includes(k))
              fail(path, `unsupported bytes rule ${k}`);
          }
          break;
        }
        case 'bool':
          if ((sub as Rules).const !== undefined && Boolean(v) !== (sub as Rules).const)
            fail(path, `must be ${(sub as Rules).const}`);
          break;
        case 'double':
        case 'float':
        case 'int32':
        case 'int64':
        case 'uint32':
        case 'uint64':
        case 'sint32':
        case 'sint64':
        case 'fixed32':
        case 'fixed64':
        case 'sfixed32':
        case 'sfixed64':
          numeric(path, sub, num(v ?? 0));
          break;
        case 'enum': {
          const values = Object.values((field.resolvedType as Enum).values);
          const n = num(v ?? 0);
          for (const [k, x] of Object.entries(sub as Rules)) {
            if (k === 'defined_only') {
              if (x && !values.includes(n)) fail(path, `${n} is not a defined ${field.resolvedType!.name}`);
            } else if (k === 'not_in') {
              if ([x].flat().map(num).includes(n)) fail(path, `${n} is excluded`);
            } else if (k === 'in') {
              if (![x].flat().map(num).includes(n)) fail(path, `${n} not allowed`);
            } else if (k === 'const') {
              if (n !== num(x)) fail(path, `must be ${x}`);
            } else fail(path, `unsupported enum rule ${k}`);
          }
          break;
        }
        case 'message':
        case 'duration':
        case 'any':
        case 'repeated':
        case 'map':
        case 'timestamp':
          break; // handled by the caller
        default:
          fail(path, `unsupported rule kind ${kind}`);
      }
    }
  }

  function checkMessage(type: Type, msg: any, path: string): void {
    if (type.fullName === '.google.protobuf.Any') {
      const url = String(msg.type_url ?? '');
      const inner = root.lookupType(url.slice(url.lastIndexOf('/') + 1));
      checkMessage(inner, inner.decode(msg.value ?? new Uint8Array()), `${path}<${inner.name}>`);
      return;
    }
    for (const oneof of type.oneofsArray) {
      const required = (oneof.options ?? {})['(validate.required)'];
      const set = oneof.fieldsArray.filter(
        (f) => Object.prototype.hasOwnProperty.call(msg, f.name) && msg[f.name] !== null,
      );
      if (required && set.length === 0) fail(`${path}`, `one of ${oneof.oneof.join(', ')} is required`);
    }
    for (const field of type.fieldsArray) {
      const p = `${path}.${field.name}`;
      const r = rulesOf(field) ?? {};
      const present = Object.prototype.hasOwnProperty.call(msg, field.name) && msg[field.name] !== null;
      const v = msg[field.name];
      const isMessage = field.resolvedType !== null && (field.resolvedType as Type).fields !== undefined;
      if (r.message?.skip) continue;
      if (field.map) {
        const entries = Object.entries((v ?? {}) as Record<string, unknown>);
        for (const [k, x] of Object.entries((r.map ?? {}) as Rules)) {
          if (k === 'min_pairs' && entries.length < num(x)) fail(p, `${entries.length} pairs < ${x}`);
          else if (k === 'max_pairs' && entries.length > num(x)) fail(p, `${entries.length} pairs > ${x}`);
          else if (k === 'keys') for (const [key] of entries) scalarRules(`${p}[${key}]`, field, x, key);
          else if (k === 'values' && !isMessage)
            for (const [key, val] of entries) scalarRules(`${p}[${key}]`, field, x, val);
          else if (!['min_pairs', 'max_pairs', 'keys', 'values', 'no_sparse'].includes(k))
            fail(p, `unsupported map rule ${k}`);
        }
        if (isMessage)
          for (const [key, val] of entries) checkMessage(field.resolvedType as Type, val, `${p}[${key}]`);
        continue;
      }
      if (field.repeated) {
        const items = (v ?? []) as unknown[];
        const rr = (r.repeated ?? {}) as Rules;
        for (const [k, x] of Object.entries(rr)) {
          if (k === 'min_items' && items.length < num(x)) fail(p, `${items.length} items < min_items ${x}`);
          else if (k === 'max_items' && items.length > num(x))
            fail(p, `${items.length} items > max_items ${x}`);
          else if (k === 'unique' && x && new Set(items.map((i) => JSON.stringify(i))).size !== items.length)
            fail(p, 'items must be unique');
          else if (!['min_items', 'max_items', 'unique', 'items', 'ignore_empty'].includes(k))
            fail(p, `unsupported repeated rule ${k}`);
        }
        items.forEach((item, i) => {
          if (rr.items) {
            if (isMessage) messageRules(`${p}[${i}]`, field, rr.items, true, item);
            else scalarRules(`${p}[${i}]`, field, rr.items, item);
          }
          if (isMessage) checkMessage(field.resolvedType as Type, item, `${p}[${i}]`);
        });
        continue;
      }
      if (isMessage) {
        // An unset member of a oneof is not validated (PGV): its rules apply only when it is the one set.
        if (field.partOf && !present) continue;
        messageRules(p, field, r, present, v);
        if (present) checkMessage(field.resolvedType as Type, v, p);
        continue;
      }
      // Scalars: PGV checks the value, default included, unless it is an unset oneof member.
      if (field.partOf && !present) continue;
      scalarRules(p, field, r, v);
    }
  }

  function messageRules(path: string, _field: Field, r: Rules, present: boolean, v: any): void {
    if (
      (r.message?.required || r.duration?.required || r.any?.required || r.timestamp?.required) &&
      !present
    ) {
      fail(path, 'is required');
    }
    if (!present) return;
    if (r.duration) {
      const ns = durationNs(v);
      for (const [k, x] of Object.entries(r.duration as Rules)) {
        const b = durationNs(x);
        if (k === 'gt' && !(ns > b)) fail(path, `duration must be > ${b} ns`);
        else if (k === 'gte' && !(ns >= b)) fail(path, `duration must be >= ${b} ns`);
        else if (k === 'lt' && !(ns < b)) fail(path, `duration must be < ${b} ns`);
        else if (k === 'lte' && !(ns <= b)) fail(path, `duration must be <= ${b} ns`);
        else if (!['gt', 'gte', 'lt', 'lte', 'required'].includes(k))
          fail(path, `unsupported duration rule ${k}`);
      }
    }
    if (r.any?.in && !(r.any.in as string[]).includes(v.type_url))
      fail(path, `type ${v.type_url} not allowed`);
    for (const k of Object.keys(r)) {
      if (!['message', 'duration', 'any', 'timestamp'].includes(k))
        fail(path, `unsupported rule kind ${k} on a message field`);
    }
  }

  return {
    check(typeName, message) {
      const type = root.lookupType(typeName.slice(typeName.lastIndexOf('/') + 1));
      const msg =
        typeof (message as Message).$type === 'object'
          ? message
          : type.fromObject(message as Record<string, unknown>);
      checkMessage(type, msg, type.name);
    },
  };
}
