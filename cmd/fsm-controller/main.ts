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
  DEFAULT_PROBE_DIAGNOSIS_INTERVAL_MS,
  DEFAULT_MESH_NAME,
  DEFAULT_OUT_OF_SYNC_THRESHOLD_MS,
  DEFAULT_RECONCILE_DEBOUNCE_MS,
  DEFAULT_RECONCILE_WORKERS,
  DEFAULT_ADS_MAX_NAMES_PER_STREAM,
  DEFAULT_ADS_MAX_NAMES_PER_SUBSCRIPTION,
  DEFAULT_ADS_MAX_STREAMS_PER_CONNECTION,
  DEFAULT_ADS_MAX_TYPES_PER_STREAM,
  DEFAULT_TRUST_DOMAIN,
  DEFAULT_WORKLOAD_CERT_VALIDITY_MS,
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
import { checkTrustDomain } from '../../pkg/identity/index.js';
import { loadKubeConfig } from '../../pkg/k8s/index.js';
import { InvalidArgumentError } from 'commander';

function parseTrustDomain(v: string): string {
  try {
    return checkTrustDomain(v);
  } catch (e) {
    throw new InvalidArgumentError(e instanceof Error ? e.message : String(e));
  }
}

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
  debugAllowRemote: boolean;
  trustDomain: string;
  workloadCertValidity: number;
  adsMaxNamesPerSubscription: number;
  adsMaxNamesPerStream: number;
  adsMaxTypesPerStream: number;
  adsMaxStreamsPerConnection: number;
  shutdownGrace: number;
  probeDiagnosisInterval: number;
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
          'coalescing: a pod changed within 1 s of its last reconcile waits until that second is over and it has been quiet this long (a first change goes at once)',
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
          '--debug-allow-remote',
          '/debug/proxies also answers non-loopback clients (default: loopback only; use kubectl port-forward)',
        ).default(false),
      )
      .addOption(
        new Option('--trust-domain <domain>', 'SPIFFE trust domain of workload certificates')
          .argParser(parseTrustDomain)
          .default(DEFAULT_TRUST_DOMAIN),
      )
      .addOption(
        new Option(
          '--workload-cert-validity <duration>',
          'validity of workload certificates (renewed at 2/3)',
        )
          .argParser(parseDuration)
          .default(DEFAULT_WORKLOAD_CERT_VALIDITY_MS, '24h'),
      )
      .addOption(
        new Option(
          '--ads-max-names-per-subscription <n>',
          'resource names one stream may subscribe to per type',
        )
          .argParser(parsePositiveInt)
          .default(DEFAULT_ADS_MAX_NAMES_PER_SUBSCRIPTION),
      )
      .addOption(
        new Option('--ads-max-names-per-stream <n>', 'resource names one stream may subscribe to in all')
          .argParser(parsePositiveInt)
          .default(DEFAULT_ADS_MAX_NAMES_PER_STREAM),
      )
      .addOption(
        new Option('--ads-max-types-per-stream <n>', 'type URLs one stream may ask for')
          .argParser(parsePositiveInt)
          .default(DEFAULT_ADS_MAX_TYPES_PER_STREAM),
      )
      .addOption(
        new Option('--ads-max-streams-per-connection <n>', 'concurrent ADS streams on one connection')
          .argParser(parsePositiveInt)
          .default(DEFAULT_ADS_MAX_STREAMS_PER_CONNECTION),
      )
      .addOption(
        new Option(
          '--shutdown-grace <duration>',
          "budget of a graceful stop after SIGTERM; keep it under the pod's terminationGracePeriodSeconds",
        )
          .argParser(parseDuration)
          .default(DEFAULT_CONTROLLER_SHUTDOWN_GRACE_MS, '25s'),
      )
      .addOption(
        new Option(
          '--probe-diagnosis-interval <duration>',
          'at most one ProbeTargetFailed diagnosis per pod, container and probe in this window',
        )
          .argParser(parseDuration)
          .default(DEFAULT_PROBE_DIAGNOSIS_INTERVAL_MS, '1m'),
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
      debugAllowRemote: opts.debugAllowRemote,
      trustDomain: opts.trustDomain,
      workloadCertValidityMs: opts.workloadCertValidity,
      adsLimits: {
        maxNamesPerSubscription: opts.adsMaxNamesPerSubscription,
        maxNamesPerStream: opts.adsMaxNamesPerStream,
        maxTypesPerStream: opts.adsMaxTypesPerStream,
      },
      adsMaxStreamsPerConnection: opts.adsMaxStreamsPerConnection,
      shutdownGraceMs: opts.shutdownGrace,
      probeDiagnosisIntervalMs: opts.probeDiagnosisInterval,
      version: fsmVersion(),
      logger,
    });
  },
});
