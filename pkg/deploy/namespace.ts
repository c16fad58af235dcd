/** The control-plane Namespace. It is never part of a mesh: the ignore label keeps the webhook away. */
import type { V1Namespace } from '@kubernetes/client-node';
import { IGNORE_LABEL } from '../constants/index.js';
import { commonLabels, type InstallParams } from './params.js';

export function renderNamespace(p: InstallParams): V1Namespace {
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: p.fsmNamespace, labels: { ...commonLabels(p), [IGNORE_LABEL]: 'true' } },
  };
}
