/**
 * `make run`: the whole probe story on one machine. One process tree: the wire-faithful API server
 * (calling fsm-injector through a MutatingWebhookConfiguration over HTTPS, as a kube-apiserver
 * would), fsm-controller and fsm-injector as the real binaries, and the kubelet-like node agent that
 * runs every pod on its own loopback address with its probe agent and fsm-healthcheck.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CoreV1Api, KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { builtBinaryPath } from '../binary/index.js';
import {
  CONTROLLER_HEALTH_PORT,
  CONTROLLER_SERVICE_NAME,
  DEFAULT_FSM_NAMESPACE,
  DEFAULT_MESH_NAME,
  INJECTOR_SERVICE_NAME,
} from '../constants/index.js';
import { mutatingWebhookConfiguration } from '../injector/index.js';
import { errorMessage, type Logger } from '../logger/index.js';
import { ApiServer } from './apiserver/index.js';
import { startComponent, type Component } from './components.js';
import { demoNamespace, demoPods } from './demo.js';
import { NodeAgent } from './kubelet/index.js';

export interface SandboxOptions {
  /** State directory: kubeconfig, certificates, component logs. */
  dir: string;
  logger: Logger;
  meshName?: string;
  fsmNamespace?: string;
  /** 0 picks free ports (tests). */
  ports?: {
    apiServer?: number;
    injector?: number;
    injectorMetrics?: number;
    ads?: number;
    controllerHealth?: number;
  };
  /** Create the bookstore demo (default true). */
  demo?: boolean;
  /** Log level of the control-plane binaries (default info). */
  verbosity?: string;
  /** Delay before a killed container restarts (default 1 s). */
  restartDelayMs?: number;
  /** Third-octet range of pod addresses 127.0.<block>.x (default 1-255). */
  podAddressBlocks?: { first: number; last: number };
}

export interface Sandbox {
  kubeconfigPath: string;
  apiServer: ApiServer;
  controllerUrl: string;
  adsAddress: string;
  injectorUrl: string;
  node: NodeAgent;
  components: Component[];
  logDir: string;
  /** Creates a pod through the API server (and so through the webhook). */
  createPod(pod: V1Pod): Promise<V1Pod>;
  /** Stops fsm-controller (SIGTERM) and starts it again with the same flags; resolves when it serves. */
  restartController(): Promise<void>;
  stop(): Promise<void>;
}

const HOST = '127.0.0.1';

