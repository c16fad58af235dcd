#!/usr/bin/env node
// fsm-injector: the mutating admission webhook (see pkg/injector). Flags → objects → start/stop.
// First: exits 2 on a Node.js older than the binaries need, before any dependency loads.
import '../../pkg/nodeversion/index.js';
import { writeFile } from 'node:fs/promises';
import { Option } from 'commander';
import { Registry } from 'prom-client';
import {
  DEFAULT_CERT_RELOAD_INTERVAL_MS,
  DEFAULT_FSM_NAMESPACE,
  DEFAULT_HEALTHCHECK_IMAGE,
  DEFAULT_INIT_IMAGE,
  DEFAULT_MESH_NAME,
  DEFAULT_SIDECAR_IMAGE,
  INJECTOR_METRICS_PORT,
  INJECTOR_TLS_SECRET_NAME,
  INJECTOR_WEBHOOK_PORT,
} from '../../pkg/constants/index.js';
import {
  parseDnsLabel,
  parseDuration,
  parseHost,
  parseListenPort,
  parseNonEmpty,
  runBinary,
} from '../../pkg/binary/index.js';
import { defaultInjectorConfig, Injector, ServerVersionWatcher } from '../../pkg/injector/index.js';
import { loadKubeConfig, namespaceInformer } from '../../pkg/k8s/index.js';
import { injectorDnsNames, webhookConfigurationName } from '../../pkg/deploy/index.js';
import { WebhookCertManager } from '../../pkg/deploy/index.js';
import { BootstrapProvisioner, MeshCaSource } from '../../pkg/identity/index.js';
import { errorMessage } from '../../pkg/logger/index.js';

interface Options {
  port: number;
  metricsPort: number;
  bindAddress: string;
  tlsCertFile: string;
  tlsKeyFile: string;
  certReloadInterval: number;
  kubeconfig?: string;
  meshName: string;
  fsmNamespace: string;
  sidecarImage: string;
  initImage: string;
  healthcheckImage: string;
  proxyLogLevel: string;
  manageWebhookCert: boolean;
}

const ENVOY_LOG_LEVELS = ['trace', 'debug', 'info', 'warning', 'error', 'critical', 'off'];

