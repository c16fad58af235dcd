/**
 * Turns the headers of a rewritten probe request into a check to run, or into the 400/403 a caller
 * gets for a bad request. Pure: no I/O. The rules keep fsm-healthcheck from dialling anything but
 * the configured target host on a port the pod's probes named.
 */
import {
  ORIGINAL_GRPC_PORT_HEADER,
  ORIGINAL_GRPC_SERVICE_HEADER,
  ORIGINAL_TCP_PORT_HEADER,
} from '../constants/index.js';

export type CheckRequest = { kind: 'tcp'; port: number } | { kind: 'grpc'; port: number; service: string };

export type ParseResult =
  { ok: true; check: CheckRequest } | { ok: false; status: 400 | 403; message: string };

/** Header values as node's `req.headersDistinct` gives them: one entry per occurrence. */
export type DistinctHeaders = Record<string, string[] | undefined>;

const PORT = /^[1-9][0-9]{0,4}$/;
/** gRPC service names: fully-qualified proto names (letters, digits, '_', '.'), bounded length. */
const GRPC_SERVICE = /^[A-Za-z0-9_.]{0,256}$/;

function single(headers: DistinctHeaders, name: string): { value?: string; error?: string } {
  const values = headers[name.toLowerCase()];
  if (values === undefined || values.length === 0) return {};
  if (values.length > 1) return { error: `header ${name} must appear once, got ${values.length} values` };
  return { value: values[0] };
}

/** A port header value: decimal 1-65535, nothing else (no sign, hex, host, spaces or leading zero). */
export function parsePortValue(name: string, value: string): { port: number } | { error: string } {
  if (value === '') return { error: `header ${name} is empty; want a port number 1-65535` };
  if (!PORT.test(value) || Number(value) > 65535) {
    return { error: `header ${name} value ${JSON.stringify(value)} is not a port number 1-65535` };
  }
  return { port: Number(value) };
}

/** The ports a check may dial: a list, or 'any' (fsm-healthcheck's explicit --allow-any-port). */
export type AllowedPorts = ReadonlySet<number> | 'any';

/**
 * Reads Original-Tcp-Port, or Original-Grpc-Port (+ optional Original-Grpc-Service), and applies the
 * allow-list (an empty list allows no port: "any" has to be said).
 */
export function parseCheckRequest(headers: DistinctHeaders, allowedPorts: AllowedPorts): ParseResult {
  const tcp = single(headers, ORIGINAL_TCP_PORT_HEADER);
  const grpc = single(headers, ORIGINAL_GRPC_PORT_HEADER);
  const bad = (message: string): ParseResult => ({ ok: false, status: 400, message });
  if (tcp.error) return bad(tcp.error);
  if (grpc.error) return bad(grpc.error);
  if (tcp.value !== undefined && grpc.value !== undefined) {
    return bad(`headers ${ORIGINAL_TCP_PORT_HEADER} and ${ORIGINAL_GRPC_PORT_HEADER} are mutually exclusive`);
  }
  if (tcp.value === undefined && grpc.value === undefined) {
    return bad(
      `missing header ${ORIGINAL_TCP_PORT_HEADER} (or ${ORIGINAL_GRPC_PORT_HEADER} for a gRPC check)`,
    );
  }
  const isGrpc = grpc.value !== undefined;
  const name = isGrpc ? ORIGINAL_GRPC_PORT_HEADER : ORIGINAL_TCP_PORT_HEADER;
  const parsed = parsePortValue(name, (isGrpc ? grpc.value : tcp.value)!);
  if ('error' in parsed) return bad(parsed.error);
  if (allowedPorts !== 'any' && !allowedPorts.has(parsed.port)) {
    return { ok: false, status: 403, message: `port ${parsed.port} is not in the allowed probe ports` };
  }
  if (!isGrpc) {
    const svc = single(headers, ORIGINAL_GRPC_SERVICE_HEADER);
    if (svc.value !== undefined || svc.error) {
      return bad(`header ${ORIGINAL_GRPC_SERVICE_HEADER} only applies with ${ORIGINAL_GRPC_PORT_HEADER}`);
    }
    return { ok: true, check: { kind: 'tcp', port: parsed.port } };
  }
  const svc = single(headers, ORIGINAL_GRPC_SERVICE_HEADER);
  if (svc.error) return bad(svc.error);
  const service = svc.value ?? '';
  if (!GRPC_SERVICE.test(service)) {
    return bad(
      `header ${ORIGINAL_GRPC_SERVICE_HEADER} value ${JSON.stringify(service)} is not a gRPC service name`,
    );
  }
  return { ok: true, check: { kind: 'grpc', port: parsed.port, service } };
}
