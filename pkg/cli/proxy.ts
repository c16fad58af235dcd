/**
 * `fsm proxy get config <pod>`: the config the controller pushes to that pod's proxy (listeners,
 * clusters and the Probes view), read from the controller's debug endpoint.
 */
import { Command } from 'commander';
import { CONTROLLER_APP, APP_LABEL } from '../constants/index.js';
import { proxyIdentity } from '../catalog/index.js';
import { CliError, type CliContext, type KubeClients } from './context.js';
import { ControllerError, controllerAtUrl, proxyDebugPath, type ControllerClient } from './controller.js';
import { controllerViaApiServer } from './controller-port-forward.js';
import { controllerUrlOption, fsmNamespaceOption, meshNameOption, podNamespaceOption } from './flags.js';
import { readPod } from './pods.js';
import { outputOption, render, type OutputFormat } from './output.js';

export interface ProxyConfigOptions {
  namespace: string;
  pod: string;
  mesh: string;
  fsmNamespace: string;
  /** Undefined → the API server's service proxy, or a port-forward to a controller pod when it refuses that peer. */
  controller?: ControllerClient;
}

/** The pod must exist and carry a sidecar; then the controller's JSON for it, as served. */
export async function getProxyConfig(clients: KubeClients, opts: ProxyConfigOptions): Promise<unknown> {
  const { namespace, pod: name } = opts;
  const pod = await readPod(clients, namespace, name);
  const id = proxyIdentity(pod);
  if (!id.isProxy) throw new CliError(`${id.reason}: it has no fsm proxy, so no proxy config`);
  const controller = opts.controller ?? controllerViaApiServer(clients.kc, opts.fsmNamespace);
  try {
    return await controller.getJson(proxyDebugPath(namespace, name));
  } catch (e) {
    if (e instanceof ControllerError && e.status === 404 && !e.apiServer) {
      throw new CliError(
        `the controller of mesh [${opts.mesh}] has no config for proxy ${namespace}/${name} ` +
          `(uuid ${id.proxy.uuid}); is namespace ${namespace} in mesh [${opts.mesh}]? (${e.message})`,
      );
    }
    throw new CliError(
      `cannot get the config of proxy ${namespace}/${name} from the controller of mesh [${opts.mesh}]: ` +
        `${e instanceof Error ? e.message : String(e)}. Is it running? kubectl -n ${opts.fsmNamespace} get pods ` +
        `-l ${APP_LABEL}=${CONTROLLER_APP} (or pass --controller-url)`,
    );
  }
}

export function proxyCommand(ctx: CliContext): Command {
  const proxy = new Command('proxy').description('inspect the config of mesh proxies');
  const get = proxy.command('get').description('get a proxy resource');
  get
    .command('config')
    .description("the config the controller pushes to a pod's proxy, including the Probes view")
    .argument('<pod>', 'pod name')
    .addOption(podNamespaceOption())
    .addOption(meshNameOption())
    .addOption(fsmNamespaceOption())
    .addOption(controllerUrlOption())
    .addOption(outputOption(['json', 'yaml'], 'json'))
    .action(
      async (
        pod: string,
        opts: {
          namespace: string;
          meshName: string;
          fsmNamespace: string;
          controllerUrl?: string;
          output: OutputFormat;
        },
      ) => {
        const config = await getProxyConfig(ctx.clients(), {
          namespace: opts.namespace,
          pod,
          mesh: opts.meshName,
          fsmNamespace: opts.fsmNamespace,
          ...(opts.controllerUrl ? { controller: controllerAtUrl(opts.controllerUrl) } : {}),
        });
        ctx.io.out(render(opts.output, config, () => ''));
      },
    );
  return proxy;
}
