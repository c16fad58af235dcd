/**
 * Test/bench helper: a sandbox API server on 127.0.0.1:0 with its kubeconfig written to a temp dir
 * and a @kubernetes/client-node KubeConfig pointed at it. Always `await h.stop()` in afterAll.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { ApiServer, type ApiServerOptions } from '../../pkg/sandbox/apiserver/index.js';

export interface TestApiServer {
  server: ApiServer;
  kc: KubeConfig;
  kubeconfigPath: string;
  dir: string;
  stop(): Promise<void>;
}

export async function startTestApiServer(opts: ApiServerOptions = {}): Promise<TestApiServer> {
  const dir = await mkdtemp(join(tmpdir(), 'fsm-apiserver-'));
  const kubeconfigPath = join(dir, 'kubeconfig');
  const server = new ApiServer({ ...opts, kubeconfigPath });
  await server.start();
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  return {
    server,
    kc,
    kubeconfigPath,
    dir,
    async stop() {
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
