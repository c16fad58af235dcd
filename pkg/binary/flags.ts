/**
 * Flag parsers for commander options. Each throws InvalidArgumentError with a reason; commander
 * prefixes it with the flag and the value (`option '--port <port>' argument 'x' is invalid.`),
 * and runBinary exits 2.
 */
import { InvalidArgumentError } from 'commander';

const DECIMAL = /^[0-9]+$/;

function toInt(value: string, what: string): number {
  if (!DECIMAL.test(value)) throw new InvalidArgumentError(`${what} must be a decimal integer.`);
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new InvalidArgumentError(`${what} is too large.`);
  return n;
}

/** A TCP port to listen on: 1-65535, or 0 for "any free port" (tests). */
export function parseListenPort(value: string): number {
  const n = toInt(value, 'port');
  if (n > 65535) throw new InvalidArgumentError('port must be between 0 and 65535.');
  return n;
}

/** A TCP port to connect to: 1-65535. */
export function parseTargetPort(value: string): number {
  const n = toInt(value, 'port');
  if (n < 1 || n > 65535) throw new InvalidArgumentError('port must be between 1 and 65535.');
  return n;
}

/** Comma list of ports (1-65535), e.g. `8080,9090`; duplicates are dropped. Empty → empty list. */
export function parsePortList(value: string): number[] {
  const trimmed = value.trim();
  if (trimmed === '') return [];
  const ports = new Set<number>();
  for (const part of trimmed.split(',')) {
    const p = part.trim();
    if (!DECIMAL.test(p)) throw new InvalidArgumentError(`'${p}' is not a port (decimal 1-65535).`);
    const n = Number(p);
    if (n < 1 || n > 65535) throw new InvalidArgumentError(`port ${p} is outside 1-65535.`);
    ports.add(n);
  }
  return [...ports];
}

const DURATION = /^([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** A duration like `500ms`, `1s`, `1.5s`, `2m`, `1h` → milliseconds (> 0). */
export function parseDuration(value: string): number {
  const m = DURATION.exec(value.trim());
  if (!m) throw new InvalidArgumentError('duration must look like 500ms, 1s, 2m or 1h.');
  const ms = Number(m[1]) * UNIT_MS[m[2]!]!;
  if (!(ms > 0) || !Number.isFinite(ms)) throw new InvalidArgumentError('duration must be greater than 0.');
  return Math.round(ms);
}

/** A positive integer (≥ 1). */
export function parsePositiveInt(value: string): number {
  const n = toInt(value, 'value');
  if (n < 1) throw new InvalidArgumentError('value must be at least 1.');
  return n;
}

/** A Kubernetes DNS-1123 label (namespace, mesh name): lowercase alphanumerics and '-', ≤ 63. */
export function parseDnsLabel(value: string): string {
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(value) || value.length > 63) {
    throw new InvalidArgumentError(
      "must be a DNS-1123 label (lowercase letters, digits and '-', at most 63).",
    );
  }
  return value;
}

/** A non-empty host name or IP address (no port, no scheme). */
export function parseHost(value: string): string {
  const v = value.trim();
  if (v === '' || /[\s/@]/.test(v) || /^[^:[\]]+:[0-9]+$/.test(v)) {
    throw new InvalidArgumentError('must be a host name or IP address without port or scheme.');
  }
  return v;
}

/** A non-empty string (paths, images), trimmed. */
export function parseNonEmpty(value: string): string {
  const v = value.trim();
  if (v === '') throw new InvalidArgumentError('must not be empty.');
  return v;
}
