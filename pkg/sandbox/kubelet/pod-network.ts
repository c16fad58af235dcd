/**
 * A pod's network as the node agent hands it out: loopback mode (an address 127.0.x.y of this
 * machine, AddressPool) or namespace mode (a network namespace on the node's bridge, ClusterNetwork).
 * The node network (`node`) is how the node agent reaches pods either way: probes, hooks.
 */
import { loopbackNetwork, type ClusterNetwork, type NodeNetwork } from '../netns/index.js';
import { AddressPool } from './addresses.js';

export interface PodAddress {
  ip: string;
  /** Namespace mode: the pod's network namespace. */
  netns?: string;
  /** Namespace mode: a short directory of the sandbox's own for this pod (the sidecar's status socket). */
  runDir?: string;
  /** Namespace mode: the index naming the pod's namespace. */
  n?: number;
}

export interface PodNetworkProvider {
  readonly node: NodeNetwork;
  /** The node's address (status.hostIP). */
  readonly hostIP: string;
  /** The API server's URL as pods reach it (undefined: the API server's own URL). */
  readonly podApiServer?: string;
  allocate(): Promise<PodAddress>;
  release(a: PodAddress): Promise<void>;
}

export function loopbackPods(blocks?: { first: number; last: number }): PodNetworkProvider {
  const pool = new AddressPool(blocks?.first, blocks?.last);
  return {
    node: loopbackNetwork,
    hostIP: '127.0.0.1',
    allocate: () => Promise.resolve({ ip: pool.allocate() }),
    release: (a) => {
      pool.release(a.ip);
      return Promise.resolve();
    },
  };
}

export function namespacePods(cluster: ClusterNetwork, apiPort: number): PodNetworkProvider {
  return {
    node: cluster.network,
    hostIP: cluster.nodeIP,
    podApiServer: cluster.apiServerUrl(apiPort),
    allocate: async () => {
      const p = await cluster.addPod();
      return { ip: p.ip, netns: p.namespace, n: p.n, runDir: cluster.podRunDir(p) };
    },
    release: (a) =>
      a.netns && a.n !== undefined
        ? cluster.removePod({ ip: a.ip, namespace: a.netns, n: a.n })
        : Promise.resolve(),
  };
}
