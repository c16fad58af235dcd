/**
 * The built fsm-injector binary serving on 127.0.0.1 (ports 0) against a sandbox API server whose
 * namespace `app` is in the mesh: what a kube-apiserver's webhook call meets. Always `await stop()`.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api } from '@kubernetes/client-node';
import { MONITORED_BY_LABEL } from '../../pkg/constants/index.js';
import { createCA } from '../../pkg/tls/index.js';
import { startTestApiServer, type TestApiServer } from './apiserver.js';
import { startBinary, type RunningBinary } from './process.js';

export interface ServingInjector {
  bin: RunningBinary;
  api: TestApiServer;
  /** HTTPS webhook port. */
  port: number;
  metricsPort: number;
  /** PEM of the CA that signed the serving certificate. */
  ca: string;
  stop(): Promise<void>;
}

export async function startInjectorBinary(extraArgs: string[] = []): Promise<ServingInjector> {
  const dir = mkdtempSync(join(tmpdir(), 'fsm-injector-bin-'));
  const ca = await createCA('fsm-injector-ca');
  const serving = await ca.issue({
    commonName: 'fsm-injector',
    dnsNames: ['localhost'],
    ipAddresses: ['127.0.0.1'],
  });
  writeFileSync(join(dir, 'tls.crt'), serving.certPem);
  writeFileSync(join(dir, 'tls.key'), serving.keyPem);
  const api = await startTestApiServer();
  await api.kc
    .makeApiClient(CoreV1Api)
    .createNamespace({ body: { metadata: { name: 'app', labels: { [MONITORED_BY_LABEL]: 'fsm' } } } });
  // The control plane's own namespace, as in a cluster: the mesh CA Secret lives there.
  await api.kc.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: 'fsm-system' } } });
  const bin = startBinary('fsm-injector', [
    '--port',
    '0',
    '--metrics-port',
    '0',
    '--bind-address',
    '127.0.0.1',
    '--kubeconfig',
    api.kubeconfigPath,
    '--tls-cert-file',
    join(dir, 'tls.crt'),
    '--tls-key-file',
    join(dir, 'tls.key'),
    ...extraArgs,
  ]);
  const stop = async (): Promise<void> => {
    bin.kill('SIGKILL');
    await bin.exited;
    await api.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const port = Number((await bin.waitForLog(/webhook serving HTTPS/))['port']);
    const metricsPort = Number((await bin.waitForLog(/metrics serving/))['port']);
    await bin.waitForLog(/namespace informer synced/);
    return { bin, api, port, metricsPort, ca: ca.certPem, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
