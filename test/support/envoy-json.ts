/**
 * Envoy reads its bootstrap as proto3 JSON (durations as "1s", Any as `{ "@type": ... }`); the
 * protobufjs object form wants durations as `{ seconds, nanos }`. This turns the first into the
 * second, walking the message type, so a bootstrap can be encoded and checked like any resource.
 * Unknown fields are left in place (the strict encoder then names them).
 */
import type { Root, Type } from 'protobufjs';

function duration(v: string, path: string): { seconds: number; nanos: number } {
  const m = /^(-?\d+)(?:\.(\d{1,9}))?s$/.exec(v);
  if (!m) throw new Error(`${path}: ${JSON.stringify(v)} is not a proto3 JSON duration`);
  return { seconds: Number(m[1]), nanos: Number((m[2] ?? '').padEnd(9, '0')) };
}

/** protobufjs' bundled struct.proto has camelCase field names. */
function structValue(v: unknown): any {
  if (v === null) return { nullValue: 'NULL_VALUE' };
  if (typeof v === 'number') return { numberValue: v };
  if (typeof v === 'string') return { stringValue: v };
  if (typeof v === 'boolean') return { boolValue: v };
  if (Array.isArray(v)) return { listValue: { values: v.map(structValue) } };
  return { structValue: struct(v as Record<string, unknown>) };
}

function struct(v: Record<string, unknown>): any {
  return { fields: Object.fromEntries(Object.entries(v).map(([k, x]) => [k, structValue(x)])) };
}

export function fromProto3Json(root: Root, type: Type, value: any, path = type.name): any {
  if (type.fullName === '.google.protobuf.Struct') return struct(value as Record<string, unknown>);
  if (type.fullName === '.google.protobuf.Duration')
    return typeof value === 'string' ? duration(value, path) : value;
  if (type.fullName === '.google.protobuf.Any' && value && typeof value === 'object' && '@type' in value) {
    const url = String(value['@type']);
    const inner = root.lookupType(url.slice(url.lastIndexOf('/') + 1));
    const { '@type': t, ...rest } = value;
    return { '@type': t, ...fromProto3Json(root, inner, rest, `${path}<${inner.name}>`) };
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    const f = type.fields[k];
    const t = f?.resolvedType as Type | null | undefined;
    if (!f || !t || (t as Type).fields === undefined) {
      out[k] = v;
    } else if (f.map) {
      out[k] = Object.fromEntries(
        Object.entries(v as object).map(([mk, mv]) => [
          mk,
          fromProto3Json(root, t, mv, `${path}.${k}[${mk}]`),
        ]),
      );
    } else if (f.repeated) {
      out[k] = (v as unknown[]).map((x, i) => fromProto3Json(root, t, x, `${path}.${k}[${i}]`));
    } else {
      out[k] = fromProto3Json(root, t, v, `${path}.${k}`);
    }
  }
  return out;
}
