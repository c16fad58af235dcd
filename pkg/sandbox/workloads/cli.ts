/**
 * A demo app as a process, for namespace mode (the node agent starts it inside the pod's network
 * namespace, where it binds the wildcard address as a real app would):
 *   node dist/pkg/sandbox/workloads/cli.js --kind http --name bookstore --port 14001
 * Its log lines (what it serves, every request it answers) go to stdout: the container's log. It
 * reads `healthy` / `unhealthy` lines on stdin (the sandbox's break/fix annotation) and stops on
 * SIGTERM/SIGINT (exit 0).
 */
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { Command, InvalidArgumentError, Option } from 'commander';
import { isEntryPoint } from '../../binary/index.js';
import { WORKLOAD_KINDS, type WorkloadKind } from './types.js';
import { startWorkload } from './workloads.js';

interface Options {
  kind: WorkloadKind;
  name: string;
  host: string;
  port: number[];
  tlsCertFile?: string;
  tlsKeyFile?: string;
}

function port(value: string, previous: number[] = []): number[] {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new InvalidArgumentError('must be 1-65535.');
  return [...previous, n];
}

export async function main(argv: string[] = process.argv): Promise<void> {
  const cmd = new Command('fsm-sandbox-app')
    .description('A sandbox demo app (HTTP, HTTPS, TCP, gRPC health, redirects) on the given ports')
    .addOption(
      new Option('--kind <kind>', 'what the app serves').choices(WORKLOAD_KINDS).makeOptionMandatory(),
    )
    .addOption(new Option('--name <name>', 'container name, echoed in answers').makeOptionMandatory())
    .addOption(new Option('--host <ip>', 'address to bind').default('0.0.0.0'))
    .addOption(new Option('--port <port>', 'a port to serve (repeatable)').argParser(port).default([]))
    .addOption(new Option('--tls-cert-file <path>', 'https: the certificate (PEM)'))
    .addOption(new Option('--tls-key-file <path>', 'https: its key (PEM)'));
  cmd.exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2));
  cmd.parse(argv);
  const o = cmd.opts<Options>();
  const line = (text: string): void => void process.stdout.write(`${text}\n`);
  const workload = await startWorkload({
    kind: o.kind,
    name: o.name,
    host: o.host,
    ports: o.port,
    log: line,
    // The container's environment, as the app reads it (bookbuyer's target).
    env: Object.fromEntries(
      Object.entries(process.env).flatMap(([k, v]) => (v !== undefined ? [[k, v]] : [])),
    ),
    ...(o.tlsCertFile && o.tlsKeyFile
      ? { tls: { certPem: readFileSync(o.tlsCertFile, 'utf8'), keyPem: readFileSync(o.tlsKeyFile, 'utf8') } }
      : {}),
  });
  createInterface({ input: process.stdin }).on('line', (l) => {
    const wanted = l.trim();
    if (wanted === 'healthy' || wanted === 'unhealthy') void workload.setHealthy(wanted === 'healthy');
  });
  const stop = (): void => {
    void workload.stop().then(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

if (isEntryPoint(import.meta.url)) {
  await main().catch((e: unknown) => {
    process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  });
}
