/**
 * Runs one probe the way kubelet does and words the result the way kubelet's events do, so
 * `kubectl describe pod` in the sandbox reads like a real cluster:
 *   HTTP probe failed with statuscode: 503
 *   Get "http://127.0.1.2:15901/fsm-liveness-probe": dial tcp 127.0.1.2:15901: connect: connection refused
 *   Get "http://…": context deadline exceeded (Client.Timeout exceeded while awaiting headers)
 *   dial tcp 127.0.1.2:5432: connect: connection refused
 *   service unhealthy (responded with "NOT_SERVING")
 */
import type { V1Probe } from '@kubernetes/client-node';
import { describeSocketError, grpcHealthCheck, tcpCheck } from '../../healthcheck/index.js';
import { loopbackNetwork, type NodeNetwork } from '../netns/index.js';
import { kubeletGet } from './kubelet-http.js';

export { PROBE_USER_AGENT } from './kubelet-http.js';

/**
 * A probe's outcome. A success may carry a warning: an HTTP probe whose redirect kubelet did not
 * follow (to another host) succeeds with "Probe terminated redirects" (kubelet's ProbeWarning event).
 */
export type ProbeResult = { ok: true; warning?: string } | { ok: false; message: string };

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

async function httpProbe(
  probe: NonNullable<V1Probe['httpGet']>,
  podIP: string,
  port: number,
  timeoutMs: number,
  network: NodeNetwork,
): Promise<ProbeResult> {
  const secure = (probe.scheme ?? 'HTTP').toUpperCase() === 'HTTPS';
  const host = probe.host || podIP;
  const path = probe.path ? (probe.path.startsWith('/') ? probe.path : `/${probe.path}`) : '/';
  const url = `${secure ? 'https' : 'http'}://${host}:${port}${path}`;
  const r = await kubeletGet({ url, headers: probe.httpHeaders ?? [], timeoutMs, network });
  if (r.kind === 'error') return { ok: false, message: r.message };
  if (r.status >= 200 && r.status < 400) {
    // A 3xx is what kubelet did not follow (another host): success, with a warning.
    return r.status >= 300
      ? { ok: true, warning: `Probe terminated redirects, Response body: ${r.body}` }
      : { ok: true };
  }
  return { ok: false, message: `HTTP probe failed with statuscode: ${r.status}` };
}

/**
 * Runs a probe against a pod. exec probes are not run in the sandbox (no container runtime): they
 * count as success, and the node agent says so once in its log.
 */
/** kubelet's tcpSocket check through the node network: connect, close. */
async function tcpCheckVia(
  network: NodeNetwork,
  host: string,
  port: number,
  timeoutMs: number,
): Promise<{ ok: true } | { ok: false; reason: string }> {
  if (network.mode === 'loopback') return tcpCheck(host, port, timeoutMs);
  try {
    (await network.dial(host, port, timeoutMs)).destroy();
    return { ok: true };
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    return { ok: false, reason: e.code === 'ETIMEDOUT' ? 'i/o timeout' : describeSocketError(e) };
  }
}

export async function runProbe(
  probe: V1Probe,
  podIP: string,
  containerPorts: readonly { name?: string; containerPort: number }[] | undefined,
  network: NodeNetwork = loopbackNetwork,
): Promise<ProbeResult> {
  const timeoutMs = Math.max(1, probe.timeoutSeconds ?? 1) * 1000;
  if (probe.httpGet) {
    const port = resolveProbePort(probe.httpGet.port as number | string, containerPorts);
    if (port === undefined)
      return { ok: false, message: `unable to resolve port ${JSON.stringify(probe.httpGet.port)}` };
    return httpProbe(probe.httpGet, podIP, port, timeoutMs, network);
  }
  if (probe.tcpSocket) {
    const port = resolveProbePort(probe.tcpSocket.port as number | string, containerPorts);
    if (port === undefined)
      return { ok: false, message: `unable to resolve port ${JSON.stringify(probe.tcpSocket.port)}` };
    const host = probe.tcpSocket.host || podIP;
    const r = await tcpCheckVia(network, host, port, timeoutMs);
    if (r.ok) return r;
    const reason = r.reason === 'connection refused' ? 'connect: connection refused' : r.reason;
    return { ok: false, message: `dial tcp ${host}:${port}: ${reason}` };
  }
  if (probe.grpc) {
    const port = probe.grpc.port;
    const via = network.mode === 'loopback' ? undefined : network.grpcTarget(podIP, port);
    const r = await grpcHealthCheck(podIP, port, probe.grpc.service ?? '', timeoutMs, via);
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
