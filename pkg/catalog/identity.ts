/** Pod → proxy identity: a pod is a proxy when the injector labelled it with a proxy UUID. */
import { PROXY_UUID_LABEL } from '../constants/index.js';
import type { PodLike } from './pod.js';
import { podRef } from './pod.js';

/** Who a sidecar is. `uuid` equals the Envoy node.id the sidecar presents on its ADS stream. */
export interface ProxyIdentity {
  uuid: string;
  namespace: string;
  /** Pod name. */
  name: string;
  serviceAccount: string;
  /** Pod UID when the pod has one (distinguishes a re-created pod of the same name). */
  podUid?: string;
}

export type ProxyIdentityResult =
  { isProxy: true; proxy: ProxyIdentity } | { isProxy: false; reason: string };

/** Kubernetes uses this account when spec.serviceAccountName is empty. */
export const DEFAULT_SERVICE_ACCOUNT = 'default';

/**
 * The proxy identity of a pod, or why it is not a proxy. Mesh membership of the namespace is the
 * caller's concern (pkg/k8s); this looks at the pod alone. Never throws.
 */
export function proxyIdentity(pod: PodLike): ProxyIdentityResult {
  const meta = pod.metadata;
  const ref = podRef(pod);
  if (!meta?.name) return { isProxy: false, reason: `pod ${ref}: metadata.name is missing` };
  if (!meta.namespace) return { isProxy: false, reason: `pod ${ref}: metadata.namespace is missing` };
  const uuid = meta.labels?.[PROXY_UUID_LABEL];
  if (uuid === undefined) return { isProxy: false, reason: `pod ${ref}: no ${PROXY_UUID_LABEL} label` };
  if (typeof uuid !== 'string' || uuid.trim() === '') {
    return { isProxy: false, reason: `pod ${ref}: label ${PROXY_UUID_LABEL} is empty` };
  }
  if (pod.spec?.hostNetwork === true) {
    // The injector never injects these; a copied label must not make the host's network a proxy.
    return { isProxy: false, reason: `pod ${ref}: spec.hostNetwork is true (never injected)` };
  }
  const proxy: ProxyIdentity = {
    uuid,
    namespace: meta.namespace,
    name: meta.name,
    serviceAccount: pod.spec?.serviceAccountName || DEFAULT_SERVICE_ACCOUNT,
  };
  if (meta.uid) proxy.podUid = meta.uid;
  return { isProxy: true, proxy };
}
