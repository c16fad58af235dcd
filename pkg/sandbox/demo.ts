/**
 * The demo of `make run`: namespace bookstore in the mesh (sidecar injection enabled), one
 * Deployment per probe kind with a Service each, a two-container bare pod (to show both kinds of
 * pod), one Deployment whose liveness probe fails on purpose (restarts and Unhealthy events), and
 * bookbuyer, a meshed client buying books from the bookstore-v1 Service over mTLS (its log shows the
 * answers; bookstore-v1's sidecar log shows bookbuyer's SPIFFE ID on each connection).
 */
import type {
  V1Container,
  V1Deployment,
  V1Namespace,
  V1Pod,
  V1Probe,
  V1Service,
} from '@kubernetes/client-node';
import {
  DEMO_BOOKSTORE_CLUSTER_IP,
  MONITORED_BY_LABEL,
  SANDBOX_BOOKBUYER_TARGET_ENV,
  NATIVE_SIDECAR_ANNOTATION,
  SIDECAR_INJECTION_ANNOTATION,
} from '../constants/index.js';
import { ALWAYS_FAILING_PATH_PREFIX, SANDBOX_IMAGES } from './workloads/index.js';

export const DEMO_NAMESPACE = 'bookstore';

export function demoNamespace(meshName: string): V1Namespace {
  return {
    metadata: {
      name: DEMO_NAMESPACE,
      labels: { [MONITORED_BY_LABEL]: meshName },
      annotations: {
        [SIDECAR_INJECTION_ANNOTATION]: 'enabled',
        // The demo tells the seed's story with classic sidecars; the injector gives native ones to
        // other namespaces of this 1.32 API server (see the README's probe fidelity section).
        [NATIVE_SIDECAR_ANNOTATION]: 'disabled',
      },
    },
  };
}

const fast = { periodSeconds: 2, timeoutSeconds: 1, failureThreshold: 3 } satisfies V1Probe;
const httpProbe = (port: number, path: string, more: V1Probe = {}): V1Probe => ({
  httpGet: { port, path },
  ...fast,
  ...more,
});

function deployment(name: string, containers: V1Container[], serviceAccountName?: string): V1Deployment {
  const labels = { app: name };
  return {
    metadata: { name, namespace: DEMO_NAMESPACE, labels },
    spec: {
      replicas: 1,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: { ...(serviceAccountName ? { serviceAccountName } : {}), containers },
      },
    },
  };
}

function service(name: string, port: number, clusterIP?: string): V1Service {
  return {
    metadata: { name, namespace: DEMO_NAMESPACE, labels: { app: name } },
    spec: {
      ...(clusterIP ? { clusterIP } : {}),
      selector: { app: name },
      ports: [{ name: 'app', port, targetPort: port }],
    },
  };
}

/** The demo Deployments, created through the API server (their pods go through the injector). */
export function demoDeployments(): V1Deployment[] {
  return [
    deployment('bookstore-v1', [
      {
        name: 'bookstore',
        image: `${SANDBOX_IMAGES.http}:v1`,
        ports: [{ name: 'web', containerPort: 14001 }],
        startupProbe: httpProbe(14001, '/startup', { failureThreshold: 10 }),
        livenessProbe: httpProbe(14001, '/liveness'),
        readinessProbe: httpProbe(14001, '/readiness'),
      },
    ]),
    deployment('bookstore-db', [
      {
        name: 'db',
        image: `${SANDBOX_IMAGES.tcp}:v1`,
        ports: [{ name: 'db', containerPort: 5432 }],
        livenessProbe: { tcpSocket: { port: 'db' }, ...fast },
        readinessProbe: { tcpSocket: { port: 5432 }, ...fast },
      },
    ]),
    deployment('bookstore-secure', [
      {
        name: 'secure',
        image: `${SANDBOX_IMAGES.https}:v1`,
        ports: [{ containerPort: 8443 }],
        readinessProbe: { httpGet: { port: 8443, path: '/ready', scheme: 'HTTPS' }, ...fast },
      },
    ]),
    deployment('bookstore-grpc', [
      {
        name: 'greeter',
        image: `${SANDBOX_IMAGES.grpc}:v1`,
        ports: [{ containerPort: 9000 }],
        livenessProbe: { grpc: { port: 9000 }, ...fast },
        readinessProbe: { grpc: { port: 9000, service: 'greeter' }, ...fast },
      },
    ]),
    deployment('bookstore-broken', [
      {
        name: 'bookstore',
        image: `${SANDBOX_IMAGES.http}:v1`,
        ports: [{ containerPort: 14001 }],
        // Answers 503 on purpose: the liveness probe fails, kubelet kills and restarts the container.
        livenessProbe: httpProbe(14001, `${ALWAYS_FAILING_PATH_PREFIX}/healthz`, { failureThreshold: 2 }),
        readinessProbe: httpProbe(14001, '/readiness'),
      },
    ]),
    deployment(
      'bookbuyer',
      [
        {
          name: 'bookbuyer',
          image: `${SANDBOX_IMAGES.bookbuyer}:v1`,
          env: [
            { name: SANDBOX_BOOKBUYER_TARGET_ENV, value: `http://${DEMO_BOOKSTORE_CLUSTER_IP}:14001/books/` },
          ],
        },
        // Its own identity: spiffe://cluster.local/ns/bookstore/sa/bookbuyer in bookstore's sidecar log.
      ],
      'bookbuyer',
    ),
  ];
}

export function demoServices(): V1Service[] {
  return [
    // A fixed ClusterIP: bookbuyer calls it (the sandbox has no DNS).
    service('bookstore-v1', 14001, DEMO_BOOKSTORE_CLUSTER_IP),
    service('bookstore-db', 5432),
    service('bookstore-grpc', 9000),
  ];
}

/** A bare pod (no Deployment): two containers, each with its own probes. */
export function demoPods(): V1Pod[] {
  return [
    {
      metadata: { name: 'bookstore-duo', namespace: DEMO_NAMESPACE, labels: { app: 'bookstore-duo' } },
      spec: {
        containers: [
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
        ],
      },
    },
  ];
}

/** The apps the demo expects Ready (bookstore-broken restarts on purpose and may be either). */
export const DEMO_READY_APPS = [
  'bookstore-v1',
  'bookstore-db',
  'bookstore-secure',
  'bookstore-grpc',
  'bookstore-duo',
];
