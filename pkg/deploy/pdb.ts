/**
 * PodDisruptionBudgets: at most one pod of each app down at a time during voluntary disruptions
 * (maxUnavailable 1 keeps node drains possible with a single replica).
 */
import type { V1PodDisruptionBudget } from '@kubernetes/client-node';
import { CONTROLLER_APP, INJECTOR_APP } from '../constants/index.js';
import { commonLabels, selectorLabels, type InstallParams } from './params.js';

export function renderPodDisruptionBudgets(p: InstallParams): V1PodDisruptionBudget[] {
  return [CONTROLLER_APP, INJECTOR_APP].map((app) => ({
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: { name: app, namespace: p.fsmNamespace, labels: commonLabels(p, app) },
    spec: { maxUnavailable: 1, selector: { matchLabels: selectorLabels(p, app) } },
  }));
}
