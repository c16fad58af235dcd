/**
 * `make run`: the whole mesh on one machine, as a cluster. One process tree: the wire-faithful API
 * server, the controllers of a kube-controller-manager (Deployments, ReplicaSets, EndpointSlices,
 * garbage collection), a kubelet-like node agent that runs every pod in its own network namespace
 * with the real fsm-init rules (namespace mode, pkg/sandbox/netns; kube-proxy's Service rules in the
 * node namespace) or, where namespaces are not allowed, on its own loopback address (loopback mode)
 * — and the fsm control plane installed exactly as `fsm install` installs it (pkg/deploy), so
 * fsm-controller and fsm-injector run as pods in fsm-system from their Deployments, probed by the
 * node agent like any pod. The API server calls the injector through its Service (EndpointSlices)
 * over HTTPS, trusting the caBundle the injector manages, as a kube-apiserver would.
 * `fsm uninstall` removes the control plane and the sandbox keeps running as a cluster without fsm;
 * `fsm install` brings it back.
 */
import { chmod, mkdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { AppsV1Api, CoreV1Api, KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { builtBinaryPath, projectFile } from '../binary/index.js';
import {
  ADS_PORT,
  CONTROLLER_APP,
  CONTROLLER_HEALTH_PORT,
  CONTROLLER_SERVICE_NAME,
  DEFAULT_FSM_NAMESPACE,
  DEFAULT_MESH_NAME,
  INJECTOR_SERVICE_NAME,
  INJECTOR_WEBHOOK_PORT,
  LOG_LEVELS,
  type LogLevel,
} from '../constants/index.js';
import {
  defaultInstallParams,
  installControlPlane,
  validateInstallParams,
  type InstallParams,
} from '../deploy/index.js';
import { errorMessage, type Logger } from '../logger/index.js';
import { ORIGINAL_DST_ADDON } from './agent/index.js';
import { ApiServer, podLogHandler, portForwardHandler } from './apiserver/index.js';
import { ControllerManager } from './controllers/index.js';
import { demoDeployments, demoNamespace, demoPods, demoServices } from './demo.js';
import { loopbackPods, namespacePods, NodeAgent } from './kubelet/index.js';
import {
  chooseNetworkMode,
  ClusterNetwork,
  KubeProxy,
  loopbackNetwork,
  type Cidr,
  type NetworkMode,
  type NetworkModeRequest,
  type NodeNetwork,
} from './netns/index.js';
import { premiseNamespace, premisePods } from './premise.js';
import { ServiceEndpoints, startServiceForwarder } from './services.js';

export interface SandboxOptions {
  /** State directory: kubeconfig, pod directories and logs. */
  dir: string;
  logger: Logger;
  meshName?: string;
  fsmNamespace?: string;
  /** API server port (0 picks a free one). Pods use their own addresses with the seed's ports. */
  ports?: { apiServer?: number };
  /** Create the bookstore demo (default true). */
  demo?: boolean;
  /** Log level of the control plane (its install's --log-level; default info). */
  verbosity?: string;
  /** Install parameters beyond the defaults (e.g. a short controllerOutOfSyncThreshold in tests). */
  install?: Partial<InstallParams>;
  /** Delay before a killed container restarts (default 1 s). */
  restartDelayMs?: number;
  /** Third-octet range of pod addresses 127.0.<block>.x (default 1-255). */
  podAddressBlocks?: { first: number; last: number };
  /** How long start waits for the control plane to be Ready (default 60 s). */
  readyTimeoutMs?: number;
  /**
   * Resolve as soon as the cluster serves and the control plane is applied, without waiting for
   * its pods to be Ready (then `ready` says when they are and the demo is created). Default false.
   */
  early?: boolean;
  /**
   * The pods' network: `namespaces` (a network namespace per pod, the real fsm-init rules; an error
   * where the machine does not allow it), `loopback` (an address 127.0.x.y per pod; the default of
   * this API), or `auto` (namespaces where allowed: what `make run` asks for).
   */
  network?: NetworkModeRequest;
  /** Namespace mode: the pods' CIDR (default 10.244.0.0/24; the node is its first address). */
  podCidr?: string;
}

/** Entries namespace mode runs as processes in pods (and the proxy UID must read). */
export const NAMESPACE_MODE_FILES = [
  projectFile('dist', 'pkg', 'sandbox', 'agent', 'cli.js'),
  projectFile('dist', 'pkg', 'sandbox', 'workloads', 'cli.js'),
  projectFile('dist', 'pkg', 'sandbox', 'netns', 'node-helper.js'),
  projectFile('dist', 'pkg', 'sandbox', 'netns', 'pod-dial.js'),
  ORIGINAL_DST_ADDON,
];

/** Which network the pods have, and how the node (this process) reaches them. */
export interface SandboxNetwork {
  mode: NetworkMode;
  /** Why loopback mode (it was asked for, or namespaces are not allowed here). */
  reason?: string;
  /** Dials pods and Services as the node does. */
  node: NodeNetwork;
  /** Namespace mode: the node namespace (`sudo ip netns exec <it> curl <pod IP>:<port>`). */
  nodeNamespace?: string;
  /** Namespace mode: the sandbox's id (every namespace is fsm-<id>-…). */
  id?: string;
  /** Namespace mode: the node's address on the pods' bridge. */
  nodeIP?: string;
  /** Namespace mode: the pods' CIDR. */
  podCidr?: Cidr;
}

export interface Sandbox {
  kubeconfigPath: string;
  apiServer: ApiServer;
  controllers: ControllerManager;
  node: NodeAgent;
  services: ServiceEndpoints;
  network: SandboxNetwork;
  logDir: string;
  meshName: string;
  fsmNamespace: string;
  /** http://<a ready controller pod>:9091 ('' while none is ready). */
  readonly controllerUrl: string;
  /** Creates a pod through the API server (and so through the webhook). */
  createPod(pod: V1Pod): Promise<V1Pod>;
  /** Resolves when the control plane is Ready and the demo (if any) is created. */
  ready: Promise<void>;
  /** Resolves when fsm-controller and fsm-injector have a ready pod each (rejects after timeoutMs). */
  waitForControlPlane(timeoutMs?: number): Promise<void>;
  /** Deletes the controller pod(s); resolves when a new one serves (its ReplicaSet replaces it). */
  restartController(): Promise<void>;
  stop(): Promise<void>;
}

const HOST = '127.0.0.1';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function startSandbox(opts: SandboxOptions): Promise<Sandbox> {
  const log = opts.logger.child({ component: 'sandbox' });
  const meshName = opts.meshName ?? DEFAULT_MESH_NAME;
  const fsmNamespace = opts.fsmNamespace ?? DEFAULT_FSM_NAMESPACE;
  const logDir = join(opts.dir, 'logs');
  await mkdir(logDir, { recursive: true });
  const kubeconfigPath = join(opts.dir, 'kubeconfig');
  const stops: (() => Promise<void>)[] = [];
  const stopAll = async (): Promise<void> => {
    for (const stop of stops.reverse()) {
      await stop().catch((e: unknown) => log.warn('stop failed', { error: errorMessage(e) }));
    }
  };

  const choice = await chooseNetworkMode(opts.network ?? 'loopback', NAMESPACE_MODE_FILES);
  let cluster: ClusterNetwork | undefined;
  if (choice.mode === 'namespaces') {
    cluster = await ClusterNetwork.create({
      dir: opts.dir,
      logger: opts.logger,
      ...(opts.podCidr ? { podCidr: opts.podCidr } : {}),
    });
    const c = cluster;
    // Pushed first, so removed last: after every pod's processes stopped.
    stops.push(() => c.stop());
    // The proxy UID reads the sidecar's credential under this directory: it may pass through it.
    await chmod(opts.dir, (await stat(opts.dir)).mode | 0o011);
    log.info('namespace mode', { id: c.id, nodeNamespace: c.nodeNamespace, podCidr: c.podCidr.text });
  } else {
    log.info('loopback mode', { reason: choice.reason });
  }
  const network: SandboxNetwork = cluster
    ? {
        mode: 'namespaces',
        node: cluster.network,
        nodeNamespace: cluster.nodeNamespace,
        id: cluster.id,
        nodeIP: cluster.nodeIP,
        podCidr: cluster.podCidr,
      }
    : { mode: 'loopback', node: loopbackNetwork, ...(choice.reason ? { reason: choice.reason } : {}) };
  const apiServer = new ApiServer({
    host: HOST,
    port: opts.ports?.apiServer ?? 0,
    kubeconfigPath,
    logger: opts.logger,
    ...(cluster ? { extraIpAddresses: [cluster.nodeIP], network: cluster.network } : {}),
  });
  try {
    await apiServer.start();
  } catch (err) {
    await stopAll();
    throw err;
  }
  stops.push(() => apiServer.stop());
  try {
    await cluster?.startHelper(apiServer.port);
    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfigPath);
    const core = kc.makeApiClient(CoreV1Api);
    const apps = kc.makeApiClient(AppsV1Api);

    const controllers = new ControllerManager(kc, opts.logger);
    await controllers.start();
    stops.push(() => controllers.stop());
    const services = new ServiceEndpoints(
      controllers.informers.services,
      controllers.informers.endpointslices,
    );
    // The API server reaches Services through their EndpointSlices, as kube-apiserver does.
    apiServer.enableWebhookAdmission({
      resolveService: (ref) => {
        const e = services.resolve(ref.namespace, ref.name, ref.port);
        return e && `https://${e.host}:${e.port}`;
      },
      logger: opts.logger,
    });
    apiServer.setServiceProxy((ref) => {
      const e = services.resolve(ref.namespace, ref.name, ref.port);
      return e && `http://${e.host}:${e.port}`;
    });
    let adsAddress: string | (() => string | undefined);
    if (cluster) {
      // kube-proxy's stand-in: Service ClusterIPs DNATed in the node namespace; sidecars dial the
      // controller's ClusterIP (as Envoy dials fsm-controller.<ns>.svc).
      const c = cluster;
      const kubeProxy = new KubeProxy(
        controllers.informers.services,
        controllers.informers.endpointslices,
        (rules) => c.applyServiceRules(rules),
        log,
      );
      kubeProxy.start();
      stops.push(() => Promise.resolve(kubeProxy.stop()));
      adsAddress = () => {
        const ip = controllers.informers.services.get(CONTROLLER_SERVICE_NAME, fsmNamespace)?.spec?.clusterIP;
        return ip && ip !== 'None' ? `${ip}:${ADS_PORT}` : undefined;
      };
    } else {
      // The sidecars' ADS address: fsm-controller:15128, resolved per connection (kube-proxy's job).
      const ads = await startServiceForwarder(
        () => services.resolve(fsmNamespace, CONTROLLER_SERVICE_NAME, ADS_PORT),
        'ADS forwarder',
        log,
      );
      stops.push(() => ads.close());
      adsAddress = ads.address;
    }

    const node = new NodeAgent({
      kubeConfig: kc,
      logger: opts.logger,
      adsAddress,
      healthcheckBinary: builtBinaryPath('fsm-healthcheck'),
      binaryPath: builtBinaryPath,
      stateDir: join(opts.dir, 'node'),
      apiAccess: {
        server: cluster ? cluster.apiServerUrl(apiServer.port) : apiServer.url,
        caPem: apiServer.caPem,
        issueToken: (pod) =>
          apiServer.issuePodToken({
            namespace: pod.metadata?.namespace ?? 'default',
            pod: pod.metadata?.name ?? '',
            uid: pod.metadata?.uid ?? '',
            serviceAccount: pod.spec?.serviceAccountName ?? 'default',
          }),
      },
      ca: apiServer.certificateAuthority,
      restartDelayMs: opts.restartDelayMs,
      network: cluster ? namespacePods(cluster, apiServer.port) : loopbackPods(opts.podAddressBlocks),
      agentScript: NAMESPACE_MODE_FILES[0],
      workloadScript: NAMESPACE_MODE_FILES[1],
    });
    await node.start();
    stops.push(() => node.stop());
    apiServer.setSubresource(
      'pods',
      'log',
      podLogHandler(() => node.logs),
    );
    apiServer.setSubresource('pods', 'portforward', portForwardHandler(network.node));

    // The control plane is an install: the same objects and apply as `fsm install`.
    const level = (LOG_LEVELS as readonly string[]).includes(opts.verbosity ?? '')
      ? (opts.verbosity as LogLevel)
      : undefined;
    const params = validateInstallParams(
      defaultInstallParams({
        meshName,
        fsmNamespace,
        ...(level ? { logLevel: level } : {}),
        ...opts.install,
      }),
    );
    const install = async (): Promise<void> => {
      const results = await installControlPlane(kc, params, { log: (m) => log.info(m) });
      log.info('fsm control plane installed', { objects: results.length, namespace: fsmNamespace });
      watchInstall(controllers, fsmNamespace, log);
    };
    let stopping = false;
    let settled: Promise<unknown> = Promise.resolve();
    // Stopping lets an install in flight finish (nothing waits for Ready any more) before the rest stops.
    stops.push(async () => {
      stopping = true;
      await settled;
    });

    const serving = (ns: string, name: string, port: number): boolean =>
      services.resolve(ns, name, port) !== undefined;
    const waitForControlPlane = async (timeoutMs = opts.readyTimeoutMs ?? 60_000): Promise<void> => {
      const end = Date.now() + timeoutMs;
      while (
        !stopping &&
        (!serving(fsmNamespace, INJECTOR_SERVICE_NAME, INJECTOR_WEBHOOK_PORT) ||
          !serving(fsmNamespace, CONTROLLER_SERVICE_NAME, CONTROLLER_HEALTH_PORT))
      ) {
        if (Date.now() > end) {
          throw new Error(
            `the fsm control plane is not Ready after ${timeoutMs} ms: kubectl get pods -n ${fsmNamespace}; kubectl logs -n ${fsmNamespace} deployment/fsm-injector`,
          );
        }
        await sleep(50);
      }
      if (stopping) throw new Error('the sandbox is stopping');
    };
    const createPod = (pod: V1Pod): Promise<V1Pod> =>
      core.createNamespacedPod({ namespace: pod.metadata?.namespace ?? 'default', body: pod });
    const createDemo = async (): Promise<void> => {
      await core.createNamespace({ body: demoNamespace(meshName) });
      // Namespace mode also shows the seed's premise (premise.ts): loopback mode captures nothing.
      if (cluster) await core.createNamespace({ body: premiseNamespace(meshName) });
      // The injector reads namespaces through its informer: give it a moment to see the new one.
      await sleep(200);
      for (const s of demoServices())
        await core.createNamespacedService({ namespace: s.metadata!.namespace!, body: s });
      for (const d of demoDeployments())
        await apps.createNamespacedDeployment({ namespace: d.metadata!.namespace!, body: d });
      for (const p of demoPods()) await createPod(p);
      if (cluster) await Promise.all(premisePods().map(createPod));
    };
    // Demo pods go through the webhook: they are created once the injector serves.
    const ready = install()
      .then(() => waitForControlPlane())
      .then(() => ((opts.demo ?? true) && !stopping ? createDemo() : undefined));
    settled = ready.catch(() => undefined);
    if (!opts.early) await ready;
    else
      ready.catch((e: unknown) => {
        if (!stopping) log.error('the sandbox did not become ready', { error: errorMessage(e) });
      });
    log.info('sandbox running', { kubeconfig: kubeconfigPath });
    return {
      kubeconfigPath,
      apiServer,
      controllers,
      node,
      services,
      network,
      logDir,
      meshName,
      fsmNamespace,
      get controllerUrl() {
        const e = services.resolve(fsmNamespace, CONTROLLER_SERVICE_NAME, CONTROLLER_HEALTH_PORT);
        return e ? `http://${e.host}:${e.port}` : '';
      },
      createPod,
      ready,
      waitForControlPlane,
      async restartController() {
        const selector = `app=${CONTROLLER_APP}`;
        const old = (await core.listNamespacedPod({ namespace: fsmNamespace, labelSelector: selector }))
          .items;
        for (const p of old)
          await core.deleteNamespacedPod({ name: p.metadata!.name!, namespace: fsmNamespace });
        const gone = new Set(old.map((p) => p.status?.podIP));
        const end = Date.now() + 60_000;
        for (;;) {
          const e = services.resolve(fsmNamespace, CONTROLLER_SERVICE_NAME, CONTROLLER_HEALTH_PORT);
          if (e && !gone.has(e.host)) return;
          if (Date.now() > end) throw new Error('no new fsm-controller pod became Ready within 60 s');
          await sleep(50);
        }
      },
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

/** Says in the log when the control plane is uninstalled (and installed again), as a cluster would run on. */
function watchInstall(controllers: ControllerManager, fsmNamespace: string, log: Logger): void {
  const mine = (d: { metadata?: { name?: string; namespace?: string } }): boolean =>
    d.metadata?.name === CONTROLLER_APP && d.metadata?.namespace === fsmNamespace;
  let removed = false;
  controllers.informers.deployments.on('delete', (d) => {
    if (!mine(d)) return;
    removed = true;
    log.info(
      'fsm control plane uninstalled: the sandbox keeps running as a cluster without fsm (`fsm install` brings it back)',
    );
  });
  controllers.informers.deployments.on('add', (d) => {
    if (mine(d) && removed) {
      removed = false;
      log.info('fsm control plane installed again');
    }
  });
}
