/**
 * Who may read a proxy's configuration: the ADS stream authorization, as a pure function of the
 * presented client certificate, the node.id of the stream's first request, the trust bundle and
 * the pods the controller knows. The ADS engine (pkg/ads) calls it through its StreamAuthorizer
 * interface before a single configuration byte is sent.
 *
 *   no CA loaded                                  → UNAVAILABLE (retry later)
 *   no / unparsable / untrusted / expired /
 *     not-yet-valid / non-bootstrap certificate   → UNAUTHENTICATED, naming the certificate and why
 *   node.id ≠ the certificate's proxy UUID        → PERMISSION_DENIED (pod A's credential, node.id of B)
 *   pod cache not synced                          → UNAVAILABLE (a controller just restarted)
 *   no pod with that UUID in that namespace,
 *     pod being deleted, other service account   → PERMISSION_DENIED (revoked by deletion, mismatch)
 */
import type { X509Certificate } from 'node:crypto';
import { verifyBootstrapCertificate, type BootstrapIdentity } from './bootstrap-cert.js';

export interface ProxyPod {
  namespace: string;
  name: string;
  serviceAccount: string;
  /** metadata.deletionTimestamp is set. */
  deleting: boolean;
}

/** The controller's pods by proxy UUID label. */
export interface ProxyPodLookup {
  synced(): boolean;
  byProxyUuid(uuid: string): readonly ProxyPod[];
}

export type AuthorizationStatus = 'UNAUTHENTICATED' | 'PERMISSION_DENIED' | 'UNAVAILABLE';

export interface AuthorizedProxy extends BootstrapIdentity {
  /** `<namespace>/<pod name>`. */
  pod: string;
  /** When the presented certificate expires (ms since the epoch). */
  certificateNotAfter: number;
}

export type ProxyAuthorization =
  | { ok: true; proxy: AuthorizedProxy }
  | {
      ok: false;
      status: AuthorizationStatus;
      reason: string;
      /** Who the certificate names, for logs. */ presented?: string;
    };

export interface AuthorizeInput {
  /** DER of the client certificate presented in the TLS handshake (proof of possession done by TLS). */
  certificate: Uint8Array | undefined;
  nodeId: string;
  /** The mesh trust bundle; empty while the CA is unavailable. */
  roots: readonly X509Certificate[];
  caProblem?: string;
  pods: ProxyPodLookup;
  now: number;
}

export function authorizeProxy(input: AuthorizeInput): ProxyAuthorization {
  if (input.roots.length === 0) {
    return {
      ok: false,
      status: 'UNAVAILABLE',
      reason: `the mesh CA is not available: ${input.caProblem ?? 'not loaded yet'}`,
    };
  }
  const v = verifyBootstrapCertificate(input.certificate, input.roots, input.now);
  if (!v.ok) return { ok: false, status: 'UNAUTHENTICATED', reason: v.reason };
  const id = v.identity;
  const presented = `${id.proxyUuid}.${id.kind}.${id.serviceAccount}.${id.namespace}`;
  if (input.nodeId !== id.proxyUuid) {
    return {
      ok: false,
      status: 'PERMISSION_DENIED',
      presented,
      reason: `node.id ${JSON.stringify(input.nodeId)} is not the proxy UUID of the client certificate (CN=${presented})`,
    };
  }
  if (!input.pods.synced()) {
    return {
      ok: false,
      status: 'UNAVAILABLE',
      presented,
      reason: 'the controller has not listed the pods yet: retry',
    };
  }
  const pods = input.pods.byProxyUuid(id.proxyUuid).filter((p) => p.namespace === id.namespace);
  if (pods.length === 0) {
    return {
      ok: false,
      status: 'PERMISSION_DENIED',
      presented,
      reason: `no pod with proxy UUID ${id.proxyUuid} in namespace ${id.namespace} (deleted, or never created)`,
    };
  }
  const live = pods.filter((p) => !p.deleting);
  if (live.length === 0) {
    return {
      ok: false,
      status: 'PERMISSION_DENIED',
      presented,
      reason: `pod ${id.namespace}/${pods[0]!.name} is being deleted`,
    };
  }
  const pod = live.find((p) => p.serviceAccount === id.serviceAccount);
  if (!pod) {
    return {
      ok: false,
      status: 'PERMISSION_DENIED',
      presented,
      reason: `pod ${id.namespace}/${live[0]!.name} runs as service account ${live[0]!.serviceAccount}, the client certificate names ${id.serviceAccount}`,
    };
  }
  return { ok: true, proxy: { ...id, pod: `${pod.namespace}/${pod.name}`, certificateNotAfter: v.notAfter } };
}
