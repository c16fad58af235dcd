/**
 * The fsm-injector Deployment: HTTPS webhook on 9090 (probes GET /healthz with scheme HTTPS),
 * metrics on 9091. The serving certificate: by default the injector keeps it in Secret
 * INJECTOR_TLS_SECRET_NAME itself (--manage-webhook-cert) and writes the pair to a memory emptyDir;
 * with cert-manager, that Secret (written by cert-manager) is mounted read-only instead. Either way
 * the injector reloads the files when they change.
 */
import type { V1Deployment, V1Volume } from '@kubernetes/client-node';
import {
  INJECTOR_APP,
  INJECTOR_HEALTHZ_PATH,
  INJECTOR_METRICS_PORT,
  INJECTOR_TLS_MOUNT_PATH,
  INJECTOR_TLS_SECRET_NAME,
  INJECTOR_WEBHOOK_PORT,
  TLS_CERT_KEY,
  TLS_KEY_KEY,
} from '../constants/index.js';
import { commonLabels, selectorLabels, type InstallParams } from './params.js';
import { containerSecurityContext, injectorResources, podSecurityContext } from './security.js';

export const WEBHOOK_PORT_NAME = 'webhook';
export const METRICS_PORT_NAME = 'metrics';
const TLS_VOLUME = 'tls';

function tlsVolume(p: InstallParams): V1Volume {
  if (p.certManager) {
    // Written by cert-manager; readable by the pod's fsGroup only.
    return { name: TLS_VOLUME, secret: { secretName: INJECTOR_TLS_SECRET_NAME, defaultMode: 0o440 } };
  }
  // --manage-webhook-cert writes the pair here: memory-backed, never on the node's disk.
  return { name: TLS_VOLUME, emptyDir: { medium: 'Memory', sizeLimit: '1Mi' } };
}

export function renderInjectorDeployment(p: InstallParams): V1Deployment {
  const labels = commonLabels(p, INJECTOR_APP);
  const httpGet = { path: INJECTOR_HEALTHZ_PATH, port: INJECTOR_WEBHOOK_PORT, scheme: 'HTTPS' as const };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: INJECTOR_APP, namespace: p.fsmNamespace, labels },
    spec: {
      replicas: p.injectorReplicas,
      selector: { matchLabels: selectorLabels(p, INJECTOR_APP) },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      template: {
        metadata: { labels },
        spec: {
          serviceAccountName: INJECTOR_APP,
          securityContext: podSecurityContext(),
          volumes: [tlsVolume(p)],
          containers: [
            {
              name: INJECTOR_APP,
              image: p.injectorImage,
              imagePullPolicy: p.imagePullPolicy,
              args: [
                `--port=${INJECTOR_WEBHOOK_PORT}`,
                `--metrics-port=${INJECTOR_METRICS_PORT}`,
                `--tls-cert-file=${INJECTOR_TLS_MOUNT_PATH}/${TLS_CERT_KEY}`,
                `--tls-key-file=${INJECTOR_TLS_MOUNT_PATH}/${TLS_KEY_KEY}`,
                ...(p.certManager ? [] : ['--manage-webhook-cert']),
                `--mesh-name=${p.meshName}`,
                `--fsm-namespace=${p.fsmNamespace}`,
                `--sidecar-image=${p.sidecarImage}`,
                `--init-image=${p.initImage}`,
                `--healthcheck-image=${p.healthcheckImage}`,
                `--verbosity=${p.logLevel}`,
              ],
              ports: [
                { name: WEBHOOK_PORT_NAME, containerPort: INJECTOR_WEBHOOK_PORT, protocol: 'TCP' },
                { name: METRICS_PORT_NAME, containerPort: INJECTOR_METRICS_PORT, protocol: 'TCP' },
              ],
              volumeMounts: [
                {
                  name: TLS_VOLUME,
                  mountPath: INJECTOR_TLS_MOUNT_PATH,
                  ...(p.certManager ? { readOnly: true } : {}),
                },
              ],
              startupProbe: { httpGet, periodSeconds: 2, failureThreshold: 30 },
              livenessProbe: { httpGet, periodSeconds: 10, failureThreshold: 3 },
              readinessProbe: { httpGet, periodSeconds: 5, failureThreshold: 3 },
              resources: injectorResources(),
              securityContext: containerSecurityContext(),
            },
          ],
        },
      },
    },
  };
}
