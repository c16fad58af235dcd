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
  PROBE_REWRITE_ANNOTATION,
  PROBE_REWRITE_DISABLED_VALUE,
  SANDBOX_NETWORK_ENV,
  type LogLevel,
} from '../constants/index.js';
import { createLogger } from '../logger/index.js';
import { CUT_OFF_ANNOTATION } from './apiserver/index.js';
import { DEMO_NAMESPACE, DEMO_READY_APPS } from './demo.js';
import {
  LOOPBACK_ASKED,
  LOOPBACK_MISSES,
  NETWORK_MODES,
  parseNetworkModeRequest,
  removeOrphans,
  type NetworkModeRequest,
} from './netns/index.js';
import { PREMISE_CLOSED_PORT, PREMISE_NAMESPACE } from './premise.js';
import { FREEZE_ANNOTATION } from './kubelet/index.js';
import { startSandbox, type Sandbox } from './sandbox.js';
import { UNHEALTHY_ANNOTATION } from './workloads/index.js';

interface RunOptions {
  dir: string;
  apiPort: number;
  demo: boolean;
  readyTimeout: number;
  network?: NetworkModeRequest;
  podCidr?: string;
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
    ...networkGuide(sb),
    `Break an app:  kubectl annotate pod -n ${ns} -l app=bookstore-v1 ${UNHEALTHY_ANNOTATION}='*'`,
    `Fix it again:  kubectl annotate pod -n ${ns} -l app=bookstore-v1 ${UNHEALTHY_ANNOTATION}-`,
    '',
    `Logs: ${sb.logDir}   Ctrl-C stops everything.`,
    '',
  ].join('\n');
}

/** A guide line: the command, its comment in a column (a long command gets it on the next line). */
function row(command: string, comment: readonly string[]): string[] {
  const width = 66;
  const lines = comment.map((c, i) => `${(i === 0 ? `  ${command}` : '').padEnd(width)} # ${c}`);
  if (command.length + 2 > width)
    return [`  ${command}`, ...comment.map((c) => `${''.padEnd(width)} # ${c}`)];
  return lines;
}

/** Which network the pods have; in namespace mode the seed's premise in commands, else what is missed. */
export function networkGuide(sb: Sandbox): string[] {
  const n = sb.network;
  if (n.mode === 'loopback') {
    return [
      `Network: loopback mode (${n.reason ?? 'asked for'}): every pod is an address 127.0.x.y of this machine,`,
      `  so ${LOOPBACK_MISSES}.`,
      n.reason === LOOPBACK_ASKED
        ? '  Namespace mode (a network namespace per pod with the real fsm-init rules): --network auto or namespaces.'
        : '  Namespace mode (a network namespace per pod with the real fsm-init rules) needs root: sudo make run.',
      '',
    ];
  }
  const p = PREMISE_NAMESPACE;
  // Namespaces need root: a shell of the user who ran `sudo make run` needs sudo, a root shell does not.
  const sudo = process.getuid?.() === 0 && !process.env['SUDO_USER'] ? '' : 'sudo ';
  const podIP = (app: string): string =>
    `$(kubectl get pod -n ${DEMO_NAMESPACE} -l app=${app} -o jsonpath='{.items[0].status.podIP}')`;
  // A pod's namespace is fsm-<id>-p<n>, n its address's host number: the last octet in a /24 (or smaller) from .0.
  const byLastOctet = (n.podCidr?.prefix ?? 0) >= 24 && (n.podCidr?.network ?? '').endsWith('.0');
  const api = `https://${n.nodeIP}:${sb.apiServer.port}/version`;
  return [
    `Network: namespace mode (sandbox ${n.id}): each pod has its own network namespace on the node's bridge`,
    `  (node ${n.nodeIP}), fsm-init's rules applied for real; kubelet probes come from the node namespace, as here:`,
    `  ${sudo}ip netns exec ${n.nodeNamespace} curl -s ${podIP('bookstore-v1')}:${LIVENESS_PROBE_PORT}${LIVENESS_PROBE_PATH}`,
    '',
    `The seed's premise (namespace ${p}: the same apps with and without ${PROBE_REWRITE_ANNOTATION}: ${PROBE_REWRITE_DISABLED_VALUE}):`,
    ...row(`1. kubectl describe pod -n ${p} optout-http | grep Unhealthy`, [
      "Liveness probe failed: kubelet's plaintext probe met",
      'the sidecar, which requires mTLS on the app port',
    ]),
    ...row(`2. kubectl get pod -n ${p} optout-tcp`, [
      `READY 2/2: a tcpSocket probe on :${PREMISE_CLOSED_PORT}, where nothing`,
      'listens, passes: all ports appear open',
    ]),
    ...row(`3. kubectl get pod -n ${p} rewritten-http rewritten-tcp`, [
      'rewritten-http 2/2; rewritten-tcp 2/3, truthfully not ready:',
    ]),
    ...row(`   kubectl describe pod -n ${p} rewritten-tcp | grep Unhealthy`, [
      'Readiness probe failed: HTTP probe failed with statuscode: 503',
    ]),
    ...row(`4. kubectl logs -n ${DEMO_NAMESPACE} deployment/bookbuyer -c bookbuyer --tail=1`, [
      'GET http://…:14001/books/ → 200 (through the capture)',
    ]),
    ...row(
      `   kubectl logs -n ${DEMO_NAMESPACE} deployment/bookstore-v1 -c sidecar | grep -o 'peer=spiffe[^ ]*' | tail -1`,
      ["over mTLS: bookbuyer's SPIFFE ID"],
    ),
    ...(byLastOctet
      ? [
          `     ${sudo}ip netns exec fsm-${n.id}-p$(echo ${podIP('bookbuyer')} | cut -d. -f4) curl -sk ${api}`,
          ...row('', ['from inside bookbuyer: a non-mesh address (the API server) passes through']),
        ]
      : []),
    '',
  ];
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
      new Option(
        '--network <mode>',
        'pods in network namespaces with the real fsm-init rules (namespaces: root needed), on loopback addresses (loopback), or namespaces where allowed (auto); default $FSM_SANDBOX_NETWORK or auto',
      ).choices(NETWORK_MODES),
    )
    .addOption(
      new Option(
        '--pod-cidr <cidr>',
        "namespace mode: the pods' network (the node is its first address)",
      ).default('10.244.0.0/24'),
    )
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
        network:
          opts.network ?? parseNetworkModeRequest(process.env[SANDBOX_NETWORK_ENV], SANDBOX_NETWORK_ENV),
        ...(opts.podCidr ? { podCidr: opts.podCidr } : {}),
        // The guide is printed as soon as the cluster serves; the rest is reported as it happens.
        early: true,
      });
      process.stdout.write(
        sb.network.mode === 'namespaces'
          ? `network: namespace mode (a network namespace per pod, sandbox ${sb.network.id})\n`
          : `network: loopback mode (${sb.network.reason ?? 'asked for'}): ${LOOPBACK_MISSES}\n`,
      );
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
  cmd
    .command('cleanup')
    .description(
      'remove the network namespaces of sandboxes that are not running any more (a killed sandbox leaves them; a next start from the same --dir removes them too)',
    )
    .action(async () => {
      const removed = await removeOrphans();
      process.stdout.write(
        removed.length
          ? `removed ${removed.length} namespaces: ${removed.join(' ')}\n`
          : 'nothing to remove: no namespace of a stopped sandbox\n',
      );
    });
  return cmd;
}
