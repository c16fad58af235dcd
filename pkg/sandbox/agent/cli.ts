/**
 * A process entry for one probe agent, for the sandbox to spawn (no cmd/ binary: the agent is a
 * sandbox part, production runs Envoy): `node dist/pkg/sandbox/agent/cli.js --ads-address ...`.
 * Shares every binary's conventions through runBinary (--help, --verbosity, exit 2 on a bad flag,
 * SIGTERM/SIGINT → stop → exit 0).
 *
 * In the sandbox's namespace mode the node agent runs it inside the pod's network namespace as the
 * proxy UID (so fsm-init's owner rule exempts its own traffic), with the pod's bootstrap credential
 * (--tls-*), SO_ORIGINAL_DST for its capture listeners (--original-destination) and its status on a
 * unix socket (--status-socket: GET /status), which the node agent reads from the node's side.
 */
import http from 'node:http';
import net from 'node:net';
import { rmSync } from 'node:fs';
import { InvalidArgumentError, Option } from 'commander';
import { isEntryPoint, parseDuration, runBinary } from '../../binary/index.js';
import { startProbeAgent, type AgentTls, type ProbeAgent } from './agent.js';
import { soOriginalDestination } from './original-destination.js';
import { proxyProtocolOriginalDestination } from './proxy-protocol.js';

/** How the agent learns a captured connection's original destination. */
export const ORIGINAL_DESTINATION_MODES = ['none', 'so_original_dst', 'proxy_protocol'] as const;

interface CliOptions {
  adsAddress: string;
  nodeId: string;
  nodeCluster: string;
  podAddress: string;
  portMap: Record<number, number>;
  loopbackToPod: boolean;
  maxBackoff: number;
  tlsCertFile?: string;
  tlsKeyFile?: string;
  tlsCaFile?: string;
  tlsServerName?: string;
  statusSocket?: string;
  originalDestination: (typeof ORIGINAL_DESTINATION_MODES)[number];
}

/** --tls-*: all four or none. */
export function agentTlsOf(o: Partial<CliOptions>): AgentTls | undefined {
  const given = {
    '--tls-cert-file': o.tlsCertFile,
    '--tls-key-file': o.tlsKeyFile,
    '--tls-ca-file': o.tlsCaFile,
    '--tls-server-name': o.tlsServerName,
  };
  const missing = Object.entries(given).filter(([, v]) => !v);
  if (missing.length === 4) return undefined;
  if (missing.length > 0) {
    throw new InvalidArgumentError(
      `${missing.map(([k]) => k).join(', ')} missing: the ADS mTLS needs --tls-cert-file, --tls-key-file, --tls-ca-file and --tls-server-name together`,
    );
  }
  return {
    certFile: o.tlsCertFile!,
    keyFile: o.tlsKeyFile!,
    caFile: o.tlsCaFile!,
    serverName: o.tlsServerName!,
  };
}

/** GET /status (the agent's status as JSON) on a unix socket; resolves with its close. */
async function serveStatus(path: string, agent: ProbeAgent): Promise<() => Promise<void>> {
  rmSync(path, { force: true });
  const server = http.createServer((req, res) => {
    if (req.method !== 'GET' || req.url !== '/status') {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('GET /status only\n');
      return;
    }
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(agent.status()));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => resolve());
  });
  return () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
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
          )
          .addOption(new Option('--tls-cert-file <path>', 'the bootstrap credential: certificate (ADS mTLS)'))
          .addOption(new Option('--tls-key-file <path>', 'the bootstrap credential: private key'))
          .addOption(
            new Option(
              '--tls-ca-file <path>',
              "the mesh trust bundle the controller's certificate is checked against",
            ),
          )
          .addOption(
            new Option('--tls-server-name <name>', "the name the controller's certificate must carry"),
          )
          .addOption(new Option('--status-socket <path>', 'serve GET /status (JSON) on this unix socket'))
          .addOption(
            new Option(
              '--original-destination <how>',
              "how capture listeners learn a connection's original destination (none: they are not bound; proxy_protocol: loopback mode, a PROXY v1 header names it)",
            )
              .choices(ORIGINAL_DESTINATION_MODES)
              .default('none'),
          ),
      start: async (opts, logger) => {
        const tls = agentTlsOf(opts);
        // Loaded before anything starts: a missing addon is a start failure naming what to do.
        const originalDestination =
          opts.originalDestination === 'so_original_dst'
            ? soOriginalDestination()
            : opts.originalDestination === 'proxy_protocol'
              ? proxyProtocolOriginalDestination()
              : undefined;
        const agent = await startProbeAgent({
          ...(tls ? { tls } : {}),
          ...(originalDestination ? { originalDestination } : {}),
          adsAddress: opts.adsAddress,
          nodeId: opts.nodeId,
          nodeCluster: opts.nodeCluster,
          podAddress: opts.podAddress,
          portMap: opts.portMap,
          endpointHostMap: opts.loopbackToPod ? { '127.0.0.1': opts.podAddress } : {},
          backoff: { initialMs: Math.min(250, opts.maxBackoff), maxMs: opts.maxBackoff },
          logger,
        });
        const closeStatus = opts.statusSocket ? await serveStatus(opts.statusSocket, agent) : undefined;
        return {
          stop: async () => {
            await closeStatus?.();
            await agent.stop();
          },
        };
      },
    },
    argv,
  );
}

if (isEntryPoint(import.meta.url)) await main();
