/**
 * Native or classic sidecar, as a pure function of the pod, its namespace and what the API server
 * supports.
 *
 * - native: the sidecar is an init container with restartPolicy Always (Kubernetes >= 1.29, the
 *   SidecarContainers feature, on by default from 1.29). Kubelet starts it before the app containers
 *   and waits for its startupProbe — which passes only once the proxy has its listeners — so the app
 *   never starts before its proxy can carry its traffic and probes; it is also stopped after them, so
 *   preStop hooks through the proxy still reach the app.
 * - classic: the sidecar is one more container, started with the app in parallel (the seed's layout).
 *
 * NATIVE_SIDECAR_ANNOTATION on the pod decides, else on the namespace, else native whenever the API
 * server supports it. Values as the injection switch (enabled|yes|true, disabled|no|false); any other
 * value denies the admission naming it. Asking for native on an API server that cannot run it gives
 * classic with a warning (an older API server would drop restartPolicy and run the sidecar as a
 * blocking init container: the pod would never start).
 */
import type { V1Namespace, V1Pod } from '@kubernetes/client-node';
import { NATIVE_SIDECAR_ANNOTATION } from '../constants/index.js';
import { parseSwitch } from './decision.js';

export type SidecarMode = 'native' | 'classic';

/** What the injector knows of the API server: its version, once read. */
export interface ServerSupport {
  /** True / false once the API server's /version is known; undefined before (then: classic). */
  nativeSidecars: boolean | undefined;
  /** For messages, e.g. `v1.28.3` or `unknown`. */
  version: string;
}

export type SidecarModeDecision = { mode: SidecarMode; reason: string; warning?: string } | { deny: string };

export function decideSidecarMode(
  pod: V1Pod,
  namespaceObject: V1Namespace | undefined,
  server: ServerSupport,
): SidecarModeDecision {
  const podValue = pod.metadata?.annotations?.[NATIVE_SIDECAR_ANNOTATION];
  const nsValue = namespaceObject?.metadata?.annotations?.[NATIVE_SIDECAR_ANNOTATION];
  const [where, value] =
    podValue !== undefined ? ['pod', podValue] : nsValue !== undefined ? ['namespace', nsValue] : [];
  let wanted: boolean | undefined;
  if (where !== undefined) {
    wanted = typeof value === 'string' ? parseSwitch(value) : undefined;
    if (wanted === undefined) {
      return {
        deny:
          `${where} annotation ${NATIVE_SIDECAR_ANNOTATION}=${JSON.stringify(value)} is invalid: ` +
          'expected enabled|yes|true or disabled|no|false',
      };
    }
  }
  const supported = server.nativeSidecars === true;
  if (wanted === false) {
    return { mode: 'classic', reason: `${where} annotation ${NATIVE_SIDECAR_ANNOTATION}=${value}` };
  }
  if (wanted === true) {
    if (supported) {
      return { mode: 'native', reason: `${where} annotation ${NATIVE_SIDECAR_ANNOTATION}=${value}` };
    }
    return {
      mode: 'classic',
      reason: `the API server (${server.version}) does not run native sidecars`,
      warning:
        `${where} annotation ${NATIVE_SIDECAR_ANNOTATION}=${value} asks for a native sidecar, but the API ` +
        `server (${server.version}) does not run native sidecars (Kubernetes 1.29 or later): injected as a classic sidecar`,
    };
  }
  return supported
    ? { mode: 'native', reason: `the API server (${server.version}) runs native sidecars` }
    : {
        mode: 'classic',
        reason:
          server.nativeSidecars === undefined
            ? 'the API server version is not known yet'
            : `the API server (${server.version}) does not run native sidecars`,
      };
}