export async function startSandbox(opts: SandboxOptions): Promise<Sandbox> {
  const log = opts.logger.child({ component: 'sandbox' });
  const mesh = opts.meshName ?? DEFAULT_MESH_NAME;
  const fsmNs = opts.fsmNamespace ?? DEFAULT_FSM_NAMESPACE;
  const ports = opts.ports ?? {};
  const logDir = join(opts.dir, 'logs');
  await mkdir(logDir, { recursive: true });
  const kubeconfigPath = join(opts.dir, 'kubeconfig');
  const components: Component[] = [];
  let node: NodeAgent | undefined;

  const apiServer = new ApiServer({
    host: HOST,
    port: ports.apiServer ?? 0,
    kubeconfigPath,
    logger: opts.logger,
  });
  await apiServer.start();
  const stopAll = async (): Promise<void> => {
    await node?.stop().catch((e: unknown) => log.warn('node agent stop failed', { error: errorMessage(e) }));
    await Promise.all(components.map((c) => c.stop()));
    await apiServer.stop();
  };

  try {
    const ca = apiServer.certificateAuthority;
    // The webhook's serving certificate, for its Service name and the loopback address it listens on.
    const serving = await ca.issue({
      commonName: `${INJECTOR_SERVICE_NAME}.${fsmNs}.svc`,
      dnsNames: [`${INJECTOR_SERVICE_NAME}.${fsmNs}.svc`, 'localhost'],
      ipAddresses: [HOST],
    });
    const certFile = join(opts.dir, 'injector.crt');
    const keyFile = join(opts.dir, 'injector.key');
    await writeFile(certFile, serving.certPem);
    await writeFile(keyFile, serving.keyPem, { mode: 0o600 });

    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfigPath);
    const api = kc.makeApiClient(CoreV1Api);
    await api.createNamespace({ body: { metadata: { name: fsmNs } } });

    const verbosity = ['--verbosity', opts.verbosity ?? 'info'];
    const common = [
      '--kubeconfig',
      kubeconfigPath,
      '--mesh-name',
      mesh,
      '--fsm-namespace',
      fsmNs,
      '--bind-address',
      HOST,
    ];
    const injector = startComponent(
      'fsm-injector',
      [
        ...common,
        ...verbosity,
        '--port',
        String(ports.injector ?? 0),
        '--metrics-port',
        String(ports.injectorMetrics ?? 0),
        '--tls-cert-file',
        certFile,
        '--tls-key-file',
        keyFile,
      ],
      logDir,
    );
    components.push(injector);
    const controllerArgs = (ads: number, health: number): string[] => [
      ...common,
      ...verbosity,
      '--ads-port',
      String(ads),
      '--health-port',
      String(health),
      // `fsm proxy get config` reaches /debug through the API server's service proxy, which in a
      // cluster is not a loopback peer (the CLI's switch to port-forward is pending).
      '--debug-allow-remote',
    ];
    let controller = startComponent(
      'fsm-controller',
      controllerArgs(ports.ads ?? 0, ports.controllerHealth ?? 0),
      logDir,
    );
    components.push(controller);
    const [injLine, ctlLine] = await Promise.all([
      injector.waitForLog(/webhook serving HTTPS/),
      controller.waitForLog(/fsm-controller started/),
    ]);
    const injectorUrl = `https://${HOST}:${String(injLine.port)}`;
    const adsAddress = `${HOST}:${String(ctlLine.adsPort)}`;
    const controllerUrl = `http://${HOST}:${String(ctlLine.healthPort)}`;

    // The API server reaches the injector through its Service, as in a cluster.
    apiServer.enableWebhookAdmission({
      resolveService: (ref) =>
        ref.namespace === fsmNs && ref.name === INJECTOR_SERVICE_NAME ? injectorUrl : undefined,
      logger: opts.logger,
    });
    // `fsm proxy get config` and `kubectl get --raw .../services/fsm-controller:9091/proxy/...` reach
    // the controller through the API server's service proxy, as in a cluster: its Service exists,
    // and the proxy resolves it to the local process.
    apiServer.setServiceProxy((ref) =>
      ref.namespace === fsmNs &&
      ref.name === CONTROLLER_SERVICE_NAME &&
      (ref.port === '' || ref.port === String(CONTROLLER_HEALTH_PORT))
        ? controllerUrl
        : undefined,
    );
    await apiServer.createObject('services', {
      metadata: { name: CONTROLLER_SERVICE_NAME, namespace: fsmNs, labels: { app: CONTROLLER_SERVICE_NAME } },
      spec: {
        selector: { app: CONTROLLER_SERVICE_NAME },
        ports: [{ name: 'health', port: CONTROLLER_HEALTH_PORT, targetPort: CONTROLLER_HEALTH_PORT }],
      },
    });
    await apiServer.createObject(
      'mutatingwebhookconfigurations',
      mutatingWebhookConfiguration({ meshName: mesh, fsmNamespace: fsmNs, caPem: ca.certPem }),
    );

    node = new NodeAgent({
      kubeConfig: kc,
      logger: opts.logger,
      adsAddress,
      healthcheckBinary: builtBinaryPath('fsm-healthcheck'),
      ca,
      restartDelayMs: opts.restartDelayMs,
      podAddressBlocks: opts.podAddressBlocks,
      // Pods' volumes (the sidecars' bootstrap credentials) live with the sandbox's state.
      stateDir: join(opts.dir, 'kubelet'),
    });
    await node.start();

    const createPod = async (pod: V1Pod): Promise<V1Pod> =>
      api.createNamespacedPod({ namespace: pod.metadata?.namespace ?? 'default', body: pod });
    if (opts.demo ?? true) {
      await api.createNamespace({ body: demoNamespace(mesh) });
      // The injector reads namespaces through its informer: wait until it has seen the new one.
      await new Promise((r) => setTimeout(r, 300));
      for (const p of demoPods()) await createPod(p);
    }
    log.info('sandbox running', {
      kubeconfig: kubeconfigPath,
      controller: controllerUrl,
      injector: injectorUrl,
    });
    return {
      kubeconfigPath,
      apiServer,
      controllerUrl,
      adsAddress,
      injectorUrl,
      node,
      components,
      logDir,
      createPod,
      async restartController() {
        await controller.stop();
        components.splice(components.indexOf(controller), 1);
        // Same ports as before: the probe agents reconnect to the address they know.
        const again = controllerArgs(Number(ctlLine.adsPort), Number(ctlLine.healthPort));
        controller = startComponent('fsm-controller', again, logDir);
        components.push(controller);
        await controller.waitForLog(/fsm-controller started/);
      },
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
