/** The fsm-controller Deployment: ADS on 15128, health/metrics on 9091, probes on /health/*. */
import type { V1Deployment } from '@kubernetes/client-node';
import {
  ADS_PORT,
  CONTROLLER_APP,
  CONTROLLER_HEALTH_PORT,
  CONTROLLER_TERMINATION_GRACE_SECONDS,
  SHUTDOWN_MARGIN_MS,
  HEALTH_ALIVE_PATH,
  HEALTH_READY_PATH,
} from '../constants/index.js';
import { commonLabels, selectorLabels, type InstallParams } from './params.js';
import { containerSecurityContext, controllerResources, podSecurityContext } from './security.js';

export const ADS_PORT_NAME = 'ads';
export const HEALTH_PORT_NAME = 'health';

export function renderControllerDeployment(p: InstallParams): V1Deployment {
  const labels = commonLabels(p, CONTROLLER_APP);
  const httpGet = (path: string): { path: string; port: number; scheme: 'HTTP' } => ({
    path,
    port: CONTROLLER_HEALTH_PORT,
    scheme: 'HTTP',
  });
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: CONTROLLER_APP, namespace: p.fsmNamespace, labels },
    spec: {
      replicas: p.controllerReplicas,
      selector: { matchLabels: selectorLabels(p, CONTROLLER_APP) },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      template: {
        metadata: { labels },
        spec: {
          serviceAccountName: CONTROLLER_APP,
          // The controller's stop budget (--shutdown-grace) is this minus SHUTDOWN_MARGIN_MS.
          terminationGracePeriodSeconds: CONTROLLER_TERMINATION_GRACE_SECONDS,
          securityContext: podSecurityContext(),
          containers: [
            {
              name: CONTROLLER_APP,
              image: p.controllerImage,
              imagePullPolicy: p.imagePullPolicy,
              args: [
                `--ads-port=${ADS_PORT}`,
                `--health-port=${CONTROLLER_HEALTH_PORT}`,
                `--mesh-name=${p.meshName}`,
                `--fsm-namespace=${p.fsmNamespace}`,
                `--trust-domain=${p.trustDomain}`,
                `--verbosity=${p.logLevel}`,
                `--shutdown-grace=${CONTROLLER_TERMINATION_GRACE_SECONDS - SHUTDOWN_MARGIN_MS / 1000}s`,
                ...(p.controllerOutOfSyncThreshold
                  ? [`--out-of-sync-threshold=${p.controllerOutOfSyncThreshold}`]
                  : []),
              ],
              ports: [
                { name: ADS_PORT_NAME, containerPort: ADS_PORT, protocol: 'TCP' },
                { name: HEALTH_PORT_NAME, containerPort: CONTROLLER_HEALTH_PORT, protocol: 'TCP' },
              ],
              startupProbe: { httpGet: httpGet(HEALTH_ALIVE_PATH), periodSeconds: 2, failureThreshold: 30 },
              livenessProbe: { httpGet: httpGet(HEALTH_ALIVE_PATH), periodSeconds: 10, failureThreshold: 3 },
              readinessProbe: { httpGet: httpGet(HEALTH_READY_PATH), periodSeconds: 5, failureThreshold: 3 },
              resources: controllerResources(),
              securityContext: containerSecurityContext(),
            },
          ],
        },
      },
    },
  };
}
