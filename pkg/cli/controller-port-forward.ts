/**
 * Reaching the controller's :9091 through a pod port-forward, as istioctl reaches istiod's debug
 * port: the controller answers /debug only to loopback peers (it describes every proxy of the
 * mesh), and a port-forward arrives on the pod's own loopback, where the API server's services/proxy
 * does not. The pod is the first Ready pod behind the controller Service, as kubectl port-forward
 * service/<name> picks it; the tunnel is @kubernetes/client-node's PortForward (WebSocket), one per
 * request.
 */
import type https from 'node:https';
import { Duplex, Writable } from 'node:stream';
import { CoreV1Api, PortForward, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { CONTROLLER_HEALTH_PORT, CONTROLLER_SERVICE_NAME } from '../constants/index.js';
import { errorMessage } from '../logger/index.js';
import {
  CONTROLLER_REQUEST_TIMEOUT_MS,
  ControllerError,
  controllerViaServiceProxy,
  request,
  type ControllerClient,
} from './controller.js';

function isReady(p: V1Pod): boolean {
  return p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

/** The first Ready pod behind the controller Service (sorted by name: the same pod every time). */
async function controllerPod(kc: KubeConfig, fsmNamespace: string, where: string): Promise<string> {
  const core = kc.makeApiClient(CoreV1Api);
  let selector: Record<string, string> | undefined;
  try {
    selector = (await core.readNamespacedService({ name: CONTROLLER_SERVICE_NAME, namespace: fsmNamespace }))
      .spec?.selector;
  } catch (e) {
    throw new ControllerError(
      `${where}: service ${fsmNamespace}/${CONTROLLER_SERVICE_NAME}: ${errorMessage(e)}`,
    );
  }
  if (!selector || Object.keys(selector).length === 0) {
    throw new ControllerError(`${where}: service ${fsmNamespace}/${CONTROLLER_SERVICE_NAME} has no selector`);
  }
  const labelSelector = Object.entries(selector)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  const pods = (await core.listNamespacedPod({ namespace: fsmNamespace, labelSelector })).items
    .filter((p) => isReady(p) && !p.metadata?.deletionTimestamp)
    .map((p) => p.metadata?.name ?? '')
    .sort();
  if (!pods[0]) {
    throw new ControllerError(
      `${where}: no Ready pod matches ${labelSelector} in namespace ${fsmNamespace}`,
      503,
    );
  }
  return pods[0];
}

/** A socket-like stream over one port-forward: what the HTTP client writes goes to the pod's port. */
async function forwardedConnection(
  kc: KubeConfig,
  namespace: string,
  pod: string,
  port: number,
): Promise<{ socket: Duplex; errorText: () => string; close: () => void }> {
  const toPod = new Duplex({ read() {}, write: (_c, _e, cb) => cb() });
  let errorText = '';
  // The pod's bytes are the socket's readable side; what the client writes is the tunnel's input.
  const socket = new Duplex({
    read() {},
    write(chunk: Buffer, _enc, cb) {
      toPod.push(chunk);
      cb();
    },
    final(cb) {
      toPod.push(null);
      cb();
    },
  });
  const fromPod = new Writable({
    write(chunk: Buffer, _enc, cb) {
      socket.push(chunk);
      cb();
    },
  });
  const errors = new Writable({
    write(chunk: Buffer, _enc, cb) {
      errorText += chunk.toString('utf8');
      cb();
    },
  });
  const ws = (await new PortForward(kc).portForward(namespace, pod, [port], fromPod, errors, toPod)) as {
    close(): void;
    on(event: 'close', fn: () => void): void;
  };
  ws.on('close', () => socket.push(null));
  return { socket, errorText: () => errorText, close: () => ws.close() };
}

/** Talks to the controller of `fsmNamespace` through a port-forward to one of its pods. */
export function controllerViaPortForward(
  kc: KubeConfig,
  fsmNamespace: string,
  timeoutMs = CONTROLLER_REQUEST_TIMEOUT_MS,
): ControllerClient {
  const where = `port-forward to ${fsmNamespace}/${CONTROLLER_SERVICE_NAME}:${CONTROLLER_HEALTH_PORT}`;
  return {
    where,
    async getJson(path) {
      const pod = await controllerPod(kc, fsmNamespace, where);
      const at = `port-forward to pod ${fsmNamespace}/${pod}:${CONTROLLER_HEALTH_PORT}`;
      let conn: Awaited<ReturnType<typeof forwardedConnection>>;
      try {
        conn = await forwardedConnection(kc, fsmNamespace, pod, CONTROLLER_HEALTH_PORT);
      } catch (e) {
        throw new ControllerError(`${at}: ${errorMessage(e)}`);
      }
      // No agent: Node then opens the request on createConnection's stream.
      const opts: https.RequestOptions = {
        createConnection: () => conn.socket as never,
        headers: { Connection: 'close' },
      };
      try {
        return await request(
          new URL(`http://127.0.0.1:${CONTROLLER_HEALTH_PORT}${path}`),
          opts,
          at,
          timeoutMs,
        );
      } catch (e) {
        // The kubelet's own words (e.g. connection refused) say more than a closed tunnel.
        const kubelet = conn.errorText().trim();
        if (kubelet && e instanceof ControllerError && e.status === undefined) {
          throw new ControllerError(`${at}: ${kubelet}`);
        }
        throw e;
      } finally {
        conn.close();
      }
    },
  };
}

/**
 * The controller's :9091 as `fsm proxy get config` and `fsm check probes` reach it: through the API
 * server's service proxy (works wherever the controller runs with --debug-allow-remote, and names
 * a missing Service or endpoint as the API server does), and when the controller refuses that
 * non-loopback peer (403), through a port-forward to its pod.
 */
export function controllerViaApiServer(
  kc: KubeConfig,
  fsmNamespace: string,
  timeoutMs = CONTROLLER_REQUEST_TIMEOUT_MS,
): ControllerClient {
  return withPortForwardFallback(controllerViaServiceProxy(kc, fsmNamespace, timeoutMs), () =>
    controllerViaPortForward(kc, fsmNamespace, timeoutMs),
  );
}

/** `first`, and `fallback` only when the controller itself (not the API server) answered 403. */
export function withPortForwardFallback(
  first: ControllerClient,
  fallback: () => ControllerClient,
): ControllerClient {
  let chosen: ControllerClient | undefined;
  return {
    get where() {
      return (chosen ?? first).where;
    },
    async getJson(path) {
      if (chosen) return chosen.getJson(path);
      try {
        const v = await first.getJson(path);
        chosen = first;
        return v;
      } catch (e) {
        if (!(e instanceof ControllerError) || e.status !== 403 || e.apiServer) throw e;
        chosen = fallback();
        return chosen.getJson(path);
      }
    },
  };
}
