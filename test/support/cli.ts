/**
 * Test helpers for the fsm CLI: run it in-process (runCli with collected output), seed meshes and
 * namespaces on the sandbox API server, read golden files (test/fixtures/cli/<name>.txt; set
 * UPDATE_GOLDEN=1 to rewrite them from the actual output), and serve a controller debug endpoint.
 */
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import type { AppsV1Api, CoreV1Api, KubeConfig, V1Pod } from '@kubernetes/client-node';
import {
  APP_LABEL,
  APP_VERSION_LABEL,
  CONTROLLER_APP,
  DEBUG_PROXIES_PATH,
  MESH_NAME_LABEL,
} from '../../pkg/constants/index.js';
import { OPERATOR_COMMAND_GROUPS, runCli, type CliDeps } from '../../pkg/cli/index.js';
import { silentLogger } from '../../pkg/logger/index.js';
import { repoRoot } from './process.js';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** `fsm <args>` in-process against `kc`, with the operator command groups (the binary tests run them all). */
export async function runFsm(args: string[], kc: KubeConfig, deps: Partial<CliDeps> = {}): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(['node', 'fsm', ...args], {
    io: { out: (t) => void (stdout += t), err: (t) => void (stderr += t) },
    kubeConfig: () => kc,
    logger: silentLogger(),
    groups: OPERATOR_COMMAND_GROUPS,
    ...deps,
  });
  return { code, stdout, stderr };
}

/** The golden text for `name`; with UPDATE_GOLDEN=1, `actual` is written first. */
export function golden(name: string, actual: string): string {
  const path = join(repoRoot(), 'test', 'fixtures', 'cli', `${name}.txt`);
  if (process.env['UPDATE_GOLDEN'] === '1') {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, actual);
  }
  if (!existsSync(path)) throw new Error(`golden file ${path} is missing: run the test with UPDATE_GOLDEN=1`);
  return readFileSync(path, 'utf8');
}

export async function ensureNamespace(
  core: CoreV1Api,
  name: string,
  labels: Record<string, string> = {},
  annotations: Record<string, string> = {},
): Promise<void> {
  await core.createNamespace({ body: { metadata: { name, labels, annotations } } });
}

/** A mesh as `fsm mesh list` finds it: an fsm-controller Deployment labelled with the mesh name. */
export async function createMeshController(
  apps: AppsV1Api,
  opts: { mesh: string; namespace: string; version?: string },
): Promise<void> {
  const labels: Record<string, string> = { [APP_LABEL]: CONTROLLER_APP, [MESH_NAME_LABEL]: opts.mesh };
  if (opts.version !== undefined) labels[APP_VERSION_LABEL] = opts.version;
  await apps.createNamespacedDeployment({
    namespace: opts.namespace,
    body: {
      metadata: { name: CONTROLLER_APP, labels },
      spec: {
        selector: { matchLabels: { [APP_LABEL]: CONTROLLER_APP } },
        template: {
          metadata: { labels: { [APP_LABEL]: CONTROLLER_APP } },
          spec: { containers: [{ name: CONTROLLER_APP, image: 'flomesh/fsm-controller:test' }] },
        },
      },
    },
  });
}

/** Creates the pod and sets its status (the sandbox API server keeps status as written). */
export async function createPodWithStatus(core: CoreV1Api, pod: V1Pod, running: boolean): Promise<V1Pod> {
  const body: V1Pod = { ...pod, metadata: { ...pod.metadata } };
  delete body.metadata!.uid;
  const created = await core.createNamespacedPod({ namespace: pod.metadata!.namespace!, body });
  const started = new Date(Date.UTC(2026, 0, 1));
  created.status = {
    phase: running ? 'Running' : 'Pending',
    containerStatuses: (created.spec?.containers ?? []).map((c) => ({
      name: c.name,
      image: c.image ?? '',
      imageID: '',
      ready: running,
      restartCount: 0,
      state: running ? { running: { startedAt: started } } : { waiting: { reason: 'ContainerCreating' } },
    })),
  };
  return core.replaceNamespacedPodStatus({
    name: created.metadata!.name!,
    namespace: created.metadata!.namespace!,
    body: created,
  });
}

/**
 * A stand-in for the controller's debug endpoint on 127.0.0.1:0: GET /debug/proxies/<ns>/<pod>
 * answers `configs["<ns>/<pod>"]` as JSON, 404 otherwise. Close it in afterAll.
 */
export async function startDebugEndpoint(
  configs: Map<string, unknown>,
): Promise<{ url: string; requests: string[]; close(): Promise<void> }> {
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    requests.push(req.url ?? '');
    const prefix = `${DEBUG_PROXIES_PATH}/`;
    const key = req.url?.startsWith(prefix) ? decodeURIComponent(req.url.slice(prefix.length)) : undefined;
    const config = key === undefined ? undefined : configs.get(key);
    if (config === undefined) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end(`no proxy ${key ?? req.url ?? ''}`);
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(config));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * A controller address that fails every request: it holds its port (so no other test's server can
 * take it over) and resets each connection as soon as it is accepted.
 */
export async function startHangUpEndpoint(): Promise<{ url: string; close(): Promise<void> }> {
  const server = net.createServer((socket) => socket.resetAndDestroy());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
