/**
 * The native sidecar: the proxy container as an init container with restartPolicy Always, whose
 * startupProbe passes only once the proxy has its configuration. Pure.
 *
 * The startup probe calls GET :15903/fsm-proxy-ready. Nothing listens there until the controller's
 * listeners (LDS) arrive: the controller pushes the startup listener, with a route answering that path
 * directly, for every native-sidecar pod. So "started" means "the proxy has its probe listeners", with
 * real Envoy as with the sandbox's probe agent — unlike Envoy's admin /ready (bound to 127.0.0.1,
 * which kubelet cannot reach, and LIVE after initial_fetch_timeout even without any configuration).
 */
import type { V1Container } from '@kubernetes/client-node';
import {
  PROBE_TYPE_INFO,
  PROXY_READY_PATH,
  SIDECAR_STARTUP_PROBE_FAILURE_THRESHOLD,
  SIDECAR_STARTUP_PROBE_PERIOD_SECONDS,
} from '../constants/index.js';

/** The probe kubelet runs on a native sidecar before it starts the next container. */
export function proxyReadyProbe(): NonNullable<V1Container['startupProbe']> {
  const startup = PROBE_TYPE_INFO.startup;
  return {
    httpGet: { port: startup.port, path: PROXY_READY_PATH },
    periodSeconds: SIDECAR_STARTUP_PROBE_PERIOD_SECONDS,
    timeoutSeconds: 1,
    failureThreshold: SIDECAR_STARTUP_PROBE_FAILURE_THRESHOLD,
  };
}

/** `sidecar` as a native sidecar: restartPolicy Always, the proxy-ready startup probe, the startup port. */
export function asNativeSidecar(sidecar: V1Container): V1Container {
  const startup = PROBE_TYPE_INFO.startup;
  const ports = sidecar.ports ?? [];
  const withStartup = ports.some((p) => p.containerPort === startup.port)
    ? ports
    : [...ports, { name: startup.portName, containerPort: startup.port, protocol: 'TCP' }];
  return { ...sidecar, restartPolicy: 'Always', ports: withStartup, startupProbe: proxyReadyProbe() };
}

/** True for a pod spec whose `sidecar` init container is a native sidecar. */
export function isNativeSidecar(c: { restartPolicy?: string } | undefined): boolean {
  return c?.restartPolicy === 'Always';
}
