/**
 * The MutatingWebhookConfiguration of one mesh: pkg/injector's configuration (CREATE pods,
 * failurePolicy Fail, sideEffects NoneOnDryRun, monitored-by=<mesh>, no ignore label) plus one expression
 * that keeps the control-plane and system namespaces out whatever their labels say.
 */
import type { V1LabelSelectorRequirement, V1MutatingWebhookConfiguration } from '@kubernetes/client-node';
import {
  CERT_MANAGER_INJECT_CA_FROM_ANNOTATION,
  INJECTOR_APP,
  NAMESPACE_NAME_LABEL,
  SYSTEM_NAMESPACES,
  WEBHOOK_CONFIGURATION_NAME,
} from '../constants/index.js';
import { mutatingWebhookConfiguration } from '../injector/index.js';
import { injectCaFrom } from './cert-manager.js';
import { commonLabels, type InstallParams } from './params.js';

export const WEBHOOK_TIMEOUT_SECONDS = 10;

/** `fsm-injector-<mesh>`: one configuration per mesh. */
export function webhookConfigurationName(p: Pick<InstallParams, 'meshName'>): string {
  return `${WEBHOOK_CONFIGURATION_NAME}-${p.meshName}`;
}

/** Namespaces the webhook never sees: the mesh's own control plane and Kubernetes' system namespaces. */
export function excludedNamespaces(p: InstallParams): string[] {
  return [p.fsmNamespace, ...SYSTEM_NAMESPACES.filter((n) => n !== p.fsmNamespace)];
}

/**
 * With cert-manager (`p.certManager`) the caBundle is left out and the configuration carries
 * cert-manager.io/inject-ca-from instead; otherwise `caPem` is the CA of the injector's Secret.
 */
export function renderWebhookConfiguration(
  p: InstallParams,
  caPem: string | undefined,
): V1MutatingWebhookConfiguration {
  if (!p.certManager && caPem === undefined)
    throw new Error('the webhook CA (caPem) is required when cert-manager does not inject it');
  const cfg = mutatingWebhookConfiguration({
    meshName: p.meshName,
    fsmNamespace: p.fsmNamespace,
    ...(p.certManager ? {} : { caPem }),
    name: webhookConfigurationName(p),
    failurePolicy: 'Fail',
    timeoutSeconds: WEBHOOK_TIMEOUT_SECONDS,
  }) as unknown as V1MutatingWebhookConfiguration;
  const exclude: V1LabelSelectorRequirement = {
    key: NAMESPACE_NAME_LABEL,
    operator: 'NotIn',
    values: excludedNamespaces(p),
  };
  return {
    ...cfg,
    metadata: {
      ...cfg.metadata,
      labels: { ...cfg.metadata?.labels, ...commonLabels(p, INJECTOR_APP) },
      ...(p.certManager
        ? { annotations: { [CERT_MANAGER_INJECT_CA_FROM_ANNOTATION]: injectCaFrom(p) } }
        : {}),
    },
    webhooks: (cfg.webhooks ?? []).map((w) => ({
      ...w,
      namespaceSelector: {
        ...w.namespaceSelector,
        matchExpressions: [...(w.namespaceSelector?.matchExpressions ?? []), exclude],
      },
    })),
  };
}
