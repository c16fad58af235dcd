/**
 * The CLI's KubeConfig from the global --kubeconfig / --context flags, through pkg/k8s
 * (--kubeconfig, then $KUBECONFIG, then ~/.kube/config, then in-cluster; errors say what was tried).
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { loadKubeConfig } from '../k8s/index.js';
import type { GlobalOptions } from './context.js';

export type KubeConfigLoader = (opts: GlobalOptions) => KubeConfig;

export const loadCliKubeConfig: KubeConfigLoader = (opts) =>
  loadKubeConfig({
    ...(opts.kubeconfig !== undefined ? { kubeconfig: opts.kubeconfig } : {}),
    ...(opts.context !== undefined ? { context: opts.context } : {}),
  });
