/**
 * `fsm sandbox run` (what `make run` calls): starts the sandbox, waits until the demo pods are up,
 * prints a short guide, and runs until Ctrl-C.
 */
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { CoreV1Api, KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { Command, Option } from 'commander';
import { parseListenPort } from '../binary/index.js';
import {
  ADS_PORT,
  CONTROLLER_HEALTH_PORT,
  DEFAULT_MESH_NAME,
  HEALTH_READY_PATH,
  INJECTOR_WEBHOOK_PORT,
  LIVENESS_PROBE_PATH,
  LIVENESS_PROBE_PORT,
  type LogLevel,
} from '../constants/index.js';
import { createLogger } from '../logger/index.js';
import { DEMO_NAMESPACE } from './demo.js';
import { startSandbox, type Sandbox } from './sandbox.js';
import { UNHEALTHY_ANNOTATION } from './workloads/index.js';

/** Demo pods expected Ready (bookstore-broken restarts on purpose and may be either). */
const EXPECT_READY = ['bookstore-v1', 'bookstore-db', 'bookstore-secure', 'bookstore-grpc', 'bookstore-duo'];

interface RunOptions {
  dir: string;
  apiPort: number;
  demo: boolean;
  readyTimeout: number;
}

function isReady(p: V1Pod | undefined): boolean {
  return p?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

/** Waits until the demo pods are Ready; returns those that are not when time runs out. */
export async function waitForDemo(kubeconfigPath: string, timeoutMs: number): Promise<string[]> {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  const core = kc.makeApiClient(CoreV1Api);
  const end = Date.now() + timeoutMs;
  let pending = EXPECT_READY;
  while (Date.now() < end) {
    const pods = (await core.listNamespacedPod({ namespace: DEMO_NAMESPACE })).items;
    pending = EXPECT_READY.filter((n) => !isReady(pods.find((p) => p.metadata?.name === n)));
    if (pending.length === 0) return [];
    await new Promise((r) => setTimeout(r, 250));
  }
  return pending;
}

export function guide(sb: Sandbox, seconds: number, notReady: string[]): string {
  const ip = (name: string): string => sb.node.podIP(DEMO_NAMESPACE, name) ?? '<pod-ip>';
  const fsm = 'node dist/cmd/fsm/main.js';
  return [
    '',
    `fsm sandbox is running (${seconds.toFixed(1)} s). A mesh on one machine: API server, fsm-injector,`,
    'fsm-controller, a kubelet-like node agent, per-pod probe agents and fsm-healthcheck.',
    notReady.length ? `  (still starting: ${notReady.join(', ')})` : '',
    '',
    `  export KUBECONFIG=${sb.kubeconfigPath}`,
    '  kubectl get pods -A                        # all Ready; bookstore-broken restarts on purpose',
    `  kubectl describe pod -n ${DEMO_NAMESPACE} bookstore-broken    # Unhealthy and Killing events`,
    `  kubectl get pod -n ${DEMO_NAMESPACE} bookstore-v1 -o yaml     # the rewritten probes`,
    `  curl -i http://${ip('bookstore-v1')}:${LIVENESS_PROBE_PORT}${LIVENESS_PROBE_PATH}   # kubelet's view`,
    `  curl -i http://${ip('bookstore-db')}:15904/fsm-healthcheck -H 'Original-Tcp-Port: 5432'`,
    `  ${fsm} proxy get config bookstore-v1 -n ${DEMO_NAMESPACE}   # via the API server's service proxy`,
    `  ${fsm} check probes bookstore-broken -n ${DEMO_NAMESPACE}`,
    `  curl ${sb.controllerUrl}${HEALTH_READY_PATH}`,
    '',
    `  break an app:  kubectl annotate pod -n ${DEMO_NAMESPACE} bookstore-v1 ${UNHEALTHY_ANNOTATION}='*'`,
    `  fix it again:  kubectl annotate pod -n ${DEMO_NAMESPACE} bookstore-v1 ${UNHEALTHY_ANNOTATION}-`,
    '',
    `Logs: ${sb.logDir}   Ctrl-C stops everything.`,
    '',
  ].join('\n');
}

export function sandboxCommand(): Command {
  const cmd = new Command('sandbox').description('A local mesh on this machine, no cluster needed');
  cmd
    .command('run')
    .description(
      'start the sandbox (API server, fsm-injector, fsm-controller, node agent, demo) until Ctrl-C',
    )
    .addOption(
      new Option('--dir <path>', 'state directory (kubeconfig, certificates, logs)').default('.sandbox'),
    )
    .addOption(
      new Option('--api-port <port>', 'API server port on 127.0.0.1')
        .argParser(parseListenPort)
        .default(6443),
    )
    .addOption(new Option('--no-demo', 'do not create the bookstore demo'))
    .addOption(
      new Option('--ready-timeout <seconds>', 'how long to wait for the demo pods')
        .argParser(parseListenPort)
        .default(60),
    )
    .action(async (opts: RunOptions, command: Command) => {
      // --verbosity is the program's global flag: it sets the components' log level too.
      const verbosity = command.optsWithGlobals<{ verbosity: LogLevel }>().verbosity;
      const dir = resolve(opts.dir);
      await mkdir(join(dir, 'logs'), { recursive: true });
      const stream = createWriteStream(join(dir, 'logs', 'sandbox.log'), { flags: 'a' });
      const logger = createLogger({
        level: verbosity,
        json: true,
        stream,
      });
      const t0 = Date.now();
      process.stdout.write(`starting the fsm sandbox in ${dir} ...\n`);
      const sb = await startSandbox({
        dir,
        logger,
        meshName: DEFAULT_MESH_NAME,
        demo: opts.demo,
        verbosity,
        ports: {
          apiServer: opts.apiPort,
          injector: INJECTOR_WEBHOOK_PORT,
          injectorMetrics: INJECTOR_WEBHOOK_PORT + 2,
          ads: ADS_PORT,
          controllerHealth: CONTROLLER_HEALTH_PORT,
        },
      });
      const notReady = opts.demo ? await waitForDemo(sb.kubeconfigPath, opts.readyTimeout * 1000) : [];
      process.stdout.write(guide(sb, (Date.now() - t0) / 1000, notReady));
      await new Promise<void>((done) => {
        const stop = (): void => {
          process.stdout.write('\nstopping the sandbox ...\n');
          void sb.stop().then(async () => {
            await logger.close();
            process.stdout.write('stopped.\n');
            done();
          });
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    });
  return cmd;
}
