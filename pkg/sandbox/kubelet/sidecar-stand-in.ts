/**
 * The pod's sidecar (Envoy) as the sandbox runs it: the xDS probe agent, started with the pod's
 * bootstrap credential as kubelet mounts it (a secret volume, refreshed from its Secret as kubelet's
 * periodic sync does), so it passes the controller's mTLS as the sidecar would.
 *
 * Loopback mode runs it in this process, on the pod's address. Namespace mode runs it as a process
 * inside the pod's network namespace as the proxy UID — fsm-init's owner rule exempts exactly its
 * traffic — binding the wildcard as Envoy does, reading captured connections' original destinations
 * with SO_ORIGINAL_DST, dialing the controller's ADS at its Service ClusterIP (kube-proxy's rules in
 * the node namespace pick a ready endpoint), and serving its status on a unix socket.
 */
import http from 'node:http';
import { chown } from 'node:fs/promises';
import type { CoreV1Api } from '@kubernetes/client-node';
import { BOOTSTRAP_VOLUME_NAME, PROXY_UID, PROXY_UUID_LABEL } from '../../constants/index.js';
import { createLogger, errorMessage, type Logger } from '../../logger/index.js';
import { proxyProtocolOriginalDestination, startProbeAgent, type ProbeAgentStatus } from '../agent/index.js';
import type { ContainerLog } from './logs.js';
import { startProcess } from './processes.js';
import { podKeyParts, type PodRuntime } from './pod-runtime.js';
import { adsServerNameOf, agentTlsFor, bootstrapSecretOf, rewriteSecretFiles } from './secret-volume.js';

export interface SidecarStandInDeps {
  core: CoreV1Api;
  log: Logger;
  /** host:port of fsm-controller's ADS (the probe agents connect there); undefined: not known yet. */
  adsAddress: () => string | undefined;
  beginLog(rt: PodRuntime, container: string): ContainerLog;
  /** Namespace mode: the probe agent's process entry (dist/pkg/sandbox/agent/cli.js). */
  agentScript?: string;
}

/** Starts the probe agent standing in for the pod's sidecar (once per pod). */
export async function startSidecarStandIn(
  rt: PodRuntime,
  deps: SidecarStandInDeps,
  container: string,
): Promise<void> {
  const pod = rt.pod;
  const uuid = pod.metadata?.labels?.[PROXY_UUID_LABEL];
  if (!uuid || rt.agent || rt.sidecar) return;
  rt.agentLog = deps.beginLog(rt, container);
  // Its bootstrap credential, from the pod's volume (the controller's ADS is mTLS).
  const tls = await mountBootstrap(rt, deps);
  const adsAddress = deps.adsAddress();
  if (!adsAddress) {
    rt.agentLog.write('stderr', 'the fsm-controller Service has no address yet: ADS cannot be dialed\n');
    deps.log.warn('no ADS address for a sidecar: the fsm-controller Service is not there', { pod: rt.key });
    return;
  }
  if (rt.address?.netns && rt.address.runDir) {
    await startSidecarProcess(rt, deps, uuid, adsAddress, tls);
    return;
  }
  rt.agent = await startProbeAgent({
    ...(tls ? { tls } : {}),
    adsAddress,
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

/** Namespace mode: the probe agent as a process in the pod's namespace, as the proxy UID. */
async function startSidecarProcess(
  rt: PodRuntime,
  deps: SidecarStandInDeps,
  uuid: string,
  adsAddress: string,
  tls: ReturnType<typeof agentTlsFor> | undefined,
): Promise<void> {
  const script = deps.agentScript;
  if (!script) throw new Error("namespace mode needs the probe agent's process entry");
  const runDir = rt.address!.runDir!;
  // The agent (the proxy UID) creates its status socket here.
  await chown(runDir, PROXY_UID, PROXY_UID);
  const statusSocket = `${runDir}/status.sock`;
  const pod = rt.pod;
  const args = [
    '--ads-address',
    adsAddress,
    '--node-id',
    uuid,
    '--node-cluster',
    `${pod.spec?.serviceAccountName ?? 'default'}.${pod.metadata?.namespace}`,
    '--pod-address',
    '0.0.0.0',
    '--original-destination',
    'so_original_dst',
    '--status-socket',
    statusSocket,
    '--max-backoff',
    '2s',
    ...(tls
      ? [
          '--tls-cert-file',
          tls.certFile,
          '--tls-key-file',
          tls.keyFile,
          '--tls-ca-file',
          tls.caFile,
          '--tls-server-name',
          tls.serverName,
        ]
      : []),
  ];
  const proc = startProcess({
    script,
    args,
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin' },
    cwd: '/',
    log: rt.agentLog!,
    inPod: { namespace: rt.address!.netns!, uid: PROXY_UID },
  });
  rt.sidecar = { process: proc, statusSocket };
  void proc.exited.then((t) => {
    if (rt.stopped || rt.sidecar?.process !== proc) return;
    // Envoy exiting is the sidecar container terminating: kubelet starts it again.
    deps.log.warn('sidecar exited; starting it again', { pod: rt.key, exitCode: t.exitCode });
    rt.sidecar = undefined;
    setTimeout(() => {
      if (!rt.stopped) void startSidecarProcess(rt, deps, uuid, deps.adsAddress() ?? adsAddress, tls);
    }, 1000).unref();
  });
}

/** The sidecar's status: from this process's agent, or from the process's status socket. */
export async function sidecarStatus(rt: PodRuntime): Promise<ProbeAgentStatus | undefined> {
  if (rt.agent) return rt.agent.status();
  const s = rt.sidecar;
  if (!s) return undefined;
  return new Promise((resolve) => {
    const req = http.get({ socketPath: s.statusSocket, path: '/status', timeout: 2000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => {
        try {
          resolve(JSON.parse(body) as ProbeAgentStatus);
        } catch {
          resolve(undefined);
        }
      });
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(undefined));
  });
}

/** Stops the sidecar stand-in, whichever way it runs. */
export async function stopSidecar(rt: PodRuntime): Promise<void> {
  await rt.agent?.stop();
  const s = rt.sidecar;
  rt.sidecar = undefined;
  await s?.process.stop(5000);
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
