/**
 * The probe vocabulary shared by the injector (which rewrites probes and records the originals)
 * and the controller (which builds each proxy's config from the pod object alone).
 */
import { LIVENESS_PROBE_PORT, READINESS_PROBE_PORT, STARTUP_PROBE_PORT } from './ports.js';
import { LIVENESS_PROBE_PATH, READINESS_PROBE_PATH, STARTUP_PROBE_PATH } from './paths.js';
import { LIVENESS_PORT_NAME, READINESS_PORT_NAME, STARTUP_PORT_NAME } from './labels.js';

export const PROBE_TYPES = ['liveness', 'readiness', 'startup'] as const;
export type ProbeType = (typeof PROBE_TYPES)[number];

/** Per probe type: the port kubelet now hits, the rewritten base path, and the proxy's names. */
export interface ProbeTypeInfo {
  readonly type: ProbeType;
  /** Field name on a Kubernetes container: livenessProbe / readinessProbe / startupProbe. */
  readonly field: 'livenessProbe' | 'readinessProbe' | 'startupProbe';
  readonly port: number;
  readonly path: string;
  /** Sidecar container port name. */
  readonly portName: string;
  /** Envoy listener name on the sidecar. */
  readonly listenerName: string;
}

export const PROBE_TYPE_INFO: Readonly<Record<ProbeType, ProbeTypeInfo>> = {
  liveness: {
    type: 'liveness',
    field: 'livenessProbe',
    port: LIVENESS_PROBE_PORT,
    path: LIVENESS_PROBE_PATH,
    portName: LIVENESS_PORT_NAME,
    listenerName: 'liveness_listener',
  },
  readiness: {
    type: 'readiness',
    field: 'readinessProbe',
    port: READINESS_PROBE_PORT,
    path: READINESS_PROBE_PATH,
    portName: READINESS_PORT_NAME,
    listenerName: 'readiness_listener',
  },
  startup: {
    type: 'startup',
    field: 'startupProbe',
    port: STARTUP_PROBE_PORT,
    path: STARTUP_PROBE_PATH,
    portName: STARTUP_PORT_NAME,
    listenerName: 'startup_listener',
  },
};

/** Envoy cluster name for one container's probe of one type: `<container>_<type>_cluster`. */
export function probeClusterName(container: string, type: ProbeType): string {
  return `${container}_${type}_cluster`;
}

/**
 * What a probe was before the rewrite.
 * - `http` / `https`: an httpGet probe, now served by the proxy's probe listener.
 * - `tcp` / `grpc`: a tcpSocket / grpc probe, now an httpGet to fsm-healthcheck on
 *   {@link HEALTHCHECK_PORT}; the proxy needs no listener for it.
 */
export type OriginalProbeKind = 'http' | 'https' | 'tcp' | 'grpc';

export interface OriginalProbe {
  kind: OriginalProbeKind;
  /** httpGet scheme as written (HTTP when empty); absent for tcp/grpc. */
  scheme?: 'HTTP' | 'HTTPS';
  /** The original target port, resolved to a number (named ports are resolved at admission). */
  port: number;
  /** httpGet path as written ('' when absent); absent for tcp/grpc. */
  path?: string;
  /** httpGet httpHeaders as written. */
  headers?: { name: string; value: string }[];
  /** Effective timeoutSeconds of the probe (Kubernetes default 1 when unset). */
  timeoutSeconds: number;
  /** grpc probe service name, when set. */
  grpcService?: string;
  /** Where kubelet now sends the probe: port (1590x or 15904) and path. */
  rewritten: { port: number; path: string };
}

/** Original probes by container name, then by probe type. Only rewritten probes appear. */
export type OriginalProbesByContainer = Record<string, Partial<Record<ProbeType, OriginalProbe>>>;

/** JSON value of the ORIGINAL_PROBES_ANNOTATION pod annotation. */
export interface OriginalProbesAnnotation {
  /** Format version; readers reject versions they do not know. */
  v: 1;
  containers: OriginalProbesByContainer;
}
