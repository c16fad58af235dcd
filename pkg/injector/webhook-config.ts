/**
 * The MutatingWebhookConfiguration that routes pod creations to fsm-injector (for deploy/, the
 * sandbox and the CLI). sideEffects NoneOnDryRun: an admission creates the pod's bootstrap credential
 * Secret, a dryRun admission creates nothing.
 * The namespaceSelector pre-filters on monitored-by=<mesh> and no ignore label; the webhook checks
 * both again (and the injection annotations) itself. reinvocationPolicy IfNeeded: a pod changed by a
 * later webhook comes back for a second pass.
 */
import {
  IGNORE_LABEL,
  INJECTOR_SERVICE_NAME,
  INJECTOR_WEBHOOK_PORT,
  MONITORED_BY_LABEL,
  WEBHOOK_CONFIGURATION_NAME,
  WEBHOOK_MUTATE_PATH,
} from '../constants/index.js';

export interface WebhookConfigOptions {
  meshName: string;
  fsmNamespace: string;
  /**
   * PEM of the CA that signed the webhook's serving certificate. Omitted: no caBundle is rendered
   * (cert-manager's CA injector fills it in).
   */
  caPem?: string;
  /** A URL (e.g. https://127.0.0.1:9090/mutate-pod-creation); default: the fsm-injector Service. */
  url?: string;
  /** Fail (default): pods are not created while the webhook is down. Ignore: created uninjected. */
  failurePolicy?: 'Fail' | 'Ignore';
  timeoutSeconds?: number;
  /** Default `fsm-injector` (one configuration per mesh: pass `fsm-injector-<mesh>`). */
  name?: string;
}

export function mutatingWebhookConfiguration(opts: WebhookConfigOptions): Record<string, unknown> {
  const clientConfig: Record<string, unknown> = {
    ...(opts.caPem !== undefined ? { caBundle: Buffer.from(opts.caPem).toString('base64') } : {}),
    ...(opts.url !== undefined
      ? { url: opts.url }
      : {
          service: {
            namespace: opts.fsmNamespace,
            name: INJECTOR_SERVICE_NAME,
            port: INJECTOR_WEBHOOK_PORT,
            path: WEBHOOK_MUTATE_PATH,
          },
        }),
  };
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'MutatingWebhookConfiguration',
    metadata: { name: opts.name ?? WEBHOOK_CONFIGURATION_NAME, labels: { meshName: opts.meshName } },
    webhooks: [
      {
        name: `${INJECTOR_SERVICE_NAME}.${opts.meshName}.flomesh.io`,
        clientConfig,
        rules: [
          {
            apiGroups: [''],
            apiVersions: ['v1'],
            operations: ['CREATE'],
            resources: ['pods'],
            scope: 'Namespaced',
          },
        ],
        namespaceSelector: {
          matchLabels: { [MONITORED_BY_LABEL]: opts.meshName },
          matchExpressions: [{ key: IGNORE_LABEL, operator: 'DoesNotExist' }],
        },
        failurePolicy: opts.failurePolicy ?? 'Fail',
        sideEffects: 'NoneOnDryRun',
        admissionReviewVersions: ['v1'],
        timeoutSeconds: opts.timeoutSeconds ?? 10,
        // Another webhook may add containers (and probes, hooks) after fsm's: the API server calls
        // fsm again, and the second pass rewrites only what is new (see ./reinvocation.ts).
        reinvocationPolicy: 'IfNeeded',
      },
    ],
  };
}
