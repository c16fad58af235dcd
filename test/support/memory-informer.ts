/** An in-memory ResourceInformer: what a synced informer's cache holds, with handlers called on set/remove. */
import type { InformerEvent, InformerHandlers, ResourceInformer } from '../../pkg/k8s/index.js';

export class MemoryInformer<
  T extends { metadata?: { name?: string; namespace?: string } },
> implements ResourceInformer<T> {
  private readonly items = new Map<string, T>();
  private readonly handlers: { [E in InformerEvent]: Set<InformerHandlers<T>[E]> } = {
    add: new Set(),
    update: new Set(),
    delete: new Set(),
    synced: new Set(),
    error: new Set(),
  };

  set(obj: T): void {
    const key = `${obj.metadata?.namespace ?? ''}/${obj.metadata?.name}`;
    const old = this.items.get(key);
    this.items.set(key, obj);
    if (old) for (const h of this.handlers.update) h(obj, old);
    else for (const h of this.handlers.add) h(obj);
  }
  remove(name: string, namespace = ''): void {
    const old = this.items.get(`${namespace}/${name}`);
    this.items.delete(`${namespace}/${name}`);
    if (old) for (const h of this.handlers.delete) h(old);
  }
  async start(): Promise<void> {}
  async stop(): Promise<void> {}
  get(name: string, namespace = ''): T | undefined {
    return this.items.get(`${namespace}/${name}`);
  }
  list(namespace?: string): T[] {
    return [...this.items.values()].filter(
      (o) => namespace === undefined || o.metadata?.namespace === namespace,
    );
  }
  hasSynced(): boolean {
    return true;
  }
  async waitForSync(): Promise<void> {}
  on<E extends InformerEvent>(e: E, h: InformerHandlers<T>[E]): void {
    (this.handlers[e] as Set<InformerHandlers<T>[E]>).add(h);
  }
  off<E extends InformerEvent>(e: E, h: InformerHandlers<T>[E]): void {
    (this.handlers[e] as Set<InformerHandlers<T>[E]>).delete(h);
  }
  outOfSyncMs(): number {
    return 0;
  }
  restartCount(): number {
    return 0;
  }
  stats() {
    return {
      synced: true,
      restarts: 0,
      outOfSyncMs: 0,
      resourceVersion: '1',
      watching: true,
      objects: this.items.size,
    };
  }
}