await runBinary<Options>({
  name: 'fsm-injector',
  description:
    'Mutating admission webhook: rewrites pod probes and injects the sidecar, fsm-init and fsm-healthcheck.',
  options: (cmd) =>
    cmd
      .addOption(
        new Option('--port <port>', 'HTTPS webhook port')
          .argParser(parseListenPort)
          .default(INJECTOR_WEBHOOK_PORT),
      )
      .addOption(
        new Option('--metrics-port <port>', 'plain-HTTP /metrics port')
          .argParser(parseListenPort)
          .default(INJECTOR_METRICS_PORT),
      )
      .addOption(
        new Option('--bind-address <address>', 'address both servers listen on')
          .argParser(parseHost)
          .default('0.0.0.0'),
      )
      .addOption(
        new Option('--tls-cert-file <path>', 'serving certificate (PEM), reloaded when it changes')
          .argParser(parseNonEmpty)
          .makeOptionMandatory(),
      )
      .addOption(
        new Option('--tls-key-file <path>', 'serving key (PEM), reloaded when it changes')
          .argParser(parseNonEmpty)
          .makeOptionMandatory(),
      )
      .addOption(
        new Option(
          '--cert-reload-interval <duration>',
          'how often the TLS files are re-read (they are also watched)',
        )
          .argParser(parseDuration)
          .default(DEFAULT_CERT_RELOAD_INTERVAL_MS, '10s'),
      )
      .addOption(
        new Option(
          '--kubeconfig <path>',
          'kubeconfig file (default: $KUBECONFIG, ~/.kube/config, then in-cluster)',
        ).argParser(parseNonEmpty),
      )
      .addOption(
        new Option('--mesh-name <name>', 'mesh to inject for')
          .argParser(parseDnsLabel)
          .default(DEFAULT_MESH_NAME),
      )
      .addOption(
        new Option('--fsm-namespace <namespace>', 'namespace of the fsm control plane (never injected)')
          .argParser(parseDnsLabel)
          .default(DEFAULT_FSM_NAMESPACE),
      )
      .addOption(
        new Option('--sidecar-image <image>', 'Envoy sidecar image')
          .argParser(parseNonEmpty)
          .default(DEFAULT_SIDECAR_IMAGE),
      )
      .addOption(
        new Option('--init-image <image>', 'fsm-init (iptables) image')
          .argParser(parseNonEmpty)
          .default(DEFAULT_INIT_IMAGE),
      )
      .addOption(
        new Option('--healthcheck-image <image>', 'fsm-healthcheck image')
          .argParser(parseNonEmpty)
          .default(DEFAULT_HEALTHCHECK_IMAGE),
      )
      .addOption(
        new Option('--proxy-log-level <level>', 'Envoy --log-level of injected sidecars')
          .choices(ENVOY_LOG_LEVELS)
          .default('info'),
      )
      .addOption(
        new Option(
          '--manage-webhook-cert',
          `create or load the CA and serving certificate in Secret ${INJECTOR_TLS_SECRET_NAME}, patch the webhook's ` +
            'caBundle, rotate before expiry; the pair is written to --tls-cert-file/--tls-key-file',
        ).default(false),
      ),
  start: async (opts, logger) => {
    // Namespaces come from an informer (pkg/k8s): one list+watch, never a GET per admission.
    const kc = loadKubeConfig(opts.kubeconfig !== undefined ? { kubeconfig: opts.kubeconfig } : {});
    const namespaces = namespaceInformer(kc, logger);
    // The API server's version decides native vs classic sidecars: read now, refreshed in the background.
    const serverVersion = new ServerVersionWatcher(kc, logger);
    // Without cert-manager: the certificate lives in a Secret, the files are written from it.
    const certs = opts.manageWebhookCert
      ? new WebhookCertManager(
          {
            kc,
            namespace: opts.fsmNamespace,
            secretName: INJECTOR_TLS_SECRET_NAME,
            webhookName: webhookConfigurationName({ meshName: opts.meshName }),
            dnsNames: injectorDnsNames({ fsmNamespace: opts.fsmNamespace }),
            logger,
          },
          async (tls) => {
            await writeFile(opts.tlsCertFile, tls.certPem);
            await writeFile(opts.tlsKeyFile, tls.keyPem, { mode: 0o600 });
            logger.info('webhook certificate written', { certFile: opts.tlsCertFile });
          },
        )
      : undefined;
    await certs?.start();
    // The mesh CA: created by the first replica of the injector or the controller that finds none,
    // then watched. Each injected pod gets a bootstrap credential signed by it.
    const ca = new MeshCaSource({ kc, namespace: opts.fsmNamespace, meshName: opts.meshName, logger });
    const caReadiness = ca.readinessCheck();
    // Reads and checks the TLS pair now: a bad pair fails the start before anything runs.
    const injector = new Injector({
      port: opts.port,
      metricsPort: opts.metricsPort,
      host: opts.bindAddress,
      certFile: opts.tlsCertFile,
      keyFile: opts.tlsKeyFile,
      certReloadIntervalMs: opts.certReloadInterval,
      config: defaultInjectorConfig({
        meshName: opts.meshName,
        fsmNamespace: opts.fsmNamespace,
        sidecarImage: opts.sidecarImage,
        initImage: opts.initImage,
        healthcheckImage: opts.healthcheckImage,
        proxyLogLevel: opts.proxyLogLevel,
      }),
      namespaces,
      registry: new Registry(),
      logger,
      credentials: new BootstrapProvisioner({ kc, meshName: opts.meshName, ca, logger }),
      notReady: () => {
        const r = caReadiness.check();
        return r.ok ? undefined : `${caReadiness.name}: ${r.reason}`;
      },
      serverVersion,
    });
    await serverVersion.start();
    // After the TLS pair was checked; never fails: an unusable CA is logged and /healthz names it.
    const caState = await ca.start();
    if (caState.status !== 'ok') logger.error('mesh CA not usable at start', { ...caState });
    await namespaces.start();
    namespaces.waitForSync().then(
      () => logger.info('namespace informer synced', { namespaces: namespaces.list().length }),
      (err: unknown) => logger.debug(`namespace informer stopped before syncing: ${errorMessage(err)}`),
    );
    try {
      await injector.start();
    } catch (err) {
      serverVersion.stop();
      await Promise.all([namespaces.stop(), ca.stop()]);
      throw err;
    }
    return {
      stop: async () => {
        certs?.stop();
        serverVersion.stop();
        await injector.stop();
        await Promise.all([namespaces.stop(), ca.stop()]);
      },
    };
  },
});
