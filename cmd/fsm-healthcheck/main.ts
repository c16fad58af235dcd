#!/usr/bin/env node
// fsm-healthcheck: answers kubelet's rewritten tcpSocket/grpc probes on :15904 (see pkg/healthcheck).
// First: exits 2 on a Node.js older than the binaries need, before any dependency loads.
import '../../pkg/nodeversion/index.js';
import { Option } from 'commander';
import {
  DEFAULT_DIAL_TIMEOUT_MS,
  DEFAULT_HEALTHCHECK_TARGET_HOST,
  HEALTHCHECK_ALLOWED_PORTS_ENV,
  HEALTHCHECK_PORT,
} from '../../pkg/constants/index.js';
import {
  parseDuration,
  parseHost,
  parseListenPort,
  parsePortList,
  runBinary,
} from '../../pkg/binary/index.js';
import { createHealthcheckServer } from '../../pkg/healthcheck/index.js';

interface Options {
  port: number;
  bindAddress: string;
  targetHost: string;
  dialTimeout: number;
  allowedPorts: number[];
  allowAnyPort: boolean;
}

await runBinary<Options>({
  name: 'fsm-healthcheck',
  description:
    'Answers GET /fsm-healthcheck probes with a TCP connect (or gRPC health check) to the original port.',
  options: (cmd) =>
    cmd
      .addOption(
        new Option('--port <port>', 'listen port').argParser(parseListenPort).default(HEALTHCHECK_PORT),
      )
      .addOption(
        new Option('--bind-address <address>', 'address to listen on (the sandbox binds each pod its own)')
          .argParser(parseHost)
          .default('0.0.0.0'),
      )
      .addOption(
        new Option('--target-host <host>', 'host every check dials')
          .argParser(parseHost)
          .default(DEFAULT_HEALTHCHECK_TARGET_HOST),
      )
      .addOption(
        new Option('--dial-timeout <duration>', 'bound of each connect, e.g. 1s, 500ms')
          .argParser(parseDuration)
          .default(DEFAULT_DIAL_TIMEOUT_MS, '1s'),
      )
      .addOption(
        new Option(
          '--allowed-ports <ports>',
          "comma list of the ports that may be checked (the pod's probe ports; required unless --allow-any-port)",
        )
          .env(HEALTHCHECK_ALLOWED_PORTS_ENV)
          .argParser(parsePortList)
          .default([], 'none'),
      )
      .addOption(
        new Option(
          '--allow-any-port',
          'let every port be checked: anyone who reaches fsm-healthcheck can then scan the pod',
        ).default(false),
      ),
  // One per pod: winston's lines without winston's memory (pkg/logger's lean logger).
  leanLogger: true,
  // Safe by default: without a list fsm-healthcheck would dial any port it is asked about.
  check: (opts) => {
    if (opts.allowAnyPort && opts.allowedPorts.length > 0) {
      return '--allow-any-port and --allowed-ports (or FSM_HEALTHCHECK_ALLOWED_PORTS) exclude each other';
    }
    if (!opts.allowAnyPort && opts.allowedPorts.length === 0) {
      return (
        `no ports to check: set --allowed-ports <ports> (or ${HEALTHCHECK_ALLOWED_PORTS_ENV}; the injector ` +
        "sets it to the pod's probe ports), or pass --allow-any-port to let every port be checked"
      );
    }
    return undefined;
  },
  start: async (opts, logger) => {
    const server = createHealthcheckServer({
      targetHost: opts.targetHost,
      dialTimeoutMs: opts.dialTimeout,
      allowedPorts: opts.allowAnyPort ? 'any' : opts.allowedPorts,
      logger,
    });
    await server.listen(opts.port, opts.bindAddress);
    return { stop: () => server.stop() };
  },
});
