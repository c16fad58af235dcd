/**
 * The demo of `make run`: namespace bookstore in the mesh, one pod per probe kind, a two-container
 * pod, and one pod whose liveness probe fails on purpose (restarts and Unhealthy events).
 */
import type { V1Container, V1Namespace, V1Pod, V1Probe } from '@kubernetes/client-node';
import { MONITORED_BY_LABEL } from '../constants/index.js';
import { ALWAYS_FAILING_PATH_PREFIX, SANDBOX_IMAGES } from './workloads/index.js';

export const DEMO_NAMESPACE = 'bookstore';

export function demoNamespace(meshName: string): V1Namespace {
  return { metadata: { name: DEMO_NAMESPACE, labels: { [MONITORED_BY_LABEL]: meshName } } };
}

const fast = { periodSeconds: 2, timeoutSeconds: 1, failureThreshold: 3 } satisfies V1Probe;
const httpProbe = (port: number, path: string, more: V1Probe = {}): V1Probe => ({
  httpGet: { port, path },
  ...fast,
  ...more,
});

function pod(name: string, containers: V1Container[]): V1Pod {
  return { metadata: { name, namespace: DEMO_NAMESPACE, labels: { app: name } }, spec: { containers } };
}

/** The demo pods, created through the API server (and so through the injector). */
export function demoPods(): V1Pod[] {
  return [
    pod('bookstore-v1', [
      {
        name: 'bookstore',
        image: `${SANDBOX_IMAGES.http}:v1`,
        ports: [{ name: 'web', containerPort: 14001 }],
        startupProbe: httpProbe(14001, '/startup', { failureThreshold: 10 }),
        livenessProbe: httpProbe(14001, '/liveness'),
        readinessProbe: httpProbe(14001, '/readiness'),
      },
    ]),
    pod('bookstore-db', [
      {
        name: 'db',
        image: `${SANDBOX_IMAGES.tcp}:v1`,
        ports: [{ name: 'db', containerPort: 5432 }],
        livenessProbe: { tcpSocket: { port: 'db' }, ...fast },
        readinessProbe: { tcpSocket: { port: 5432 }, ...fast },
      },
    ]),
    pod('bookstore-secure', [
      {
        name: 'secure',
        image: `${SANDBOX_IMAGES.https}:v1`,
        ports: [{ containerPort: 8443 }],
        readinessProbe: { httpGet: { port: 8443, path: '/ready', scheme: 'HTTPS' }, ...fast },
      },
    ]),
    pod('bookstore-grpc', [
      {
        name: 'greeter',
        image: `${SANDBOX_IMAGES.grpc}:v1`,
        ports: [{ containerPort: 9000 }],
        livenessProbe: { grpc: { port: 9000 }, ...fast },
        readinessProbe: { grpc: { port: 9000, service: 'greeter' }, ...fast },
      },
    ]),
    pod('bookstore-duo', [
      {
        name: 'front',
        image: `${SANDBOX_IMAGES.http}:v1`,
        ports: [{ containerPort: 14010 }],
        livenessProbe: httpProbe(14010, '/front/healthz'),
        readinessProbe: httpProbe(14010, '/front/ready'),
      },
      {
        name: 'back',
        image: `${SANDBOX_IMAGES.http}:v1`,
        ports: [{ containerPort: 14011 }],
        livenessProbe: httpProbe(14011, '/back/healthz'),
        readinessProbe: httpProbe(14011, '/back/ready'),
      },
    ]),
    pod('bookstore-broken', [
      {
        name: 'bookstore',
        image: `${SANDBOX_IMAGES.http}:v1`,
        ports: [{ containerPort: 14001 }],
        // Answers 503 on purpose: the liveness probe fails, kubelet kills and restarts the container.
        livenessProbe: httpProbe(14001, `${ALWAYS_FAILING_PATH_PREFIX}/healthz`, { failureThreshold: 2 }),
        readinessProbe: httpProbe(14001, '/readiness'),
      },
    ]),
  ];
}
