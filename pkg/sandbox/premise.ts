/**
 * The seed's premise as pods (namespace mode's demo, namespace `premise`, in the mesh with classic
 * sidecars): the same two apps with and without the probe-rewrite opt-out.
 * - `optout-http` / `rewritten-http`: an HTTP app whose liveness probe is an httpGet on its own port.
 *   Opted out, kubelet's plaintext probe is captured by fsm-init's rules and meets the sidecar on the
 *   app port (which requires mTLS from the mesh); rewritten, it goes to the sidecar's plaintext probe
 *   listener 15901.
 * - `optout-tcp` / `rewritten-tcp`: the same app, with a tcpSocket readiness probe on a port nothing
 *   listens on. Opted out, the sidecar accepts every captured connection: Ready ("all ports appear
 *   open"); rewritten, fsm-healthcheck dials the port on localhost and answers 503: truthfully not ready.
 * Loopback mode has no capture, so these pods would show nothing there: they are created in namespace mode.
 */
import type { V1Namespace, V1Pod, V1Probe } from '@kubernetes/client-node';
import {
  MONITORED_BY_LABEL,
  NATIVE_SIDECAR_ANNOTATION,
  PROBE_REWRITE_ANNOTATION,
  PROBE_REWRITE_DISABLED_VALUE,
  SIDECAR_INJECTION_ANNOTATION,
} from '../constants/index.js';
import { SANDBOX_IMAGES } from './workloads/index.js';

export const PREMISE_NAMESPACE = 'premise';
/** The app's port, and the port the tcpSocket probe names where nothing listens. */
export const PREMISE_APP_PORT = 14001;
export const PREMISE_CLOSED_PORT = 5433;
export const PREMISE_PODS = ['optout-http', 'optout-tcp', 'rewritten-http', 'rewritten-tcp'] as const;

export function premiseNamespace(meshName: string): V1Namespace {
  return {
    metadata: {
      name: PREMISE_NAMESPACE,
      labels: { [MONITORED_BY_LABEL]: meshName },
      annotations: { [SIDECAR_INJECTION_ANNOTATION]: 'enabled', [NATIVE_SIDECAR_ANNOTATION]: 'disabled' },
    },
  };
}

const timing = { periodSeconds: 2, timeoutSeconds: 1, failureThreshold: 3 } satisfies V1Probe;

function pod(name: (typeof PREMISE_PODS)[number]): V1Pod {
  const optOut = name.startsWith('optout-');
  const http = name.endsWith('-http');
  return {
    metadata: {
      name,
      namespace: PREMISE_NAMESPACE,
      labels: { app: name },
      ...(optOut ? { annotations: { [PROBE_REWRITE_ANNOTATION]: PROBE_REWRITE_DISABLED_VALUE } } : {}),
    },
    spec: {
      containers: [
        {
          name: 'app',
          image: `${SANDBOX_IMAGES.http}:v1`,
          ports: [{ name: 'web', containerPort: PREMISE_APP_PORT }],
          ...(http
            ? { livenessProbe: { httpGet: { port: PREMISE_APP_PORT, path: '/liveness' }, ...timing } }
            : { readinessProbe: { tcpSocket: { port: PREMISE_CLOSED_PORT }, ...timing } }),
        },
      ],
    },
  };
}

/** The four pods of the premise. */
export function premisePods(): V1Pod[] {
  return PREMISE_PODS.map(pod);
}
