#!/usr/bin/env node
// fsm-controller: informers → catalog → probe-aware proxy configs → ADS; health on :9091 (pkg/controller).
// First: exits 2 on a Node.js older than the binaries need, before any dependency loads.
import '../../pkg/nodeversion/index.js';
import { Option } from 'commander';
import {
  ADS_PORT,
  CONTROLLER_HEALTH_PORT,
  DEFAULT_FSM_NAMESPACE,
  DEFAULT_CONTROLLER_SHUTDOWN_GRACE_MS,
  DEFAULT_MESH_NAME,
  DEFAULT_OUT_OF_SYNC_THRESHOLD_MS,
  DEFAULT_RECONCILE_DEBOUNCE_MS,
  DEFAULT_RECONCILE_WORKERS,
} from '../../pkg/constants/index.js';
import {
  fsmVersion,
  parseDnsLabel,
  parseDuration,
  parseHost,
  parseListenPort,
  parseNonEmpty,
  parsePositiveInt,
  runBinary,
} from '../../pkg/binary/index.js';
import { startController } from '../../pkg/controller/index.js';
import { loadKubeConfig } from '../../pkg/k8s/index.js';

interface Options {
  adsPort: number;
  healthPort: number;
  bindAddress: string;
  kubeconfig?: string;
  context?: string;
  meshName: string;
  fsmNamespace: string;
  outOfSyncThreshold: number;
  debounce: number;
  workers: number;
  shutdownGrace: number;
}

await runBinary<Options>({
  name: 'fsm-controller',
  description: 'Watches pods and namespaces and pushes each sidecar its probe-aware config over Envoy ADS.',
  options: (cmd) =>
    cmd
      .addOption(
        new Option('--ads-port <port>', 'ADS gRPC port').argParser(parseListenPort).default(ADS_PORT),
      )
      .addOption(
        new Option('--health-port <port>', '/health/alive, /health/ready, /metrics, /version, /debug')
          .argParser(parseListenPort)
          .default(CONTROLLER_HEALTH_PORT),
      )
      .addOption(
        new Option('--bind-address <address>', 'address both servers listen on')
          .argParser(parseHost)
          .default('0.0.0.0'),
      )
      .addOption(
        new Option(
          '--kubeconfig <path>',
          'kubeconfig file (default: $KUBECONFIG, ~/.kube/config, then in-cluster)',
        ).argParser(parseNonEmpty),
      )
      .addOption(new Option('--context <name>', 'kubeconfig context').argParser(parseNonEmpty))
      .addOption(
        new Option('--mesh-name <name>', 'mesh whose namespaces are watched')
          .argParser(parseDnsLabel)
          .default(DEFAULT_MESH_NAME),
      )
      .addOption(
        new Option('--fsm-namespace <namespace>', 'namespace of the fsm control plane')
          .argParser(parseDnsLabel)
          .default(DEFAULT_FSM_NAMESPACE),
      )
      .addOption(
        new Option(
          '--out-of-sync-threshold <duration>',
          'readiness fails when an informer lost its watch longer',
        )
          .argParser(parseDuration)
          .default(DEFAULT_OUT_OF_SYNC_THRESHOLD_MS, '30s'),
      )
      .addOption(
        new Option(
          '--debounce <duration>',
          'coalescing window: a pod changed again within it is reconciled once it has been quiet that long (a first change at once)',
        )
          .argParser(parseDuration)
          .default(DEFAULT_RECONCILE_DEBOUNCE_MS, '50ms'),
      )
      .addOption(
        new Option('--workers <n>', 'parallel reconcile workers')
          .argParser(parsePositiveInt)
          .default(DEFAULT_RECONCILE_WORKERS),
      )
      .addOption(
        new Option(
          '--shutdown-grace <duration>',
          "budget of a graceful stop after SIGTERM; keep it under the pod's terminationGracePeriodSeconds",
        )
          .argParser(parseDuration)
          .default(DEFAULT_CONTROLLER_SHUTDOWN_GRACE_MS, '25s'),
      ),
  graceMs: (opts) => opts.shutdownGrace,
  start: async (opts, logger) => {
    const kubeConfig = loadKubeConfig({ kubeconfig: opts.kubeconfig, context: opts.context });
    return startController({
      kubeConfig,
      meshName: opts.meshName,
      fsmNamespace: opts.fsmNamespace,
      adsPort: opts.adsPort,
      healthPort: opts.healthPort,
      bindAddress: opts.bindAddress,
      outOfSyncThresholdMs: opts.outOfSyncThreshold,
      debounceMs: opts.debounce,
      workers: opts.workers,
      shutdownGraceMs: opts.shutdownGrace,
      version: fsmVersion(),
      logger,
    });
  },
});
