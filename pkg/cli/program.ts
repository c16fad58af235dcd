/**
 * The `fsm` program: global flags (--kubeconfig, --context, --verbosity, --version) and one
 * commander sub-command per command group. Adding a group is one line in COMMAND_GROUPS (or pass
 * `groups` to buildProgram). runCli parses, runs and returns the exit code: 0 ok, 1 failure
 * (message on stderr), 2 bad usage (commander's message on stderr).
 */
import { Command, CommanderError, Option } from 'commander';
import { addVerbosityOption, fsmVersion } from '../binary/index.js';
import type { LogLevel } from '../constants/index.js';
import { createLogger, errorMessage, type Logger } from '../logger/index.js';
import { checkCommand } from './check.js';
import {
  CLI_EXIT_FAILURE,
  CLI_EXIT_OK,
  CLI_EXIT_USAGE,
  CliError,
  kubeClients,
  type CliContext,
  type CliIO,
  type GlobalOptions,
  type KubeClients,
} from './context.js';
import { loadCliKubeConfig, type KubeConfigLoader } from './kubeconfig.js';
import { installCommand, uninstallCommand } from './install.js';
import { meshCommand } from './mesh.js';
import { namespaceCommand } from './namespace.js';
import { proxyCommand } from './proxy.js';
import { sandboxCommand } from '../sandbox/index.js';

/** A command group: a top-level sub-command built from the shared context. */
export type CommandGroup = (ctx: CliContext) => Command;

/** The operator groups (issue 7): what in-process tests build, independent of the other groups. */
export const OPERATOR_COMMAND_GROUPS: readonly CommandGroup[] = [
  meshCommand,
  namespaceCommand,
  proxyCommand,
  checkCommand,
];

/** The groups of `fsm`, in help order. install/uninstall/sandbox get one line each here. */
export const COMMAND_GROUPS: readonly CommandGroup[] = [
  ...OPERATOR_COMMAND_GROUPS,
  installCommand,
  uninstallCommand,
  sandboxCommand,
];

export interface CliDeps {
  /** Default: process.stdout / process.stderr. */
  io?: CliIO;
  /** KubeConfig from the global flags (default: --kubeconfig, $KUBECONFIG, ~/.kube/config, in-cluster). */
  kubeConfig?: KubeConfigLoader;
  now?: () => Date;
  /** Default: readable lines on stderr at --verbosity. */
  logger?: Logger;
  /** Default: COMMAND_GROUPS. */
  groups?: readonly CommandGroup[];
}

export const processIO: CliIO = {
  out: (text) => void process.stdout.write(text),
  err: (text) => void process.stderr.write(text),
};

/** Builds the program; nothing touches the cluster until a command's action asks for clients. */
export function buildProgram(deps: CliDeps = {}): Command {
  const io = deps.io ?? processIO;
  const program = new Command('fsm')
    .description('Operate fsm meshes: meshes, namespaces, proxy configs and probe diagnosis')
    .version(fsmVersion(), '--version')
    .addOption(
      new Option('--kubeconfig <file>', 'kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)'),
    )
    .addOption(new Option('--context <name>', 'kubeconfig context to use'));
  addVerbosityOption(program);

  let clients: KubeClients | undefined;
  let logger: Logger | undefined = deps.logger;
  const ctx: CliContext = {
    io,
    now: deps.now ?? (() => new Date()),
    get logger(): Logger {
      logger ??= createLogger({
        level: program.opts<{ verbosity: LogLevel }>().verbosity,
        json: false,
        stream: process.stderr,
      });
      return logger;
    },
    clients() {
      if (!clients) {
        const g = program.opts<GlobalOptions>();
        const kc = (deps.kubeConfig ?? loadCliKubeConfig)({
          ...(g.kubeconfig !== undefined ? { kubeconfig: g.kubeconfig } : {}),
          ...(g.context !== undefined ? { context: g.context } : {}),
        });
        ctx.logger.debug('API server', {
          server: kc.getCurrentCluster()?.server,
          context: kc.getCurrentContext(),
        });
        clients = kubeClients(kc);
      }
      return clients;
    },
  };
  for (const group of deps.groups ?? COMMAND_GROUPS) program.addCommand(group(ctx));
  configureTree(program, io);
  return program;
}

/** Every command: usage errors throw (runCli maps them to exit 2), output goes to io, no extra args. */
function configureTree(cmd: Command, io: CliIO): void {
  cmd.exitOverride();
  cmd.configureOutput({ writeOut: io.out, writeErr: io.err });
  cmd.showHelpAfterError('(add --help for usage)');
  cmd.allowExcessArguments(false);
  for (const sub of cmd.commands) configureTree(sub, io);
}

/** Runs `fsm` on argv (node-style: argv[0] node, argv[1] script) and resolves with the exit code. */
export async function runCli(argv: readonly string[], deps: CliDeps = {}): Promise<number> {
  const io = deps.io ?? processIO;
  const program = buildProgram({ ...deps, io });
  try {
    await program.parseAsync([...argv]);
    return CLI_EXIT_OK;
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version exit 0; commander already printed any usage error.
      return e.exitCode === 0 ? CLI_EXIT_OK : CLI_EXIT_USAGE;
    }
    if (e instanceof CliError) {
      if (e.message !== '') io.err(`Error: ${e.message}\n`);
      return e.exitCode;
    }
    io.err(`Error: ${errorMessage(e)}\n`);
    return CLI_EXIT_FAILURE;
  }
}
