/**
 * Test helper: an in-process fsm-injector as the installed Deployment runs it — its TLS pair read
 * from files in `certDir` (tls.crt, tls.key) and reloaded when they change, namespaces from an
 * informer on the API server — and the API server calling it through the install's Service
 * reference (fsm-injector.<ns>.svc:9090, resolved to the injector's port on 127.0.0.1).
 */
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { INJECTOR_SERVICE_NAME, INJECTOR_WEBHOOK_PORT } from '../../pkg/constants/index.js';
import { defaultInjectorConfig, Injector } from '../../pkg/injector/index.js';
import { namespaceInformer } from '../../pkg/k8s/index.js';
import { silentLogger } from '../../pkg/logger/index.js';
import type { TestApiServer } from './apiserver.js';

export interface InstalledInjector {
  injector: Injector;
  informer: ReturnType<typeof namespaceInformer>;
  stop(): Promise<void>;
}

export async function startInstalledInjector(
  h: TestApiServer,
  opts: {
    meshName: string;
    fsmNamespace: string;
    certDir: string;
    registry?: Registry;
    certReloadIntervalMs?: number;
  },
): Promise<InstalledInjector> {
  const informer = namespaceInformer(h.kc, silentLogger());
  await informer.start();
  const injector = new Injector({
    port: 0,
    host: '127.0.0.1',
    certFile: join(opts.certDir, 'tls.crt'),
    keyFile: join(opts.certDir, 'tls.key'),
    ...(opts.certReloadIntervalMs !== undefined ? { certReloadIntervalMs: opts.certReloadIntervalMs } : {}),
    config: defaultInjectorConfig({ meshName: opts.meshName, fsmNamespace: opts.fsmNamespace }),
    namespaces: informer,
    registry: opts.registry ?? new Registry(),
    logger: silentLogger(),
  });
  try {
    await injector.start();
  } catch (e) {
    await informer.stop();
    throw e;
  }
  const port = injector.webhook.port;
  h.server.enableWebhookAdmission({
    resolveService: (ref) =>
      ref.namespace === opts.fsmNamespace &&
      ref.name === INJECTOR_SERVICE_NAME &&
      ref.port === INJECTOR_WEBHOOK_PORT
        ? `https://127.0.0.1:${port}`
        : undefined,
  });
  return {
    injector,
    informer,
    async stop() {
      await injector.stop();
      await informer.stop();
    },
  };
}
