/**
 * What every fsm server binary shares: `--help`, `--version`, `--verbosity`, validated flags
 * (a bad value exits 2 naming the flag and the value), a logger, and SIGTERM/SIGINT → graceful
 * stop → exit 0. cmd/<binary>/main.ts only declares flags and wires pkg objects.
 */
import type { CommanderError } from 'commander';
import { Command, Option } from 'commander';
import { DEFAULT_LOG_LEVEL, LOG_LEVELS, SHUTDOWN_GRACE_MS, type LogLevel } from '../constants/index.js';
import { createLogger, errorMessage, type Logger } from '../logger/index.js';
import { fsmVersion } from './version.js';

/** Exit codes of every binary. */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

export interface CommonOptions {
  verbosity: LogLevel;
}

/** A started server: stop() stops accepting, finishes in-flight work and resolves. */
export interface Stoppable {
  stop(): Promise<void>;
}

export interface BinarySpec<O> {
  name: string;
  description: string;
  /** Adds the binary's own options (use the parsers of ./flags.ts). */
  options?: (cmd: Command) => void;
  /**
   * Checks the parsed flags together (a required choice between two flags, ...): a returned
   * message is a usage error, printed and exited with 2 like a bad flag value.
   */
  check?: (opts: O & CommonOptions) => string | undefined;
  /** Starts the servers; resolves once they are serving. A rejection exits 1 with its message. */
  start: (opts: O & CommonOptions, logger: Logger) => Promise<Stoppable>;
  /**
   * Log through the lean logger (winston's lines without loading winston, pkg/logger): for a
   * binary that runs in every pod, where winston's 11 MiB resident is paid per pod.
   */
  leanLogger?: boolean;
  /** Upper bound of stop() before the process exits anyway (default 5 s); may come from a flag. */
  graceMs?: number | ((opts: O & CommonOptions) => number);
}

/** Adds --verbosity to a commander command (every binary and the CLI). */
export function addVerbosityOption(cmd: Command): Command {
  return cmd.addOption(
    new Option('--verbosity <level>', 'log level').choices([...LOG_LEVELS]).default(DEFAULT_LOG_LEVEL),
  );
}

/**
 * Makes commander exit 2 on usage errors and 0 on --help/--version, instead of its default 1.
 * Commander has already printed the message (naming the flag and value) when this runs.
 */
export function exitCodeOnUsageError(cmd: Command): Command {
  return cmd.exitOverride((err: CommanderError) => {
    if (
      err.code === 'commander.helpDisplayed' ||
      err.code === 'commander.version' ||
      err.code === 'commander.help'
    ) {
      process.exit(EXIT_OK);
    }
    process.exit(EXIT_USAGE);
  });
}

/** Parses argv, starts the binary, and owns the process lifecycle until a signal stops it. */
export async function runBinary<O>(spec: BinarySpec<O>, argv: string[] = process.argv): Promise<void> {
  const cmd = new Command(spec.name).description(spec.description).version(fsmVersion(), '--version');
  cmd.allowExcessArguments(false);
  addVerbosityOption(cmd);
  spec.options?.(cmd);
  exitCodeOnUsageError(cmd);
  cmd.parse(argv);
  const opts = cmd.opts<O & CommonOptions>();
  const usage = spec.check?.(opts);
  if (usage !== undefined) cmd.error(`error: ${usage}`, { exitCode: EXIT_USAGE, code: 'fsm.usage' });

  const logger = createLogger({
    level: opts.verbosity,
    defaultMeta: { binary: spec.name },
    lean: spec.leanLogger,
  });
  // Handlers go in before start: a signal that arrives while starting stops the server as soon as
  // start resolves, instead of killing the process half-started.
  const started = spec.start(opts, logger).catch(async (err: unknown) => {
    logger.error(`${spec.name} failed to start: ${errorMessage(err)}`);
    return exitAfterFlush(logger, EXIT_FAILURE);
  });
  const graceMs = typeof spec.graceMs === 'function' ? spec.graceMs(opts) : spec.graceMs;
  onShutdownSignal(logger, started, graceMs ?? SHUTDOWN_GRACE_MS);
  await started;
}

/** Exits once the logger has written every line (bounded): the last lines say why it exits. */
export async function exitAfterFlush(logger: Logger, code: number): Promise<never> {
  await logger.close();
  process.exit(code);
}

/**
 * First SIGTERM/SIGINT: stop gracefully, exit 0 (1 if stop failed). A second signal, or the grace
 * period running out, exits 1 at once.
 */
export function onShutdownSignal(
  logger: Logger,
  server: Stoppable | Promise<Stoppable>,
  graceMs: number,
): void {
  let stopping = false;
  const handler = (signal: NodeJS.Signals): void => {
    if (stopping) {
      logger.warn(`received ${signal} again while stopping: exiting now`);
      process.exit(EXIT_FAILURE);
    }
    stopping = true;
    logger.info(`received ${signal}: stopping gracefully`, { graceMs });
    const timer = setTimeout(() => {
      logger.error('graceful stop did not finish within the grace period: exiting', { graceMs });
      void exitAfterFlush(logger, EXIT_FAILURE);
    }, graceMs);
    timer.unref();
    Promise.resolve(server)
      .then((s) => s.stop())
      .then(
        () => {
          logger.info('stopped');
          return exitAfterFlush(logger, EXIT_OK);
        },
        (err: unknown) => {
          logger.error(`stop failed: ${errorMessage(err)}`);
          return exitAfterFlush(logger, EXIT_FAILURE);
        },
      );
  };
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
}
