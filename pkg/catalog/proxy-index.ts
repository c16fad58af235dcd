/**
 * Pods by proxy UUID, kept from the pod informer's events: what ADS authorization and the
 * bootstrap credential sweep ask ("is there a live pod with proxy UUID U in namespace N, and which
 * service account does it run as?"). A pod that goes away (deleted, or its UUID label changed) is
 * reported to `onGone`, so its streams can be ended at once (revoked by deletion).
 */
import type { V1Pod } from '@kubernetes/client-node';
import type { ResourceInformer } from '../k8s/index.js';
import { proxyIdentity } from './identity.js';

export interface IndexedProxyPod {
  namespace: string;
  name: string;
  serviceAccount: string;
  deleting: boolean;
}

export type ProxyGoneListener = (uuid: string, pod: IndexedProxyPod) => void;

function keyOf(p: V1Pod): string {
  return `${p.metadata?.namespace ?? ''}/${p.metadata?.name ?? ''}`;
}

export class ProxyPodIndex {
  private readonly byUuid = new Map<string, Map<string, IndexedProxyPod>>();
  /** pod key → the UUID it was indexed under. */
  private readonly uuidOf = new Map<string, string>();
  private readonly gone = new Set<ProxyGoneListener>();

  constructor(private readonly pods: ResourceInformer<V1Pod>) {
    pods.on('add', (p) => this.put(p));
    pods.on('update', (p) => this.put(p));
    pods.on('delete', (p) => this.remove(keyOf(p)));
  }

  synced(): boolean {
    return this.pods.hasSynced();
  }

  byProxyUuid(uuid: string): IndexedProxyPod[] {
    return [...(this.byUuid.get(uuid)?.values() ?? [])];
  }

  /** The live pod with this UUID in this namespace, or undefined. */
  pod(namespace: string, uuid: string): IndexedProxyPod | undefined {
    return this.byProxyUuid(uuid).find((p) => p.namespace === namespace && !p.deleting);
  }

  onGone(listener: ProxyGoneListener): () => void {
    this.gone.add(listener);
    return () => this.gone.delete(listener);
  }

  get size(): number {
    return this.uuidOf.size;
  }

  private put(p: V1Pod): void {
    const key = keyOf(p);
    const id = proxyIdentity(p);
    if (!id.isProxy) {
      this.remove(key);
      return;
    }
    const prev = this.uuidOf.get(key);
    if (prev !== undefined && prev !== id.proxy.uuid) this.remove(key);
    const entry: IndexedProxyPod = {
      namespace: id.proxy.namespace,
      name: id.proxy.name,
      serviceAccount: id.proxy.serviceAccount,
      deleting: Boolean(p.metadata?.deletionTimestamp),
    };
    let m = this.byUuid.get(id.proxy.uuid);
    if (!m) this.byUuid.set(id.proxy.uuid, (m = new Map()));
    const before = m.get(key);
    m.set(key, entry);
    this.uuidOf.set(key, id.proxy.uuid);
    // A pod being deleted, or whose service account changed, no longer backs the streams it had.
    if (before && ((entry.deleting && !before.deleting) || before.serviceAccount !== entry.serviceAccount)) {
      for (const l of [...this.gone]) l(id.proxy.uuid, before);
    }
  }

  private remove(key: string): void {
    const uuid = this.uuidOf.get(key);
    if (uuid === undefined) return;
    this.uuidOf.delete(key);
    const m = this.byUuid.get(uuid);
    const entry = m?.get(key);
    m?.delete(key);
    if (m && m.size === 0) this.byUuid.delete(uuid);
    if (entry) for (const l of [...this.gone]) l(uuid, entry);
  }
}
