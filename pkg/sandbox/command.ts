/**
 * `fsm sandbox run` (what `make run` calls): starts the sandbox, prints a guide of the seed's
 * commands as soon as the control plane is Ready, says when the demo is Ready, and runs until Ctrl-C.
 */
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { CoreV1Api, KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { Command, Option } from 'commander';
import { builtBinaryPath, parseListenPort } from '../binary/index.js';
import {
  CONTROLLER_APP,
  CONTROLLER_HEALTH_PORT,
  DEFAULT_MESH_NAME,
  HEALTH_ALIVE_PATH,
  HEALTH_READY_PATH,
  LIVENESS_PROBE_PATH,
  LIVENESS_PROBE_PORT,
  type LogLevel,
} from '../constants/index.js';
import { createLogger } from '../logger/index.js';
import { CUT_OFF_ANNOTATION } from './apiserver/index.js';
import { DEMO_NAMESPACE, DEMO_READY_APPS } from './demo.js';
import { FREEZE_ANNOTATION } from './kubelet/index.js';
import { startSandbox, type Sandbox } from './sandbox.js';
import { UNHEALTHY_ANNOTATION } from './workloads/index.js';

interface RunOptions {
  dir: string;
  apiPort: number;
  demo: boolean;
  readyTimeout: number;
}

function isReady(p: V1Pod | undefined): boolean {
  return p?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

/** Waits until a pod of each demo app is Ready; returns the apps that are not when time runs out. */
export async function waitForDemo(kubeconfigPath: string, timeoutMs: number): Promise<string[]> {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  const core = kc.makeApiClient(CoreV1Api);
  const end = Date.now() + timeoutMs;
  let pending = DEMO_READY_APPS;
  while (Date.now() < end) {
    const pods = (await core.listNamespacedPod({ namespace: DEMO_NAMESPACE })).items;
    pending = DEMO_READY_APPS.filter(
      (app) => !pods.some((p) => p.metadata?.labels?.['app'] === app && isReady(p)),
    );
    if (pending.length === 0) return [];
    await new Promise((r) => setTimeout(r, 250));
  }
  return pending;
}

/** The project's bin/ (launchers that run fsm on the project's Node whatever node is on PATH). */
function launcherDir(): string {
  return join(dirname(builtBinaryPath('fsm')), '..', '..', '..', 'bin');
}

export function guide(sb: Sandbox, seconds: number): string {
  const ns = DEMO_NAMESPACE;
  const fsmNs = sb.fsmNamespace;
  const podOf = (app: string, n = ns): string =>
    `$(kubectl get pod -n ${n} -l app=${app} -o jsonpath='{.items[0].metadata.name}')`;
  return [
    '',
    `fsm sandbox is running (${seconds.toFixed(1)} s): a cluster on one machine (API server, controllers, a node`,
    `agent); the fsm control plane is being installed as pods in ${fsmNs}, then the ${ns} demo starts`,
    `(kubectl get pods -A -w to watch; this prints when each is Ready).`,
    '',
    "In another shell (whatever node is on PATH: bin/ runs fsm on the project's Node 22):",
    `  export KUBECONFIG=${sb.kubeconfigPath} PATH=${launcherDir()}:$PATH`,
    '',
    'Pods and their rewritten probes:',
    `  kubectl get pods -A                                   # ${ns}-broken restarts on purpose`,
    `  kubectl get pod -n ${ns} ${podOf('bookstore-v1')}    # READY 2/2`,
    `  kubectl describe pod -n ${ns} -l app=bookstore-broken # Unhealthy and Killing events`,
    `  kubectl logs -n ${ns} deployment/bookstore-v1 -c sidecar`,
    `  kubectl port-forward -n ${ns} deployment/bookstore-v1 ${LIVENESS_PROBE_PORT} &`,
    `  curl -i localhost:${LIVENESS_PROBE_PORT}${LIVENESS_PROBE_PATH}         # what kubelet gets through the proxy`,
    `  fsm proxy get config ${podOf('bookstore-v1')} -n ${ns}`,
    `  fsm check probes ${podOf('bookstore-broken')} -n ${ns}`,
    '',
    'The mesh data path (mTLS between sidecars):',
    `  kubectl logs -n ${ns} deployment/bookbuyer --tail 3          # bookbuyer → Service bookstore-v1 → 200`,
    `  kubectl logs -n ${ns} deployment/bookstore-v1 -c sidecar | grep peer=   # the caller's SPIFFE ID`,
    '',
    'The control plane:',
    '  fsm mesh list',
    '  fsm namespace list',
    `  kubectl get pods -n ${fsmNs} -l app=${CONTROLLER_APP}`,
    `  kubectl port-forward -n ${fsmNs} deployment/${CONTROLLER_APP} ${CONTROLLER_HEALTH_PORT} &`,
    `  curl localhost:${CONTROLLER_HEALTH_PORT}${HEALTH_READY_PATH}; curl localhost:${CONTROLLER_HEALTH_PORT}${HEALTH_ALIVE_PATH}`,
    `  unready:  kubectl annotate pod -n ${fsmNs} -l app=${CONTROLLER_APP} ${CUT_OFF_ANNOTATION}=true`,
    '           (within ~45 s: READY 0/1, "Readiness probe failed: HTTP probe failed with statuscode: 503";',
    `            undo with ${CUT_OFF_ANNOTATION}-)`,
    `  not live: kubectl annotate pod -n ${fsmNs} -l app=${CONTROLLER_APP} ${FREEZE_ANNOTATION}='*'`,
    `           (within ~35 s: Killing, a restart; kubectl logs -n ${fsmNs} deployment/${CONTROLLER_APP} --previous)`,
    '',
    `Break an app:  kubectl annotate pod -n ${ns} -l app=bookstore-v1 ${UNHEALTHY_ANNOTATION}='*'`,
    `Fix it again:  kubectl annotate pod -n ${ns} -l app=bookstore-v1 ${UNHEALTHY_ANNOTATION}-`,
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
      'start the sandbox (API server, controllers, node agent, the fsm control plane as pods, demo) until Ctrl-C',
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
        ports: { apiServer: opts.apiPort },
        readyTimeoutMs: opts.readyTimeout * 1000,
        // The guide is printed as soon as the cluster serves; the rest is reported as it happens.
        early: true,
      });
      const since = (): string => ((Date.now() - t0) / 1000).toFixed(1);
      let stopping = false;
      process.stdout.write(guide(sb, (Date.now() - t0) / 1000));
      void sb.ready.then(
        async () => {
          if (stopping) return;
          process.stdout.write(`control plane Ready (${since()} s)\n`);
          if (!opts.demo) return;
          const notReady = await waitForDemo(sb.kubeconfigPath, opts.readyTimeout * 1000).catch(
            (e: unknown) => (stopping ? [] : Promise.reject(e)),
          );
          if (stopping) return;
          process.stdout.write(
            notReady.length
              ? `demo: still not Ready after ${opts.readyTimeout} s: ${notReady.join(', ')} (kubectl get pods -n ${DEMO_NAMESPACE})\n`
              : `demo Ready (${since()} s)\n`,
          );
        },
        (e: unknown) => {
          if (!stopping) process.stdout.write(`the control plane did not become Ready: ${String(e)}\n`);
        },
      );
      await new Promise<void>((done) => {
        const stop = (): void => {
          stopping = true;
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
