/**
 * Shape check of an admitted pod, limited to the fields the injector reads. Mutating webhooks run
 * before the API server validates the object, so anything can arrive: a wrong type gives an error
 * naming the field and the value instead of an exception. Fields the injector does not read are not
 * checked (the API server's own validation reports them).
 */
import type { V1Pod } from '@kubernetes/client-node';
import { PROBE_TYPE_INFO, PROBE_TYPES } from '../constants/index.js';

type Json = Record<string, unknown>;

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const SHOW_MAX_CHARS = 60;

/**
 * Appends the JSON text of `v` to `out` (as JSON.stringify writes it) until `out` is longer than
 * `max`, then stops. Every level of nesting writes at least one character before it descends, so
 * the recursion is bounded by `max` however deep `v` is: no stack overflow on hostile input (a
 * JSON array nested 10,000 deep), no quadratic work on a huge one.
 */
function writeJson(v: unknown, out: string[], length: { n: number }, max: number, inArray: boolean): void {
  const put = (s: string): void => {
    out.push(s);
    length.n += s.length;
  };
  if (length.n > max) return;
  if (v === null || typeof v !== 'object') {
    if (typeof v === 'string') put(JSON.stringify(v.length > max ? v.slice(0, max + 1) : v));
    else if (typeof v === 'number' || typeof v === 'boolean') put(JSON.stringify(v));
    else if (typeof v === 'bigint') put(v.toString());
    else if (v === null || inArray) put('null');
    return;
  }
  if (Array.isArray(v)) {
    put('[');
    for (let i = 0; i < v.length && length.n <= max; i++) {
      if (i > 0) put(',');
      writeJson(v[i], out, length, max, true);
    }
    put(']');
    return;
  }
  put('{');
  let first = true;
  for (const [k, x] of Object.entries(v)) {
    if (length.n > max) break;
    if (x === undefined || typeof x === 'function' || typeof x === 'symbol') continue;
    put(`${first ? '' : ','}${JSON.stringify(k.length > max ? k.slice(0, max + 1) : k)}:`);
    first = false;
    writeJson(x, out, length, max, false);
  }
  put('}');
}

/**
 * Short JSON rendering of a bad value for an error message: the start of its JSON text, at most 60
 * characters. Never throws, whatever the value (nesting depth, size, type).
 */
export function showValue(v: unknown): string {
  if (v === undefined || typeof v === 'function' || typeof v === 'symbol') return String(v);
  const out: string[] = [];
  writeJson(v, out, { n: 0 }, SHOW_MAX_CHARS, false);
  const s = out.join('');
  return s.length > SHOW_MAX_CHARS ? `${s.slice(0, SHOW_MAX_CHARS - 3)}...` : s;
}

class ShapeError extends Error {}

function fail(field: string, expected: string, value: unknown): never {
  throw new ShapeError(`${field}: must be ${expected}, got ${showValue(value)}`);
}

function optObject(v: unknown, field: string): Json | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isObject(v)) fail(field, 'an object', v);
  return v;
}

function optArray(v: unknown, field: string): unknown[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) fail(field, 'an array', v);
  return v;
}

function optString(v: unknown, field: string): void {
  if (v !== undefined && v !== null && typeof v !== 'string') fail(field, 'a string', v);
}

function optInt(v: unknown, field: string): void {
  if (v !== undefined && v !== null && !(typeof v === 'number' && Number.isInteger(v))) {
    fail(field, 'an integer', v);
  }
}

function intOrString(v: unknown, field: string): void {
  if (!(typeof v === 'string' || (typeof v === 'number' && Number.isInteger(v)))) {
    fail(field, 'an integer or a port name', v);
  }
}

function stringMap(v: unknown, field: string): void {
  const m = optObject(v, field);
  if (!m) return;
  for (const [k, val] of Object.entries(m)) {
    if (typeof val !== 'string') fail(`${field}[${JSON.stringify(k)}]`, 'a string', val);
  }
}

