/**
 * Request bodies in and JSON answers out, as every handler of the API server reads and writes them:
 * a 16 MiB body cap (413), JSON or YAML decoding with a 400 naming the parse error, and responses
 * with the headers kube-apiserver sends (no caching, exact length, Warning headers).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import YAML from 'yaml';
import { errorMessage } from '../../logger/index.js';
import { badRequest, statusFor } from './status.js';

export const MAX_BODY_BYTES = 16 * 1024 * 1024;

export type Headers = Record<string, string | string[]>;

/** The body as bytes; 413 past MAX_BODY_BYTES. */
export async function readRaw(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw statusFor(413, 'the request body is too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** The body decoded as JSON (or YAML); undefined when empty. */
export async function readBody(req: IncomingMessage, yaml = false): Promise<unknown> {
  const text = (await readRaw(req)).toString('utf8');
  if (text.trim() === '') return undefined;
  try {
    return yaml ? (YAML.parse(text) as unknown) : (JSON.parse(text) as unknown);
  } catch (e) {
    throw badRequest(`the body of the request could not be decoded: json parse error: ${errorMessage(e)}`);
  }
}

/** Answers `text`, already JSON. */
export function sendJsonText(res: ServerResponse, code: number, text: string, headers: Headers = {}): void {
  res.writeHead(code, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-cache, private',
    ...headers,
  });
  res.end(text);
}

export function sendJson(res: ServerResponse, code: number, body: unknown, headers: Headers = {}): void {
  sendJsonText(res, code, JSON.stringify(body), headers);
}

/** Admission warnings as `Warning: 299 - "<text>"` headers (kubectl prints them). */
export function warningHeaders(warnings: string[] | undefined): Headers {
  if (!warnings || warnings.length === 0) return {};
  return { Warning: warnings.map((w) => `299 - ${JSON.stringify(w.replace(/[\r\n]+/g, ' '))}`) };
}
