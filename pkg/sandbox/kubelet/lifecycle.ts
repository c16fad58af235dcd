/**
 * Kubelet's container lifecycle hooks (postStart, preStop), run and worded as kubelet runs them:
 * - httpGet: a GET to the pod (kubelet-http.ts: headers, no verification, same-host redirects).
 *   Only a request that gets no answer fails the hook: kubelet does not look at the status code;
 * - sleep: waits; exec: not run in the sandbox (no container runtime), counts as done.
 * A failure reads `HTTP lifecycle hook (<path>) for Container "<c>" in Pod "<name>_<ns>(<uid>)" failed -
 * error: <the request's error>`, the message of kubelet's FailedPostStartHook / FailedPreStopHook
 * events.
 */
import type { V1Container, V1LifecycleHandler, V1Pod } from '@kubernetes/client-node';
import type { HookType } from '../../constants/index.js';
import type { NodeNetwork } from '../netns/index.js';
import { kubeletGet } from './kubelet-http.js';
import { resolveProbePort } from './probe-exec.js';

/** Kubelet's event reasons of failed hooks. */
export const HOOK_FAILED_REASON: Readonly<Record<HookType, string>> = {
  postStart: 'FailedPostStartHook',
  preStop: 'FailedPreStopHook',
};

/** What one hook run gave (the node agent keeps the last ones for tests and the guide). */
export interface HookRun {
  container: string;
  hook: HookType;
  ok: boolean;
  /** httpGet: the URL called (after redirects), its status and the start of its body. */
  url?: string;
  status?: number;
  body?: string;
  /** ok false: kubelet's message. */
  message?: string;
}

/** `<name>_<namespace>(<uid>)`, kubelet's format.Pod. */
export function formatPod(pod: V1Pod): string {
  const m = pod.metadata ?? {};
  return `${m.name ?? ''}_${m.namespace ?? ''}(${m.uid ?? ''})`;
}

/** Runs one hook handler against the pod at `podIP`; `timeoutMs` bounds it (kubelet: the grace period). */
export async function runLifecycleHook(
  pod: V1Pod,
  container: V1Container,
  hook: HookType,
  handler: V1LifecycleHandler,
  podIP: string,
  timeoutMs: number,
  network?: NodeNetwork,
): Promise<HookRun> {
  const base = { container: container.name, hook };
  if (handler.httpGet) {
    const g = handler.httpGet;
    const path = g.path ?? '';
    const fail = (error: string): HookRun => ({
      ...base,
      ok: false,
      message: `HTTP lifecycle hook (${path}) for Container "${container.name}" in Pod "${formatPod(pod)}" failed - error: ${error}`,
    });
    const port = resolveProbePort(g.port as number | string, container.ports);
    if (port === undefined) return fail(`unable to resolve port ${JSON.stringify(g.port)}`);
    const scheme = (g.scheme ?? 'HTTP').toLowerCase() === 'https' ? 'https' : 'http';
    const target = path === '' ? '/' : path.startsWith('/') ? path : `/${path}`;
    const r = await kubeletGet({
      url: `${scheme}://${g.host || podIP}:${port}${target}`,
      headers: g.httpHeaders ?? [],
      timeoutMs,
      ...(network ? { network } : {}),
    });
    if (r.kind === 'error') return fail(r.message);
    return { ...base, ok: true, url: r.url, status: r.status, body: r.body };
  }
  if (handler.sleep) {
    const ms = Math.min(Math.max(0, Number(handler.sleep.seconds) || 0) * 1000, timeoutMs);
    await new Promise((resolve) => setTimeout(resolve, ms).unref());
  }
  return { ...base, ok: true };
}
