/**
 * The lifecycle-hook rewrite of a pod: postStart / preStop httpGet hooks hit the same wall as probes
 * (kubelet calls the pod IP, the sidecar captures the port, strict mTLS refuses plain HTTP), so they
 * are rewritten like probes: kubelet calls the startup listener (15903) at
 * /fsm-poststart-hook/<container> or /fsm-prestop-hook/<container> over plain HTTP, and the proxy
 * forwards to the hook's original port and path (opening TLS itself for an HTTPS hook). The originals
 * go in the same record as the probes (its `hooks`). Pure.
 *
 * Only httpGet hooks are rewritten; exec and sleep run without the network, and tcpSocket is not a
 * hook kubelet runs. A hook that cannot travel through the proxy (another host, an unresolvable port,
 * invalid HTTP) is left as written, with a warning.
 */
import type { V1Container, V1LifecycleHandler } from '@kubernetes/client-node';
import { HOOK_TIMEOUT_SECONDS, HOOK_TYPES, type HookType } from '../constants/index.js';
import {
  recordProbe,
  rewriteHook,
  type OriginalHook,
  type OriginalHooksByContainer,
} from '../probes/index.js';
import { planHttpGet } from './probes.js';

export interface HookRewriteResult {
  /** The containers, in the same order, with rewritten hooks (fresh objects; input untouched). */
  containers: V1Container[];
  /** Original targets of every rewritten hook (recorded ones included). */
  hooks: OriginalHooksByContainer;
  /** Hooks rewritten by this call. */
  rewritten: number;
  warnings: string[];
}

function handlersOf(h: V1LifecycleHandler): string[] {
  return (['httpGet', 'exec', 'sleep', 'tcpSocket'] as const).filter(
    (k) => h[k] !== undefined && h[k] !== null,
  );
}

/**
 * Rewrites the httpGet lifecycle hooks of `containers`; `recorded` (a reinvocation) are kept as they
 * are. `enabled: false` (the probe-rewrite opt-out) changes nothing.
 */
export function rewriteHooks(
  podRef: string,
  containers: readonly V1Container[],
  enabled = true,
  recorded: OriginalHooksByContainer = {},
): HookRewriteResult {
  const warnings: string[] = [];
  const hooks: OriginalHooksByContainer =
    // A first pass records nothing yet: skip the copy (structuredClone costs µs even of `{}`).
    Object.keys(recorded).length === 0 ? {} : structuredClone(recorded);
  let rewritten = 0;
  const out = containers.map((c) => {
    if (!enabled || !c.lifecycle) return c;
    let lifecycle = c.lifecycle;
    for (const hook of HOOK_TYPES) {
      const handler = c.lifecycle[hook];
      if (!handler || recorded[c.name]?.[hook] !== undefined) continue;
      const handlers = handlersOf(handler);
      if (handlers[0] !== 'httpGet') continue;
      const where = `pod ${podRef}: container ${c.name} ${hook} hook`;
      if (handlers.length > 1) {
        warnings.push(`${where}: has several handlers (${handlers.join(', ')}); left unchanged`);
        continue;
      }
      const plan = planHttpGet(where, handler.httpGet!, c, warnings);
      if (plan.action !== 'rewrite' || (plan.original.kind !== 'http' && plan.original.kind !== 'https'))
        continue;
      const original = recordProbe(
        plan.original,
        {
          type: hook,
          container: c.name,
          perContainerPath: true,
          ...(plan.original.kind === 'https' ? { tls: 'originate' as const } : {}),
        },
        HOOK_TIMEOUT_SECONDS,
      ) as OriginalHook;
      (hooks[c.name] ??= {})[hook as HookType] = original;
      lifecycle = { ...lifecycle, [hook]: rewriteHook(handler, original) };
      rewritten++;
    }
    return lifecycle === c.lifecycle ? c : { ...c, lifecycle };
  });
  return { containers: out, hooks, rewritten, warnings };
}

/**
 * A classic sidecar is stopped together with the app containers, so a preStop hook sent through it
 * races the proxy's own shutdown; a native sidecar is stopped after them. One warning per pod.
 */
export function classicPreStopWarnings(podRef: string, hooks: OriginalHooksByContainer): string[] {
  const containers = Object.keys(hooks).filter((c) => hooks[c]?.preStop !== undefined);
  if (containers.length === 0) return [];
  return [
    `pod ${podRef}: the preStop hook of container ${containers.join(', ')} goes through a classic sidecar, ` +
      'which Kubernetes stops at the same time as the app: the hook may not reach the app. Native sidecars ' +
      '(Kubernetes 1.29 or later) stop after the app containers',
  ];
}
