/**
 * A process entry for one probe agent, for the sandbox to spawn (no cmd/ binary: the agent is a
 * sandbox part, production runs Envoy): `node dist/pkg/sandbox/agent/cli.js --ads-address ...`.
 * Shares every binary's conventions through runBinary (--help, --verbosity, exit 2 on a bad flag,
 * SIGTERM/SIGINT → stop → exit 0).
 */
import net from 'node:net';
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { InvalidArgumentError, Option } from 'commander';
import { parseDuration, runBinary } from '../../binary/index.js';
import { startProbeAgent } from './agent.js';

interface CliOptions {
  adsAddress: string;
  nodeId: string;
  nodeCluster: string;
  podAddress: string;
  portMap: Record<number, number>;
  loopbackToPod: boolean;
  maxBackoff: number;
}

/** `host:port` of the ADS. */
export function parseAdsAddress(value: string): string {
  const m = /^(.+):(\d+)$/.exec(value.trim());
  const port = m ? Number(m[2]) : NaN;
  if (!m || port < 1 || port > 65535 || /[\s/@]/.test(m[1]!)) {
    throw new InvalidArgumentError('must be host:port, e.g. 127.0.0.1:15128.');
  }
  return value.trim();
}

export function parseIpAddress(value: string): string {
  if (net.isIP(value.trim()) === 0) throw new InvalidArgumentError('must be an IP address.');
  return value.trim();
}

/** `15901=0,15902=16002`: configured listener port = port bound (0: any free port). */
export function parsePortMap(value: string): Record<number, number> {
  const out: Record<number, number> = {};
  if (value.trim() === '') return out;
  for (const part of value.split(',')) {
    const m = /^\s*(\d+)\s*=\s*(\d+)\s*$/.exec(part);
    const from = m ? Number(m[1]) : NaN;
    const to = m ? Number(m[2]) : NaN;
    if (!m || from < 1 || from > 65535 || to > 65535) {
      throw new InvalidArgumentError(`'${part.trim()}' is not <port>=<port> (1-65535 = 0-65535).`);
    }
    out[from] = to;
  }
  return out;
}

/** Runs one agent until SIGTERM/SIGINT. `argv` as process.argv (node, script, flags...). */
export async function main(argv: string[] = process.argv): Promise<void> {
  await runBinary<CliOptions>(
    {
      name: 'fsm-probe-agent',
      description:
        "Serves a pod's probe listeners from the controller's ADS (the sandbox's stand-in for Envoy).",
      options: (cmd) =>
        cmd
          .addOption(
            new Option('--ads-address <host:port>', "the controller's ADS")
              .argParser(parseAdsAddress)
              .makeOptionMandatory(),
          )
          .addOption(new Option('--node-id <uuid>', "the pod's proxy UUID (node.id)").makeOptionMandatory())
          .addOption(new Option('--node-cluster <name>', 'node.cluster').default(''))
          .addOption(
            new Option('--pod-address <ip>', "the pod's loopback address listeners bind")
              .argParser(parseIpAddress)
              .makeOptionMandatory(),
          )
          .addOption(
            new Option('--port-map <list>', 'listener ports to bind elsewhere, e.g. 15901=0,15902=16002')
              .argParser(parsePortMap)
              .default({}, 'none'),
          )
          .addOption(
            new Option(
              '--loopback-to-pod',
              'dial cluster endpoints at 127.0.0.1 on the pod address instead',
            ).default(false),
          )
          .addOption(
            new Option('--max-backoff <duration>', 'largest delay between ADS reconnects')
              .argParser(parseDuration)
              .default(10_000, '10s'),
          ),
      start: async (opts, logger) => {
        const agent = await startProbeAgent({
          adsAddress: opts.adsAddress,
          nodeId: opts.nodeId,
          nodeCluster: opts.nodeCluster,
          podAddress: opts.podAddress,
          portMap: opts.portMap,
          endpointHostMap: opts.loopbackToPod ? { '127.0.0.1': opts.podAddress } : {},
          backoff: { maxMs: opts.maxBackoff },
          logger,
        });
        return { stop: () => agent.stop() };
      },
    },
    argv,
  );
}

function isEntryPoint(): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryPoint()) await main();
