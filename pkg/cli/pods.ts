import type { V1Pod } from '@kubernetes/client-node';
import { CliError, type KubeClients } from './context.js';
import { apiErrorMessage, isNotFound } from './kube-errors.js';

/** Reads a pod; a missing pod or a failed read is a CliError naming namespace/name. */
export async function readPod(clients: KubeClients, namespace: string, name: string): Promise<V1Pod> {
  try {
    return await clients.core.readNamespacedPod({ name, namespace });
  } catch (e) {
    if (isNotFound(e)) throw new CliError(`pod ${namespace}/${name} not found`);
    throw new CliError(`cannot read pod ${namespace}/${name}: ${apiErrorMessage(e)}`);
  }
}
