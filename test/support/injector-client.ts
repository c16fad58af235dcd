/** A small HTTPS client for the injector's tests and benchmark (real TLS, optional keep-alive agent). */
import https from 'node:https';
import type { IncomingHttpHeaders } from 'node:http';

export interface HttpsResult {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  /** Client-side port of the connection that carried the request (same value → same connection). */
  localPort: number | undefined;
}

export interface HttpsRequestOptions {
  port: number;
  ca: string;
  method?: string;
  path: string;
  headers?: Record<string, string | number>;
  body?: string | Buffer;
  /** Send the body in chunks without a content-length (chunked transfer encoding). */
  chunks?: Buffer[];
  agent?: https.Agent;
  host?: string;
  servername?: string;
}

export function httpsRequest(o: HttpsRequestOptions): Promise<HttpsResult> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { ...o.headers };
    if (o.body !== undefined && headers['content-length'] === undefined) {
      headers['content-length'] = Buffer.byteLength(o.body);
    }
    const req = https.request(
      {
        host: o.host ?? '127.0.0.1',
        port: o.port,
        method: o.method ?? 'GET',
        path: o.path,
        ca: o.ca,
        servername: o.servername ?? 'localhost',
        headers,
        agent: o.agent ?? false,
      },
      (res) => {
        const localPort = res.socket?.localPort;
        const parts: Buffer[] = [];
        res.on('data', (c: Buffer) => parts.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(parts).toString('utf8'),
            localPort,
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    if (o.chunks) {
      for (const c of o.chunks) req.write(c);
      req.end();
    } else {
      req.end(o.body);
    }
  });
}

/** POST an AdmissionReview object as application/json. */
export function postReview(
  port: number,
  ca: string,
  review: unknown,
  agent?: https.Agent,
): Promise<HttpsResult> {
  return httpsRequest({
    port,
    ca,
    method: 'POST',
    path: '/mutate-pod-creation',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(review),
    ...(agent ? { agent } : {}),
  });
}