function checkProbe(v: unknown, field: string): void {
  const probe = optObject(v, field);
  if (!probe) return;
  optInt(probe['timeoutSeconds'], `${field}.timeoutSeconds`);
  const http = optObject(probe['httpGet'], `${field}.httpGet`);
  if (http) {
    intOrString(http['port'], `${field}.httpGet.port`);
    optString(http['path'], `${field}.httpGet.path`);
    optString(http['scheme'], `${field}.httpGet.scheme`);
    optString(http['host'], `${field}.httpGet.host`);
    const headers = optArray(http['httpHeaders'], `${field}.httpGet.httpHeaders`) ?? [];
    headers.forEach((h, i) => {
      const f = `${field}.httpGet.httpHeaders[${i}]`;
      if (!isObject(h)) fail(f, 'an object', h);
      if (typeof h['name'] !== 'string') fail(`${f}.name`, 'a string', h['name']);
      if (typeof h['value'] !== 'string') fail(`${f}.value`, 'a string', h['value']);
    });
  }
  const tcp = optObject(probe['tcpSocket'], `${field}.tcpSocket`);
  if (tcp) {
    intOrString(tcp['port'], `${field}.tcpSocket.port`);
    optString(tcp['host'], `${field}.tcpSocket.host`);
  }
  const grpc = optObject(probe['grpc'], `${field}.grpc`);
  if (grpc) {
    if (!(typeof grpc['port'] === 'number' && Number.isInteger(grpc['port']))) {
      fail(`${field}.grpc.port`, 'an integer', grpc['port']);
    }
    optString(grpc['service'], `${field}.grpc.service`);
  }
  optObject(probe['exec'], `${field}.exec`);
}

function checkContainers(v: unknown, field: string, required: boolean): void {
  const list = optArray(v, field);
  if (!list || (required && list.length === 0)) {
    if (required) fail(field, 'a non-empty array of containers', v);
    return;
  }
  const seen = new Set<string>();
  list.forEach((c, i) => {
    const f = `${field}[${i}]`;
    if (!isObject(c)) fail(f, 'an object', c);
    if (typeof c['name'] !== 'string' || !DNS_LABEL.test(c['name']) || c['name'].length > 63) {
      fail(`${f}.name`, "a DNS-1123 label (lowercase letters, digits and '-', at most 63)", c['name']);
    }
    if (seen.has(c['name'])) fail(`${f}.name`, 'unique among the containers', c['name']);
    seen.add(c['name']);
    const ports = optArray(c['ports'], `${f}.ports`) ?? [];
    ports.forEach((p, j) => {
      const pf = `${f}.ports[${j}]`;
      if (!isObject(p)) fail(pf, 'an object', p);
      optString(p['name'], `${pf}.name`);
      optInt(p['containerPort'], `${pf}.containerPort`);
    });
    for (const type of PROBE_TYPES) {
      const name = PROBE_TYPE_INFO[type].field;
      checkProbe(c[name], `${f}.${name}`);
    }
  });
}

/** Returns the pod typed, or an error message naming the first bad field and its value. */
export function validatePod(obj: unknown): { pod: V1Pod } | { error: string } {
  try {
    if (!isObject(obj)) fail('object', 'a Pod object', obj);
    const meta = optObject(obj['metadata'], 'metadata');
    if (meta) {
      optString(meta['name'], 'metadata.name');
      optString(meta['generateName'], 'metadata.generateName');
      optString(meta['namespace'], 'metadata.namespace');
      stringMap(meta['labels'], 'metadata.labels');
      stringMap(meta['annotations'], 'metadata.annotations');
    }
    const spec = optObject(obj['spec'], 'spec');
    if (!spec) fail('spec', 'an object', obj['spec']);
    checkContainers(spec['containers'], 'spec.containers', true);
    checkContainers(spec['initContainers'], 'spec.initContainers', false);
    if (
      spec['hostNetwork'] !== undefined &&
      spec['hostNetwork'] !== null &&
      typeof spec['hostNetwork'] !== 'boolean'
    ) {
      fail('spec.hostNetwork', 'a boolean', spec['hostNetwork']);
    }
    return { pod: obj as V1Pod };
  } catch (err) {
    if (err instanceof ShapeError) return { error: err.message };
    throw err;
  }
}
