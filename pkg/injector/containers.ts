/** Builders of the three containers the injector adds: sidecar, fsm-init, fsm-healthcheck. Pure. */
import type { V1Container, V1Volume } from '@kubernetes/client-node';
import {
  BOOTSTRAP_MOUNT_PATH,
  BOOTSTRAP_VOLUME_NAME,
  HEALTHCHECK_ALLOWED_PORTS_ENV,
  HEALTHCHECK_CONTAINER_NAME,
  HEALTHCHECK_CPU_LIMIT,
  HEALTHCHECK_CPU_REQUEST,
  HEALTHCHECK_MEMORY_LIMIT,
  HEALTHCHECK_MEMORY_REQUEST,
  HEALTHCHECK_NODE_FLAGS,
  HEALTHCHECK_PORT,
  HEALTHCHECK_PORT_NAME,
  IMAGE_ENTRYPOINT_SCRIPT,
  INIT_CONTAINER_NAME,
  NON_ROOT_UID,
  PROBE_TYPE_INFO,
  PROXY_UID,
  SIDECAR_CONTAINER_NAME,
  SIDECAR_CPU_LIMIT,
  SIDECAR_CPU_REQUEST,
  SIDECAR_MEMORY_LIMIT,
  SIDECAR_MEMORY_REQUEST,
  type ProbeType,
} from '../constants/index.js';
import { envoyBootstrapYaml, type BootstrapOptions } from './bootstrap.js';
import { initScript, iptablesRules } from './iptables.js';

export interface SidecarOptions extends BootstrapOptions {
  image: string;
  /** Probe types served by the proxy's probe listeners: one container port each. */
  proxyProbeTypes: readonly ProbeType[];
  logLevel?: string;
}

export function sidecarContainer(opts: SidecarOptions): V1Container {
  return {
    name: SIDECAR_CONTAINER_NAME,
    image: opts.image,
    imagePullPolicy: 'IfNotPresent',
    command: ['envoy'],
    args: [
      '--config-yaml',
      envoyBootstrapYaml(opts),
      '--log-level',
      opts.logLevel ?? 'info',
      '--drain-time-s',
      '5',
    ],
    ports: opts.proxyProbeTypes.map((t) => ({
      name: PROBE_TYPE_INFO[t].portName,
      containerPort: PROBE_TYPE_INFO[t].port,
      protocol: 'TCP',
    })),
    // The bootstrap credential: only the sidecar mounts it.
    volumeMounts: [{ name: BOOTSTRAP_VOLUME_NAME, mountPath: BOOTSTRAP_MOUNT_PATH, readOnly: true }],
    resources: {
      requests: { cpu: SIDECAR_CPU_REQUEST, memory: SIDECAR_MEMORY_REQUEST },
      limits: { cpu: SIDECAR_CPU_LIMIT, memory: SIDECAR_MEMORY_LIMIT },
    },
    securityContext: {
      runAsUser: PROXY_UID,
      runAsGroup: PROXY_UID,
      runAsNonRoot: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
    },
  };
}

/** The pod volume of the bootstrap credential Secret `fsm-bootstrap-<proxy-uuid>`. */
export function bootstrapVolume(secretName: string): V1Volume {
  // 0444: Envoy runs as PROXY_UID, not the files' owner; only the sidecar container mounts the volume.
  return { name: BOOTSTRAP_VOLUME_NAME, secret: { secretName, defaultMode: 0o444 } };
}

/** The rules are the same for every pod: generated once. */
let initArgs: string | undefined;

export function initContainer(image: string): V1Container {
  initArgs ??= initScript(iptablesRules());
  return {
    name: INIT_CONTAINER_NAME,
    image,
    imagePullPolicy: 'IfNotPresent',
    command: ['/bin/sh', '-c'],
    args: [initArgs],
    securityContext: {
      runAsUser: 0,
      runAsNonRoot: false,
      allowPrivilegeEscalation: false,
      capabilities: { add: ['NET_ADMIN', 'NET_RAW'], drop: ['ALL'] },
    },
  };
}

/** fsm-healthcheck, allowed to dial exactly `ports` (the original tcpSocket/grpc probe ports). */
export function healthcheckContainer(image: string, ports: readonly number[]): V1Container {
  return {
    name: HEALTHCHECK_CONTAINER_NAME,
    image,
    imagePullPolicy: 'IfNotPresent',
    // The image's entrypoint with Node flags that keep its memory (paid per pod) down.
    command: ['node', ...HEALTHCHECK_NODE_FLAGS, IMAGE_ENTRYPOINT_SCRIPT],
    args: ['--port', String(HEALTHCHECK_PORT)],
    env: [{ name: HEALTHCHECK_ALLOWED_PORTS_ENV, value: ports.join(',') }],
    ports: [{ name: HEALTHCHECK_PORT_NAME, containerPort: HEALTHCHECK_PORT, protocol: 'TCP' }],
    resources: {
      requests: { cpu: HEALTHCHECK_CPU_REQUEST, memory: HEALTHCHECK_MEMORY_REQUEST },
      limits: { cpu: HEALTHCHECK_CPU_LIMIT, memory: HEALTHCHECK_MEMORY_LIMIT },
    },
    securityContext: {
      runAsUser: NON_ROOT_UID,
      runAsGroup: NON_ROOT_UID,
      runAsNonRoot: true,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
    },
  };
}
