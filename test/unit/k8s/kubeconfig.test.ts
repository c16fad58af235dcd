import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import YAML from 'yaml';
import { CoreV1Api } from '@kubernetes/client-node';
import { KubeConfigError, resolveKubeConfig } from '../../../pkg/k8s/kubeconfig.js';
import { loadKubeConfig } from '../../../pkg/k8s/index.js';
import { startTestApiServer, type TestApiServer } from '../../support/apiserver.js';

let dir: string;

function config(server: string, contexts: string[], current?: string): string {
  return YAML.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: contexts.map((c) => ({ name: c, cluster: { server: `${server}/${c}` } })),
    users: contexts.map((c) => ({ name: c, user: { token: `t-${c}` } })),
    contexts: contexts.map((c) => ({ name: c, context: { cluster: c, user: c } })),
    ...(current ? { 'current-context': current } : {}),
  });
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fsm-kubeconfig-'));
  await writeFile(join(dir, 'flag.yaml'), config('https://flag', ['f1', 'f2'], 'f1'));
  await writeFile(join(dir, 'env1.yaml'), config('https://env', ['e1'], 'e1'));
  await writeFile(join(dir, 'env2.yaml'), config('https://env', ['e2'], 'e2'));
  await mkdir(join(dir, 'home', '.kube'), { recursive: true });
  await writeFile(join(dir, 'home', '.kube', 'config'), config('https://home', ['h1'], 'h1'));
  await mkdir(join(dir, 'emptyhome'), { recursive: true });
  await mkdir(join(dir, 'sa'), { recursive: true });
  await writeFile(join(dir, 'sa', 'token'), 'sa-token');
  await writeFile(join(dir, 'sa', 'namespace'), 'fsm-system\n');
  await writeFile(join(dir, 'nocontext.yaml'), config('https://x', ['a']));
  await writeFile(join(dir, 'broken.yaml'), 'clusters: [this is: not valid');
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const server = (o: Parameters<typeof loadKubeConfig>[0]) => loadKubeConfig(o).getCurrentCluster()?.server;

describe('loadKubeConfig: the usual order', () => {
  it('--kubeconfig wins over $KUBECONFIG and ~/.kube/config', () => {
    const env = { KUBECONFIG: join(dir, 'env1.yaml') };
    expect(server({ kubeconfig: join(dir, 'flag.yaml'), env, home: join(dir, 'home') })).toBe(
      'https://flag/f1',
    );
  });

  it('$KUBECONFIG: files merged, missing ones skipped, the first current-context wins', () => {
    const env = {
      KUBECONFIG: [join(dir, 'missing.yaml'), join(dir, 'env1.yaml'), join(dir, 'env2.yaml')].join(delimiter),
    };
    const r = resolveKubeConfig({ env, home: join(dir, 'home') });
    expect(r.source).toBe('env');
    expect(r.kc.getCurrentContext()).toBe('e1');
    expect(r.kc.getContexts().map((c) => c.name)).toEqual(['e1', 'e2']);
    expect(server({ env, home: join(dir, 'home'), context: 'e2' })).toBe('https://env/e2');
  });

  it('~/.kube/config when nothing else is set', () => {
    expect(resolveKubeConfig({ env: {}, home: join(dir, 'home') }).source).toBe('home');
    expect(server({ env: {}, home: join(dir, 'home') })).toBe('https://home/h1');
  });

  it('in-cluster service account last', () => {
    const r = resolveKubeConfig({
      env: { KUBERNETES_SERVICE_HOST: '10.0.0.1', KUBERNETES_SERVICE_PORT: '443' },
      home: join(dir, 'emptyhome'),
      serviceAccountDir: join(dir, 'sa'),
    });
    expect(r.source).toBe('in-cluster');
    expect(r.kc.getCurrentCluster()?.server).toBe('https://10.0.0.1:443');
    expect(r.kc.getContextObject(r.kc.getCurrentContext())?.namespace).toBe('fsm-system');
  });

  it('--context selects a context', () => {
    expect(server({ kubeconfig: join(dir, 'flag.yaml'), context: 'f2' })).toBe('https://flag/f2');
  });
});

describe('loadKubeConfig: clear errors', () => {
  it.each([
    [{ kubeconfig: '/nope/kc.yaml' }, /--kubeconfig \/nope\/kc.yaml: file not found/],
    [{ kubeconfig: 'BROKEN' }, /--kubeconfig .*broken.yaml: cannot load/],
    [{ kubeconfig: 'FLAG', context: 'zz' }, /--context zz: no such context .*\(contexts: f1, f2\)/],
    [{ kubeconfig: 'NOCONTEXT' }, /no current context/],
    [
      { env: {}, home: 'EMPTY' },
      /no Kubernetes configuration found; tried --kubeconfig \(not set\), \$KUBECONFIG \(not set\), .*emptyhome.*config \(no such file\), in-cluster \(KUBERNETES_SERVICE_HOST\/KUBERNETES_SERVICE_PORT not set\)/,
    ],
    [{ env: { KUBECONFIG: '/a/b' }, home: 'EMPTY' }, /\$KUBECONFIG=\/a\/b \(no such file\)/],
    [
      {
        env: { KUBERNETES_SERVICE_HOST: 'h', KUBERNETES_SERVICE_PORT: '1' },
        home: 'EMPTY',
        serviceAccountDir: '/nope',
      },
      /in-cluster \(\/nope\/token: no such file\)/,
    ],
  ])('%p', (o, msg) => {
    const opts = { env: {}, home: join(dir, 'emptyhome'), ...o } as Parameters<typeof loadKubeConfig>[0] & {
      kubeconfig?: string;
      home?: string;
    };
    if (opts.kubeconfig === 'BROKEN') opts.kubeconfig = join(dir, 'broken.yaml');
    if (opts.kubeconfig === 'FLAG') opts.kubeconfig = join(dir, 'flag.yaml');
    if (opts.kubeconfig === 'NOCONTEXT') opts.kubeconfig = join(dir, 'nocontext.yaml');
    if (opts.home === 'EMPTY') opts.home = join(dir, 'emptyhome');
    expect(() => loadKubeConfig(opts)).toThrow(KubeConfigError);
    expect(() => loadKubeConfig(opts)).toThrow(msg);
  });
});

describe('the kubeconfig the sandbox API server writes', () => {
  let h: TestApiServer;
  beforeAll(async () => {
    h = await startTestApiServer();
  });
  afterAll(async () => {
    await h.stop();
  });

  it('loads through --kubeconfig and talks HTTPS with the token', async () => {
    const kc = loadKubeConfig({ kubeconfig: h.kubeconfigPath, env: {} });
    const list = await kc.makeApiClient(CoreV1Api).listNamespace();
    expect(list.items.map((n) => n.metadata?.name)).toContain('default');
  });
});
