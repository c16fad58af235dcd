/**
 * Mesh identity wired to the ADS server (pkg/ads knows none of it):
 * - the ADS serving certificate, issued by the mesh CA for `fsm-controller.<fsm-namespace>.svc`
 *   (what the sidecars' bootstrap matches), and the trust bundle client certificates are checked
 *   against; both re-issued when the CA changes and renewed before expiry;
 * - the StreamAuthorizer: no client certificate → UNAUTHENTICATED at stream open; at the first
 *   request pkg/identity's authorizeProxy decides (bundle, validity, node.id = the certificate's
 *   proxy UUID, a live pod with that UUID in that namespace and service account); an authorized
 *   stream gets its workload certificate and the bundle over SDS (WorkloadCertIssuer → the node's
 *   `identity` layer of the snapshot, beside the catalog's listeners and clusters);
 * - revocation: when a pod goes, the streams of its proxy UUID end with PERMISSION_DENIED.
 */
import {
  AdsStatus,
  type AdsServer,
  type AdsStatusCode,
  type SnapshotCache,
  type StreamAuthorizer,
  type StreamVerdict,
} from '../ads/index.js';
import type { ProxyPodIndex } from '../catalog/index.js';
import type { MeshAuthority, MeshCaState, ProxyPodLookup } from '../identity/index.js';
import {
  CONTROLLER_SERVICE_NAME,
  CONTROLLER_SERVING_CERT_RENEW_BEFORE_MS,
  CONTROLLER_SERVING_CERT_VALIDITY_MS,
} from '../constants/index.js';
import { SECRET_TYPE_URL } from '../envoy/index.js';
import type { WorkloadCertIssuer } from '../identity/index.js';
import {
  authorizeProxy,
  type AuthorizationStatus,
  type MeshCaSource,
  type SecretSink,
} from '../identity/index.js';
import { errorMessage, type Logger } from '../logger/index.js';

/** The snapshot layer SDS secrets live in. */
export const IDENTITY_LAYER = 'identity';

const STATUS: Record<AuthorizationStatus, AdsStatusCode> = {
  UNAUTHENTICATED: AdsStatus.UNAUTHENTICATED,
  PERMISSION_DENIED: AdsStatus.PERMISSION_DENIED,
  UNAVAILABLE: AdsStatus.UNAVAILABLE,
};

/** The DNS name sidecars reach (and check) the controller's ADS under. */
export function controllerServerName(fsmNamespace: string): string {
  return `${CONTROLLER_SERVICE_NAME}.${fsmNamespace}.svc`;
}

/** SDS secrets → the node's identity layer of the ADS snapshot cache. */
export function snapshotSecretSink(cache: SnapshotCache): SecretSink {
  return {
    set: (node, secrets) =>
      cache.setLayer(node, IDENTITY_LAYER, {
        [SECRET_TYPE_URL]: secrets.map((s) => ({
          name: s.name,
          resource: s as unknown as Record<string, unknown>,
        })),
      }),
    clear: (node) => cache.clearLayer(node, IDENTITY_LAYER),
  };
}

/** What the authorizer reads of the mesh CA (MeshCaSource). */
export interface MeshCaView {
  readonly authority: MeshAuthority | undefined;
  readonly state: MeshCaState;
}

export class MeshStreamAuthorizer implements StreamAuthorizer {
  constructor(
    private readonly ca: MeshCaView,
    private readonly pods: ProxyPodLookup,
    private readonly issuer: WorkloadCertIssuer,
    private readonly now: () => number = Date.now,
  ) {}

  admit(peer: { clientCertificate?: Buffer }): StreamVerdict {
    if (peer.clientCertificate) return { ok: true, identity: 'presented a client certificate' };
    return {
      ok: false,
      code: AdsStatus.UNAUTHENTICATED,
      reason: "no client certificate: the ADS requires mTLS with the pod's bootstrap credential",
    };
  }

  authorize(peer: { clientCertificate?: Buffer }, node: { id: string }): StreamVerdict {
    const state = this.ca.state;
    const r = authorizeProxy({
      certificate: peer.clientCertificate,
      nodeId: node.id,
      roots: this.ca.authority?.material.roots ?? [],
      ...('problem' in state ? { caProblem: state.problem } : {}),
      pods: this.pods,
      now: this.now(),
    });
    if (!r.ok) {
      return {
        ok: false,
        code: STATUS[r.status],
        reason: r.reason,
        ...(r.presented ? { presented: r.presented } : {}),
      };
    }
    const p = r.proxy;
    const { release } = this.issuer.acquire(node.id, {
      namespace: p.namespace,
      serviceAccount: p.serviceAccount,
    });
    return { ok: true, identity: `${p.pod} (${p.namespace}/${p.serviceAccount})`, release };
  }
}

/**
 * Keeps the ADS server's TLS material current: a serving certificate from the CA (re-issued on
 * every CA change and CONTROLLER_SERVING_CERT_RENEW_BEFORE_MS before it expires) and the bundle.
 */
export class ServingCertKeeper {
  private timer: NodeJS.Timeout | undefined;
  private unwatch: (() => void) | undefined;
  private stopped = false;

  constructor(
    private readonly ca: MeshCaSource,
    private readonly ads: AdsServer,
    private readonly fsmNamespace: string,
    private readonly logger: Logger,
    private readonly validityMs = CONTROLLER_SERVING_CERT_VALIDITY_MS,
  ) {}

  /** Issues the first certificate when the CA is there (else when it comes). */
  async start(): Promise<void> {
    this.unwatch = this.ca.onChange(() => void this.issue());
    if (this.ca.authority) await this.issue();
  }

  stop(): void {
    this.stopped = true;
    this.unwatch?.();
    if (this.timer) clearTimeout(this.timer);
  }

  private async issue(): Promise<void> {
    const authority = this.ca.authority;
    if (!authority || this.stopped) return;
    try {
      const name = controllerServerName(this.fsmNamespace);
      const cert = await authority.serving([name], this.validityMs);
      this.ads.setTlsMaterial({ certPem: cert.certPem, keyPem: cert.keyPem, caPem: authority.bundlePem });
      this.logger.info('ADS serving certificate issued', {
        name,
        notAfter: new Date(cert.notAfter).toISOString(),
      });
      const renewIn = Math.max(
        1000,
        cert.notAfter - Date.now() - Math.min(CONTROLLER_SERVING_CERT_RENEW_BEFORE_MS, this.validityMs / 3),
      );
      if (this.timer) clearTimeout(this.timer);
      this.timer = setTimeout(() => void this.issue(), Math.min(renewIn, 2 ** 31 - 1));
      this.timer.unref();
    } catch (e) {
      this.logger.error('cannot issue the ADS serving certificate: retrying', { error: errorMessage(e) });
      this.timer = setTimeout(() => void this.issue(), 5000);
      this.timer.unref();
    }
  }
}

/** Ends the streams of proxies whose pod is gone (revoked by deletion). */
export function revokeOnPodGone(pods: ProxyPodIndex, ads: AdsServer): () => void {
  return pods.onGone((uuid, pod) => {
    if (pods.pod(pod.namespace, uuid)) return; // another live pod of that UUID in the namespace
    ads.revoke(
      uuid,
      AdsStatus.PERMISSION_DENIED,
      `pod ${pod.namespace}/${pod.name} is gone: its proxy credential is revoked`,
    );
  });
}
