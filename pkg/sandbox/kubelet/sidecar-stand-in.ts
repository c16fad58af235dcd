/**
 * The pod's sidecar (Envoy) as the sandbox runs it: the xDS probe agent, started with the pod's
 * bootstrap credential as kubelet mounts it (a secret volume, refreshed from its Secret as kubelet's
 * periodic sync does), so it passes the controller's mTLS as the sidecar would.
 */
import type { CoreV1Api } from '@kubernetes/client-node';
import { BOOTSTRAP_VOLUME_NAME, PROXY_UUID_LABEL } from '../../constants/index.js';
import { createLogger, errorMessage, type Logger } from '../../logger/index.js';
import { proxyProtocolOriginalDestination, startProbeAgent } from '../agent/index.js';
import type { ContainerLog } from './logs.js';
import { podKeyParts, type PodRuntime } from './pod-runtime.js';
import { adsServerNameOf, agentTlsFor, bootstrapSecretOf, rewriteSecretFiles } from './secret-volume.js';

export interface SidecarStandInDeps {
  core: CoreV1Api;
  log: Logger;
  /** host:port of fsm-controller's ADS (the probe agents connect there). */
  adsAddress: string;
  beginLog(rt: PodRuntime, container: string): ContainerLog;
}

/** Starts the probe agent standing in for the pod's sidecar (once per pod). */
export async function startSidecarStandIn(
  rt: PodRuntime,
  deps: SidecarStandInDeps,
  container: string,
): Promise<void> {
  const pod = rt.pod;
  const uuid = pod.metadata?.labels?.[PROXY_UUID_LABEL];
  if (!uuid || rt.agent) return;
  rt.agentLog = deps.beginLog(rt, container);
  // Its bootstrap credential, from the pod's volume (the controller's ADS is mTLS).
  const tls = await mountBootstrap(rt, deps);
  rt.agent = await startProbeAgent({
    ...(tls ? { tls } : {}),
    adsAddress: deps.adsAddress,
    nodeId: uuid,
    nodeCluster: `${pod.spec?.serviceAccountName ?? 'default'}.${pod.metadata?.namespace}`,
    podAddress: rt.ip,
    endpointHostMap: { '127.0.0.1': rt.ip },
    // Loopback mode: the capture listeners (15001, 15003) learn destinations from PROXY headers.
    originalDestination: proxyProtocolOriginalDestination(),
    // Envoy retries ADS quickly too; a controller restart converges within seconds.
    backoff: { initialMs: 250, maxMs: 2000, multiplier: 2 },
    // The sidecar's log is the probe agent's, as Envoy's would be.
    logger: createLogger({ level: 'info', json: true, stream: rt.agentLog.stream('stdout') }),
  });
}

/**
 * The probe agent's TLS options from the sidecar's bootstrap credential volume (prepared with the
 * pod's other volumes); undefined when the sidecar has none (it then cannot pass the
 * controller's mTLS, as an Envoy without its credential could not).
 */
async function mountBootstrap(
  rt: PodRuntime,
  deps: SidecarStandInDeps,
): Promise<ReturnType<typeof agentTlsFor> | undefined> {
  const secretName = bootstrapSecretOf(rt.pod);
  const serverName = adsServerNameOf(rt.pod);
  const dir = rt.volumes.get(BOOTSTRAP_VOLUME_NAME);
  if (!secretName || !serverName || !dir) {
    deps.log.warn('sidecar without a bootstrap credential volume: the controller will refuse it', {
      pod: rt.key,
    });
    return undefined;
  }
  const [namespace] = podKeyParts(rt);
  try {
    const secret = await deps.core.readNamespacedSecret({ name: secretName, namespace });
    rt.bootstrap = { secret: secretName, dir, version: secret.metadata?.resourceVersion ?? '' };
  } catch (err) {
    deps.log.debug('cannot read the bootstrap Secret for its volume sync', {
      pod: rt.key,
      error: errorMessage(err),
    });
  }
  return agentTlsFor(dir, serverName);
}

/** Kubelet's periodic sync of secret volumes: a changed Secret is written again, file by file atomically. */
export async function syncBootstrapVolumes(
  runtimes: Iterable<PodRuntime>,
  deps: Pick<SidecarStandInDeps, 'core' | 'log'>,
): Promise<void> {
  for (const rt of [...runtimes]) {
    const b = rt.bootstrap;
    if (!b || rt.stopped) continue;
    try {
      const secret = await deps.core.readNamespacedSecret({ name: b.secret, namespace: podKeyParts(rt)[0] });
      const version = secret.metadata?.resourceVersion ?? '';
      if (version === b.version) continue;
      await rewriteSecretFiles(b.dir, secret);
      b.version = version;
      deps.log.info('secret volume updated', { pod: rt.key, secret: b.secret });
    } catch (err) {
      deps.log.debug('secret volume sync failed', { pod: rt.key, error: errorMessage(err) });
    }
  }
}
