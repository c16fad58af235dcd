/** ClusterIP Services: fsm-controller (ADS for sidecars, health/metrics) and fsm-injector (webhook). */
import type { V1Service } from '@kubernetes/client-node';
import {
  ADS_PORT,
  CONTROLLER_APP,
  CONTROLLER_HEALTH_PORT,
  CONTROLLER_SERVICE_NAME,
  INJECTOR_APP,
  INJECTOR_METRICS_PORT,
  INJECTOR_SERVICE_NAME,
  INJECTOR_WEBHOOK_PORT,
} from '../constants/index.js';
import { ADS_PORT_NAME, HEALTH_PORT_NAME } from './controller.js';
import { METRICS_PORT_NAME, WEBHOOK_PORT_NAME } from './injector.js';
import { commonLabels, selectorLabels, type InstallParams } from './params.js';

export function renderServices(p: InstallParams): V1Service[] {
  return [
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: {
        name: CONTROLLER_SERVICE_NAME,
        namespace: p.fsmNamespace,
        labels: commonLabels(p, CONTROLLER_APP),
      },
      spec: {
        type: 'ClusterIP',
        selector: selectorLabels(p, CONTROLLER_APP),
        ports: [
          {
            name: ADS_PORT_NAME,
            port: ADS_PORT,
            targetPort: ADS_PORT_NAME,
            protocol: 'TCP',
            appProtocol: 'grpc',
          },
          {
            name: HEALTH_PORT_NAME,
            port: CONTROLLER_HEALTH_PORT,
            targetPort: HEALTH_PORT_NAME,
            protocol: 'TCP',
          },
        ],
      },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: {
        name: INJECTOR_SERVICE_NAME,
        namespace: p.fsmNamespace,
        labels: commonLabels(p, INJECTOR_APP),
      },
      spec: {
        type: 'ClusterIP',
        selector: selectorLabels(p, INJECTOR_APP),
        ports: [
          {
            name: WEBHOOK_PORT_NAME,
            port: INJECTOR_WEBHOOK_PORT,
            targetPort: WEBHOOK_PORT_NAME,
            protocol: 'TCP',
          },
          {
            name: METRICS_PORT_NAME,
            port: INJECTOR_METRICS_PORT,
            targetPort: METRICS_PORT_NAME,
            protocol: 'TCP',
          },
        ],
      },
    },
  ];
}
