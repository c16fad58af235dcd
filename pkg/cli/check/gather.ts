/**
 * Gathering the facts `fsm check probes` judges: the pod, its namespace, its events, the control
 * plane's namespace and pods (API server), and the pod's proxy config (controller). Failures to read
 * the controller become an answer the checks report; failures to read the API server are errors.
 */
import type { V1Namespace } from '@kubernetes/client-node';
import { parseDuration } from '../../binary/index.js';
import { APP_LABEL, CONTROLLER_APP, INJECTOR_APP } from '../../constants/index.js';
import { proxyIdentity } from '../../catalog/index.js';
import { errorMessage } from '../../logger/index.js';
import { CliError, type KubeClients } from '../context.js';
import { ControllerError, proxyDebugPath } from '../controller.js';
import { controllerViaApiServer } from '../controller-port-forward.js';
import type { ControllerClient } from '../controller.js';
import { apiErrorMessage, isNotFound } from '../kube-errors.js';
import { readPod } from '../pods.js';
import { evaluateProbeChecks } from './checks.js';
import type { ControllerAnswer, ProbeCheckInput, ProbeCheckReport } from './types.js';

export const DEFAULT_EVENTS_SINCE = '1h';

export interface CheckProbesOptions {
  namespace: string;
  pod: string;
  mesh: string;
  fsmNamespace: string;
  /** Talks to the controller; undefined → through the API server's service proxy. */
  controller?: ControllerClient;
  eventsSince?: string;
  now?: Date;
}

/** Reads the pod, its namespace, events, the control plane and the controller's config. */
export async function gatherProbeCheckInput(
  clients: KubeClients,
  opts: CheckProbesOptions,
): Promise<ProbeCheckInput> {
  const { namespace, pod: name } = opts;
  const pod = await readPod(clients, namespace, name);
  const readNs = async (n: string): Promise<V1Namespace | undefined> => {
    try {
      return await clients.core.readNamespace({ name: n });
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw new CliError(`cannot read namespace ${n}: ${apiErrorMessage(e)}`);
    }
  };
  const sinceText = opts.eventsSince ?? DEFAULT_EVENTS_SINCE;
  const [podNamespace, fsmNamespaceObject, events, controlPlanePods] = await Promise.all([
    readNs(namespace),
    readNs(opts.fsmNamespace),
    clients.core
      .listNamespacedEvent({ namespace, fieldSelector: `involvedObject.name=${name}` })
      .then((l) => l.items)
      .catch((e: unknown) => {
        throw new CliError(`cannot list events of pod ${namespace}/${name}: ${apiErrorMessage(e)}`);
      }),
    clients.core
      .listNamespacedPod({
        namespace: opts.fsmNamespace,
        labelSelector: `${APP_LABEL} in (${CONTROLLER_APP},${INJECTOR_APP})`,
      })
      .then((l) => l.items)
      .catch((e: unknown) => {
        throw new CliError(
          `cannot list control-plane pods in namespace ${opts.fsmNamespace}: ${apiErrorMessage(e)}`,
        );
      }),
  ]);
  const id = proxyIdentity(pod);
  let controller: ControllerAnswer;
  if (!id.isProxy) controller = { notAsked: 'pod has no sidecar' };
  else {
    const client = opts.controller ?? controllerViaApiServer(clients.kc, opts.fsmNamespace);
    try {
      controller = { config: await client.getJson(proxyDebugPath(namespace, name)) };
    } catch (e) {
      controller =
        e instanceof ControllerError
          ? {
              error: e.message,
              where: client.where,
              ...(e.status !== undefined ? { status: e.status } : {}),
              ...(e.apiServer ? { apiServer: true } : {}),
            }
          : { error: errorMessage(e), where: client.where };
    }
  }
  return {
    pod,
    podNamespace,
    mesh: opts.mesh,
    fsmNamespace: opts.fsmNamespace,
    fsmNamespaceObject,
    controlPlanePods,
    events,
    controller,
    now: opts.now ?? new Date(),
    eventsSinceMs: parseDuration(sinceText),
    eventsSince: sinceText,
  };
}

/** Gathers the facts and judges them. */
export async function checkProbes(clients: KubeClients, opts: CheckProbesOptions): Promise<ProbeCheckReport> {
  return evaluateProbeChecks(await gatherProbeCheckInput(clients, opts));
}
