/** Declared application ports of a pod: what the inbound listeners and clusters are built for. */
import {
  ADS_PORT,
  HEALTHCHECK_CONTAINER_NAME,
  HTTP_PORT_PROTOCOLS,
  INIT_CONTAINER_NAME,
  PROBE_BYPASS_PORTS,
  PROXY_ADMIN_PORT,
  PROXY_INBOUND_PORT,
  PROXY_OUTBOUND_PORT,
  PROXY_STATS_PORT,
  SIDECAR_CONTAINER_NAME,
} from '../constants/index.js';
import type { InboundPort } from '../envoy/builders/index.js';
import type { ContainerLike, PodLike } from './pod.js';
import { podRef } from './pod.js';

/** Containers the injector adds: their ports are the mesh's own, not the app's. */
export const INJECTED_CONTAINERS: ReadonlySet<string> = new Set([
  SIDECAR_CONTAINER_NAME,
  HEALTHCHECK_CONTAINER_NAME,
  INIT_CONTAINER_NAME,
]);

/** Ports the proxy itself owns inside the pod: an app port among them cannot get an inbound listener. */
export const PROXY_RESERVED_PORTS: ReadonlySet<number> = new Set([
  PROXY_ADMIN_PORT,
  PROXY_OUTBOUND_PORT,
  PROXY_INBOUND_PORT,
  PROXY_STATS_PORT,
  ADS_PORT,
  ...PROBE_BYPASS_PORTS,
]);

/**
 * How the app speaks on a container port, from its name (Istio's convention `<protocol>[-<suffix>]`,
 * case-insensitive): `http`, `http-web`, `grpc`, `http2-api` … are HTTP; anything else (or no name) TCP.
 */
export function portProtocol(name: string | undefined): 'http' | 'tcp' {
  const n = (name ?? '').toLowerCase();
  return HTTP_PORT_PROTOCOLS.some((p) => n === p || n.startsWith(`${p}-`)) ? 'http' : 'tcp';
}

/** App containers in spec order: containers, then init containers that keep running (restartPolicy Always). */
export function appContainers(pod: PodLike): ContainerLike[] {
  const spec = pod.spec;
  const all = [
    ...(spec?.containers ?? []),
    ...(spec?.initContainers ?? []).filter((c) => c.restartPolicy === 'Always'),
  ];
  return all.filter((c) => c && typeof c.name === 'string' && !INJECTED_CONTAINERS.has(c.name));
}

/**
 * TCP ports declared by the app's containers, one per port number (the first declaration wins:
 * containers share the pod's network). UDP/SCTP ports are not proxied. Odd declarations become
 * warnings, never errors.
 */
export function inboundPorts(pod: PodLike): { ports: InboundPort[]; warnings: string[] } {
  const ports: InboundPort[] = [];
  const warnings: string[] = [];
  const seen = new Map<number, string>();
  for (const c of appContainers(pod)) {
    for (const [i, p] of (c.ports ?? []).entries()) {
      const field = `container ${c.name} ports[${i}]`;
      const protocol = p.protocol ?? 'TCP';
      if (protocol !== 'TCP') continue;
      const port = p.containerPort;
      if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) {
        warnings.push(
          `pod ${podRef(pod)}: ${field}.containerPort ${JSON.stringify(port)} is not a port 1-65535; no inbound listener`,
        );
        continue;
      }
      if (PROXY_RESERVED_PORTS.has(port)) {
        warnings.push(
          `pod ${podRef(pod)}: ${field}.containerPort ${port} is reserved by the proxy; no inbound listener`,
        );
        continue;
      }
      const first = seen.get(port);
      if (first !== undefined) {
        if (first !== c.name) {
          warnings.push(
            `pod ${podRef(pod)}: ${field}.containerPort ${port} is also declared by container ${first}; using ${first}`,
          );
        }
        continue;
      }
      seen.set(port, c.name);
      ports.push({ container: c.name, port, protocol: portProtocol(p.name) });
    }
  }
  return { ports, warnings };
}
