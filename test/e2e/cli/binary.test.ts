/**
 * The built `fsm` binary (dist/cmd/fsm/main.js; `npm run build` first): exit codes 0/1/2, messages
 * on stderr, kubeconfig from --kubeconfig, $KUBECONFIG and --context, against our API server.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppsV1Api, CoreV1Api } from '@kubernetes/client-node';
import { MONITORED_BY_LABEL } from '../../../pkg/constants/index.js';
import { fsmVersion } from '../../../pkg/binary/index.js';
import { startTestApiServer, type TestApiServer } from '../../support/apiserver.js';
import { createMeshController, ensureNamespace } from '../../support/cli.js';
import { runBinaryToExit } from '../../support/process.js';

let h: TestApiServer;
let emptyHome: string;
/** No kubeconfig from the environment unless a test sets one. */
const noEnv = { KUBECONFIG: '', KUBERNETES_SERVICE_HOST: '', KUBERNETES_SERVICE_PORT: '' };

beforeAll(async () => {
  h = await startTestApiServer();
  emptyHome = await mkdtemp(join(tmpdir(), 'fsm-cli-home-'));
  const core = h.kc.makeApiClient(CoreV1Api);
  await ensureNamespace(core, 'fsm-system');
  await ensureNamespace(core, 'bookstore', { [MONITORED_BY_LABEL]: 'fsm' });
  await createMeshController(h.kc.makeApiClient(AppsV1Api), {
    mesh: 'fsm',
    namespace: 'fsm-system',
    version: 'v1.2.3',
  });
});

afterAll(async () => {
  await h.stop();
  await rm(emptyHome, { recursive: true, force: true });
});

function fsm(args: string[], env: NodeJS.ProcessEnv = {}) {
  return runBinaryToExit('fsm', args, { ...noEnv, HOME: emptyHome, ...env });
}

describe('fsm binary', () => {
  it('--help and --version exit 0 without a cluster', async () => {
    const help = await fsm(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: fsm [options] [command]');
    for (const group of ['mesh', 'namespace|ns', 'proxy', 'check']) expect(help.stdout).toContain(group);
    const version = await fsm(['--version']);
    expect(version).toEqual({ code: 0, stdout: `${fsmVersion()}\n`, stderr: '' });
  });

  it('bad usage exits 2 with the message on stderr', async () => {
    const none = await fsm([]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('Usage: fsm');
    const flag = await fsm(['mesh', 'list', '--nope']);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain("error: unknown option '--nope'");
    const missing = await fsm(['namespace', 'add', '--kubeconfig', h.kubeconfigPath]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("missing required argument 'namespace'");
  });

  it('reads --kubeconfig (before or after the sub-command)', async () => {
    const after = await fsm(['mesh', 'list', '--kubeconfig', h.kubeconfigPath]);
    expect(after.stderr).toBe('');
    expect(after.code).toBe(0);
    expect(after.stdout.split('\n').slice(0, 2)).toEqual([
      'MESH NAME   MESH NAMESPACE   VERSION   ADDED NAMESPACES',
      'fsm         fsm-system       v1.2.3    bookstore',
    ]);
    const before = await fsm(['--kubeconfig', h.kubeconfigPath, 'ns', 'list', '-o', 'json']);
    expect(before.code).toBe(0);
    expect(JSON.parse(before.stdout)).toEqual([{ name: 'bookstore', mesh: 'fsm', sidecarInjection: '-' }]);
  });

  it('reads $KUBECONFIG and honours --context', async () => {
    const env = await fsm(['namespace', 'list', '--mesh-name', 'fsm'], { KUBECONFIG: h.kubeconfigPath });
    expect(env.code).toBe(0);
    expect(env.stdout).toContain('bookstore   fsm    -');
    const ctx = h.kc.getCurrentContext();
    const bad = await fsm(['mesh', 'list', '--context', 'elsewhere'], { KUBECONFIG: h.kubeconfigPath });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toBe(
      `Error: --context elsewhere: no such context in $KUBECONFIG (${h.kubeconfigPath}) (contexts: ${ctx})\n`,
    );
  });

  it('kubeconfig problems exit 1 naming what was tried', async () => {
    const missing = await fsm(['mesh', 'list', '--kubeconfig', '/nonexistent/kubeconfig']);
    expect(missing).toEqual({
      code: 1,
      stdout: '',
      stderr: 'Error: --kubeconfig /nonexistent/kubeconfig: file not found\n',
    });
    const nothing = await fsm(['mesh', 'list']);
    expect(nothing.code).toBe(1);
    expect(nothing.stderr).toContain('Error: no Kubernetes configuration found');
    expect(nothing.stderr).toContain(join(emptyHome, '.kube', 'config'));
  });

  it('command failures exit 1 with the message on stderr', async () => {
    const add = await fsm([
      'namespace',
      'add',
      'bookstore',
      '--mesh-name',
      'nomesh',
      '--kubeconfig',
      h.kubeconfigPath,
    ]);
    expect(add.code).toBe(1);
    expect(add.stdout).toBe('');
    expect(add.stderr).toMatch(/^Error: mesh \[nomesh\] not found/);
    const pod = await fsm(['check', 'probes', 'ghost', '-n', 'bookstore', '--kubeconfig', h.kubeconfigPath]);
    expect(pod).toEqual({ code: 1, stdout: '', stderr: 'Error: pod bookstore/ghost not found\n' });
  });

  it('an unreachable API server exits 1 naming the request', async () => {
    const stopped = await startTestApiServer();
    await stopped.server.stop();
    const r = await fsm(['mesh', 'list', '--kubeconfig', stopped.kubeconfigPath]);
    await stopped.stop().catch(() => undefined);
    expect(r.code).toBe(1);
    // The port is free again (or, rarely, taken by another test's server): either way the request fails.
    expect(r.stderr).toMatch(/^Error: cannot list Deployments labelled app=fsm-controller: \S/);
  });
});
