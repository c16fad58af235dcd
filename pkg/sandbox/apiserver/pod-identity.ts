/**
 * Who a request comes from, beyond the admin token: tokens the node issues for a pod (its
 * service account's API access, see the node agent), so the server knows which pod is calling.
 * A pod annotated sandbox.flomesh.io/cut-off-apiserver=true is cut off: its open connections are
 * destroyed and every new request of its token is dropped without an answer (a network cut as the
 * pod would see it), until the annotation goes. A deleted pod's tokens are revoked.
 */
import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import type { Store } from './store.js';

export const CUT_OFF_ANNOTATION = 'sandbox.flomesh.io/cut-off-apiserver';

export interface PodIdentity {
  namespace: string;
  pod: string;
  uid: string;
  serviceAccount: string;
}

export class PodIdentities {
  private readonly byToken = new Map<string, PodIdentity>();
  private readonly sockets = new Map<string, Set<Socket>>();

  constructor(private readonly store: Store) {
    store.watch('pods', store.resourceVersion, (ev) => {
      const uid = String(ev.object.metadata['uid'] ?? '');
      if (ev.type === 'DELETED') this.revoke(uid);
      else if (this.isCutOff(ev.object.metadata)) this.disconnect(uid);
    });
  }

  /** A token for the pod; every request carrying it is the pod's. */
  issue(id: PodIdentity): string {
    const token = `sandbox-pod.${randomBytes(24).toString('hex')}`;
    this.byToken.set(token, id);
    return token;
  }

  lookup(authorization: string | undefined): PodIdentity | undefined {
    if (!authorization?.startsWith('Bearer ')) return undefined;
    return this.byToken.get(authorization.slice('Bearer '.length));
  }

  /** Remembers the connection of a pod's request; true when the pod is cut off (drop it). */
  admit(id: PodIdentity, socket: Socket): boolean {
    const pod = this.store.get('pods', id.namespace, id.pod);
    if (pod && pod.metadata['uid'] === id.uid && this.isCutOff(pod.metadata)) return true;
    let set = this.sockets.get(id.uid);
    if (!set) {
      set = new Set();
      this.sockets.set(id.uid, set);
    }
    if (!set.has(socket)) {
      set.add(socket);
      socket.once('close', () => set.delete(socket));
    }
    return false;
  }

  private isCutOff(md: Record<string, unknown>): boolean {
    const a = md['annotations'] as Record<string, string> | undefined;
    return a?.[CUT_OFF_ANNOTATION] === 'true';
  }

  private disconnect(uid: string): void {
    for (const s of this.sockets.get(uid) ?? []) s.destroy();
  }

  private revoke(uid: string): void {
    for (const [t, id] of this.byToken) if (id.uid === uid) this.byToken.delete(t);
    this.disconnect(uid);
    this.sockets.delete(uid);
  }
}
