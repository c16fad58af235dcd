/**
 * What every command of the `fsm` CLI receives: where to write, the Kubernetes clients (built
 * lazily from the global --kubeconfig/--context flags, so `--help` needs no cluster), a clock and a
 * logger. Commands throw {@link CliError} for failures a user can fix; the program prints the
 * message to stderr and exits 1.
 */
import { AppsV1Api, CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import type { Logger } from '../logger/index.js';

/** Exit codes of the CLI: 0 success, 1 failure (including failed checks), 2 bad usage. */
export const CLI_EXIT_OK = 0;
export const CLI_EXIT_FAILURE = 1;
export const CLI_EXIT_USAGE = 2;

/** A failure the user can act on: printed as `Error: <message>` on stderr, exit code 1. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = CLI_EXIT_FAILURE,
  ) {
    super(message);
  }
}

/** Where commands write. The binary uses process.stdout/stderr; tests collect strings. */
export interface CliIO {
  out(text: string): void;
  err(text: string): void;
}

/** The global flags every command can read. */
export interface GlobalOptions {
  kubeconfig?: string;
  context?: string;
}

export interface KubeClients {
  kc: KubeConfig;
  core: CoreV1Api;
  apps: AppsV1Api;
}

export interface CliContext {
  io: CliIO;
  logger: Logger;
  now(): Date;
  /** Kubernetes clients from the global flags; built on first use and then reused. */
  clients(): KubeClients;
}

/** Builds the API clients of one KubeConfig. */
export function kubeClients(kc: KubeConfig): KubeClients {
  return { kc, core: kc.makeApiClient(CoreV1Api), apps: kc.makeApiClient(AppsV1Api) };
}
