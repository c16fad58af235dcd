/**
 * The probe vocabulary shared by the injector (which rewrites probes and records the originals)
 * and the controller (which builds each proxy's config from the pod object alone). The record of the
 * original probes and the rewrite contract itself live in pkg/probes.
 */
import { LIVENESS_PROBE_PORT, READINESS_PROBE_PORT, STARTUP_PROBE_PORT } from './ports.js';
import {
  LIVENESS_PROBE_PATH,
  POST_START_HOOK_PATH,
  PRE_STOP_HOOK_PATH,
  READINESS_PROBE_PATH,
  STARTUP_PROBE_PATH,
} from './paths.js';
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

/** Lifecycle hooks the injector rewrites (httpGet handlers only), as named on a container's lifecycle. */
export const HOOK_TYPES = ['postStart', 'preStop'] as const;
export type HookType = (typeof HOOK_TYPES)[number];

export interface HookTypeInfo {
  readonly type: HookType;
  /** The port kubelet now calls: the startup listener's. */
  readonly port: number;
  /** Base of the rewritten path: `<path>/<container>`. */
  readonly path: string;
  /** The listener that serves it (the startup listener). */
  readonly listenerName: string;
  /** Lower-case name used in the proxy's route and cluster names. */
  readonly slotName: string;
}

export const HOOK_TYPE_INFO: Readonly<Record<HookType, HookTypeInfo>> = {
  postStart: {
    type: 'postStart',
    port: STARTUP_PROBE_PORT,
    path: POST_START_HOOK_PATH,
    listenerName: PROBE_TYPE_INFO.startup.listenerName,
    slotName: 'poststart',
  },
  preStop: {
    type: 'preStop',
    port: STARTUP_PROBE_PORT,
    path: PRE_STOP_HOOK_PATH,
    listenerName: PROBE_TYPE_INFO.startup.listenerName,
    slotName: 'prestop',
  },
};

/** A slot of the original-probe record: a probe type or a lifecycle hook. */
export type RecordSlot = ProbeType | HookType;

/** Envoy cluster name of a lifecycle hook's target: `<container>_<poststart|prestop>_cluster`. */
export function hookClusterName(container: string, hook: HookType): string {
  return `${container}_${HOOK_TYPE_INFO[hook].slotName}_cluster`;
}
