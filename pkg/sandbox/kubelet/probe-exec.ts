/**
 * Runs one probe the way kubelet does and words the result the way kubelet's events do, so
 * `kubectl describe pod` in the sandbox reads like a real cluster:
 *   HTTP probe failed with statuscode: 503
 *   Get "http://127.0.1.2:15901/fsm-liveness-probe": dial tcp 127.0.1.2:15901: connect: connection refused
 *   Get "http://…": context deadline exceeded (Client.Timeout exceeded while awaiting headers)
 *   dial tcp 127.0.1.2:5432: connect: connection refused
 *   service unhealthy (responded with "NOT_SERVING")
 */
import http from 'node:http';
import https from 'node:https';
import type { V1Probe } from '@kubernetes/client-node';
import { grpcHealthCheck } from '../../healthcheck/index.js';
import { describeSocketError, tcpCheck } from '../../healthcheck/index.js';

export type ProbeResult = { ok: true } | { ok: false; message: string };

/** Kubelet's User-Agent on probes (the minor version follows the sandbox API server's). */
export const PROBE_USER_AGENT = 'kube-probe/1.32';
/** Kubelet reads at most 10 KiB of a probe's body. */
const MAX_BODY = 10 * 1024;

/** Resolves an IntOrString port against the container's named ports; undefined when it cannot. */
export function resolveProbePort(
  port: number | string | undefined,
  containerPorts: readonly { name?: string; containerPort: number }[] | undefined,
): number | undefined {
  if (typeof port === 'number') return port > 0 && port < 65536 ? port : undefined;
  if (typeof port === 'string') {
    if (/^[0-9]+$/.test(port)) return resolveProbePort(Number(port), containerPorts);
    return containerPorts?.find((p) => p.name === port)?.containerPort;
  }
  return undefined;
}

function dialMessage(host: string, port: number, err: NodeJS.ErrnoException): string {
  const reason = err.code === 'ECONNREFUSED' ? 'connect: connection refused' : describeSocketError(err);
  return `dial tcp ${host}:${port}: ${reason}`;
}

function httpProbe(
  probe: NonNullable<V1Probe['httpGet']>,
  podIP: string,
  port: number,
  timeoutMs: number,
): Promise<ProbeResult> {
  const secure = (probe.scheme ?? 'HTTP').toUpperCase() === 'HTTPS';
  const host = probe.host || podIP;
  const path = probe.path ? (probe.path.startsWith('/') ? probe.path : `/${probe.path}`) : '/';
  const url = `${secure ? 'https' : 'http'}://${host}:${port}${path}`;
  const headers: Record<string, string> = { 'User-Agent': PROBE_USER_AGENT, Accept: '*/*' };
  for (const h of probe.httpHeaders ?? []) headers[h.name] = h.value;
  return new Promise((resolve) => {
    let settled = false;
    // Kubelet's Client.Timeout bounds the whole exchange: connect, headers and body.
    const deadline = setTimeout(() => {
      done({
        ok: false,
        message: `Get "${url}": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`,
      });
      req.destroy();
    }, timeoutMs);
    const done = (r: ProbeResult): void => {
      clearTimeout(deadline);
      if (!settled) {
        settled = true;
        resolve(r);
      }
    };
    const mod = secure ? https : http;
    // Kubelet does not verify probe certificates; a fresh connection per probe, as kubelet's.
    const req = mod.request(
      url,
      { method: 'GET', headers, agent: false, rejectUnauthorized: false },
      (res) => {
        let read = 0;
        res.on('data', (c: Buffer) => {
          read += c.length;
          if (read > MAX_BODY) res.destroy();
        });
        res.on('close', () => {
          const code = res.statusCode ?? 0;
          done(
            code >= 200 && code < 400
              ? { ok: true }
              : { ok: false, message: `HTTP probe failed with statuscode: ${code}` },
          );
        });
      },
    );
    req.on('error', (err: NodeJS.ErrnoException) =>
      done({ ok: false, message: `Get "${url}": ${dialMessage(host, port, err)}` }),
    );
    req.end();
  });
}

/**
 * Runs a probe against a pod. exec probes are not run in the sandbox (no container runtime): they
 * count as success, and the node agent says so once in its log.
 */
export async function runProbe(
  probe: V1Probe,
  podIP: string,
  containerPorts: readonly { name?: string; containerPort: number }[] | undefined,
): Promise<ProbeResult> {
  const timeoutMs = Math.max(1, probe.timeoutSeconds ?? 1) * 1000;
  if (probe.httpGet) {
    const port = resolveProbePort(probe.httpGet.port as number | string, containerPorts);
    if (port === undefined)
      return { ok: false, message: `unable to resolve port ${JSON.stringify(probe.httpGet.port)}` };
    return httpProbe(probe.httpGet, podIP, port, timeoutMs);
  }
  if (probe.tcpSocket) {
    const port = resolveProbePort(probe.tcpSocket.port as number | string, containerPorts);
    if (port === undefined)
      return { ok: false, message: `unable to resolve port ${JSON.stringify(probe.tcpSocket.port)}` };
    const host = probe.tcpSocket.host || podIP;
    const r = await tcpCheck(host, port, timeoutMs);
    if (r.ok) return r;
    const reason = r.reason === 'connection refused' ? 'connect: connection refused' : r.reason;
    return { ok: false, message: `dial tcp ${host}:${port}: ${reason}` };
  }
  if (probe.grpc) {
    const port = probe.grpc.port;
    const r = await grpcHealthCheck(podIP, port, probe.grpc.service ?? '', timeoutMs);
    if (r.ok) return r;
    if (r.reason.startsWith('timed out') || r.reason.startsWith('unreachable')) {
      return {
        ok: false,
        message: `timeout: failed to connect service "${podIP}:${port}" within ${timeoutMs / 1000}s`,
      };
    }
    return { ok: false, message: `service unhealthy (responded with "${r.reason}")` };
  }
  return { ok: true };
}
