/** Pod and container security settings and resources shared by the control-plane Deployments. */
import type {
  V1PodSecurityContext,
  V1ResourceRequirements,
  V1SecurityContext,
} from '@kubernetes/client-node';
import { NON_ROOT_UID } from '../constants/index.js';

export function podSecurityContext(): V1PodSecurityContext {
  return {
    runAsNonRoot: true,
    runAsUser: NON_ROOT_UID,
    runAsGroup: NON_ROOT_UID,
    fsGroup: NON_ROOT_UID,
    seccompProfile: { type: 'RuntimeDefault' },
  };
}

export function containerSecurityContext(): V1SecurityContext {
  return {
    runAsNonRoot: true,
    runAsUser: NON_ROOT_UID,
    readOnlyRootFilesystem: true,
    allowPrivilegeEscalation: false,
    privileged: false,
    capabilities: { drop: ['ALL'] },
  };
}

/** Node control-plane processes: small requests, a memory limit that covers the informer caches. */
export function controllerResources(): V1ResourceRequirements {
  return { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '1', memory: '512Mi' } };
}

export function injectorResources(): V1ResourceRequirements {
  return { requests: { cpu: '50m', memory: '64Mi' }, limits: { cpu: '500m', memory: '256Mi' } };
}
