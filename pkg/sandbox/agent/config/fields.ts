/**
 * Readers of decoded xDS messages shared by the resource parsers. Inputs are plain objects as
 * decodeMessage() returns them (proto field names, enums as names, 64-bit numbers as strings,
 * google.protobuf.Any as `{ type_url, value }`, default values left out).
 *
 * A reader never throws: what it cannot accept is reported to the collector with the field path
 * and the value, and it returns a fallback (or undefined when there is nothing sensible to go on
 * with), so the parser keeps going and finds the other problems too.
 */
import net from 'node:net';
import { decodeMessage } from '../../../envoy/index.js';
import type { Endpoint } from '../model.js';
import type { Problems } from './problems.js';

export type Obj = Record<string, unknown>;

/** A value as it appears in a message: JSON, bytes by their length. */
export function show(v: unknown): string {
  if (v instanceof Uint8Array) return `${v.byteLength} bytes`;
  return JSON.stringify(v) ?? String(v);
}

export function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}

function absent(v: unknown): v is undefined | null {
  return v === undefined || v === null;
}

/** A message field that must be set. */
export function obj(p: Problems, v: unknown, path: string): Obj | undefined {
  if (isObj(v)) return v;
  return p.add(path, `expected an object, got ${show(v)}`);
}

/** A message field that may be absent (undefined, silently). */
export function optObj(p: Problems, v: unknown, path: string): Obj | undefined {
  return absent(v) ? undefined : obj(p, v, path);
}

/** A repeated field: absent is empty; undefined when it is not a list (reported). */
export function list(p: Problems, v: unknown, path: string): unknown[] | undefined {
  if (absent(v)) return [];
  if (Array.isArray(v)) return v;
  return p.add(path, `expected a list, got ${show(v)}`);
}

/** A string field; absent gives the fallback, or is a problem when there is none. */
export function str(p: Problems, v: unknown, path: string, fallback: string): string;
export function str(p: Problems, v: unknown, path: string): string | undefined;
export function str(p: Problems, v: unknown, path: string, fallback?: string): string | undefined {
  if (absent(v) && fallback !== undefined) return fallback;
  if (typeof v === 'string') return v;
  p.add(path, `expected a string, got ${show(v)}`);
  return fallback;
}

export function bool(v: unknown, fallback: boolean): boolean {
  return typeof v === 'boolean' ? v : fallback;
}

/** google.protobuf.BoolValue `{ value }` (absent: fallback). */
export function boolValue(v: unknown, fallback: boolean): boolean {
  return isObj(v) ? bool(v.value, false) : fallback;
}

/** google.protobuf.Duration → milliseconds (fallback when absent or invalid). */
export function durationMs(p: Problems, v: unknown, path: string, fallback: number): number {
  if (absent(v)) return fallback;
  const d = obj(p, v, path);
  if (!d) return fallback;
  const seconds = Number(d.seconds ?? 0);
  const nanos = Number(d.nanos ?? 0);
  if (!Number.isFinite(seconds) || !Number.isFinite(nanos) || seconds < 0 || nanos < 0) {
    p.add(path, `invalid duration ${show(v)}`);
    return fallback;
  }
  return seconds * 1000 + Math.floor(nanos / 1e6);
}

/**
 * Reports every one of `fields` set on a message that the agent would otherwise silently ignore.
 * True when one was set.
 */
export function refuse(
  p: Problems,
  o: Obj,
  fields: readonly string[],
  path: string,
  why = 'not supported by the probe agent',
): boolean {
  let refused = false;
  for (const f of fields) {
    const v = o[f];
    if (absent(v)) continue;
    if (Array.isArray(v) && v.length === 0) continue;
    p.add(`${path}.${f}`, `${why} (got ${show(v)})`);
    refused = true;
  }
  return refused;
}

/** envoy.config.core.v3.Address with a TCP socket address; undefined when it is not usable. */
export function socketAddress(
  p: Problems,
  v: unknown,
  path: string,
  allowPortZero: boolean,
): Endpoint | undefined {
  const a = obj(p, v, path);
  if (!a) return undefined;
  if (!isObj(a.socket_address)) {
    const kind = Object.keys(a).find((k) => k !== 'address') ?? 'nothing';
    return p.add(path, `only socket_address is supported, got ${kind}`);
  }
  const before = p.count;
  const sa = a.socket_address;
  const sp = `${path}.socket_address`;
  const protocol = str(p, sa.protocol, `${sp}.protocol`, 'TCP');
  if (protocol !== 'TCP') p.add(`${sp}.protocol`, `only TCP is supported, got ${show(protocol)}`);
  if (!absent(sa.named_port) && sa.named_port !== '') {
    p.add(`${sp}.named_port`, `named ports are not supported, got ${show(sa.named_port)}`);
  }
  if (sa.resolver_name) {
    p.add(`${sp}.resolver_name`, `custom resolvers are not supported, got ${show(sa.resolver_name)}`);
  }
  const host = str(p, sa.address, `${sp}.address`, '');
  if (net.isIP(host) === 0) p.add(`${sp}.address`, `not an IP address: ${show(host)}`);
  const port = Number(sa.port_value ?? 0);
  if (!Number.isInteger(port) || port < (allowPortZero ? 0 : 1) || port > 65535) {
    p.add(`${sp}.port_value`, `invalid port ${show(sa.port_value ?? 0)}`);
  }
  return p.count === before ? { host, port } : undefined;
}

/** The message packed in a google.protobuf.Any; undefined when it cannot be decoded. */
export function unpack(p: Problems, any: Obj, path: string): Obj | undefined {
  const typeUrl = str(p, any.type_url, `${path}.type_url`, '');
  const value = any.value instanceof Uint8Array ? any.value : new Uint8Array(0);
  try {
    return decodeMessage<Obj>(typeUrl, value);
  } catch (err) {
    return p.add(path, `cannot decode ${show(typeUrl)}: ${(err as Error).message}`);
  }
}
