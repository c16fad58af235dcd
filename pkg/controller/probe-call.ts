/**
 * Calls a rewritten probe's endpoint on the pod exactly as kubelet does (the httpGet kubelet runs
 * after the rewrite: port, path, scheme, headers; HTTPS without verifying the certificate; a fresh
 * connection; the probe's timeout) and returns what came back, for pkg/probes' diagnoseProbeAnswer.
 * Redirects are not followed: a 3xx is a success for kubelet either way.
 */
import http from 'node:http';
import https from 'node:https';
import type { ProbeAnswer, RewrittenHttpGet } from '../probes/index.js';

/** The start of a body that is read (Envoy's local replies and fsm-healthcheck's answers are short). */
const MAX_BODY = 4096;

export function callProbe(
  podIP: string,
  call: RewrittenHttpGet,
  timeoutSeconds: number,
): Promise<ProbeAnswer> {
  const secure = call.scheme === 'HTTPS';
  const headers: Record<string, string> = { 'User-Agent': 'fsm-controller (probe diagnosis)', Accept: '*/*' };
  for (const h of call.httpHeaders ?? []) headers[h.name] = h.value;
  const path = call.path === '' ? '/' : call.path.startsWith('/') ? call.path : `/${call.path}`;
  const host = podIP.includes(':') ? `[${podIP}]` : podIP;
  const url = `${secure ? 'https' : 'http'}://${host}:${call.port}${path}`;
  const timeoutMs = Math.max(1, timeoutSeconds) * 1000;
  return new Promise((resolve) => {
    let settled = false;
    const done = (a: ProbeAnswer): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(a);
    };
    const mod = secure ? https : http;
    // Not verified, as kubelet does not verify a probe's certificate.
    const req = mod.request(
      url,
      { method: 'GET', headers, agent: false, rejectUnauthorized: false },
      (res) => {
        const chunks: Buffer[] = [];
        let read = 0;
        res.on('data', (c: Buffer) => {
          if (read < MAX_BODY) chunks.push(c.subarray(0, MAX_BODY - read));
          read += c.length;
        });
        res.on('error', () => undefined);
        res.on('close', () =>
          done({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
        );
      },
    );
    const timer = setTimeout(() => {
      done({ timedOut: true });
      req.destroy();
    }, timeoutMs);
    req.on('error', (err: NodeJS.ErrnoException) =>
      done({ error: { ...(err.code ? { code: err.code } : {}), message: err.message } }),
    );
    req.end();
  });
}
