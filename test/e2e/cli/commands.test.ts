/**
 * The fsm CLI against our API server (real @kubernetes/client-node over HTTPS): mesh list,
 * namespace list/add/remove, proxy get config, every message and table (golden files), error paths
 * and exit codes. Runs the program in-process (runCli); test/e2e/cli/binary.test.ts runs the binary.
 */
import { AppsV1Api, CoreV1Api } from '@kubernetes/client-node';
import { parse as parseYaml } from 'yaml';
import {
  IGNORE_LABEL,
  MONITORED_BY_LABEL,
  SIDECAR_INJECTION_ANNOTATION,
} from '../../../pkg/constants/index.js';
import { desiredProxy } from '../../../pkg/catalog/index.js';
import { startTestApiServer, type TestApiServer } from '../../support/apiserver.js';
import {
  createMeshController,
  createPodWithStatus,
  ensureNamespace,
  golden,
  runFsm,
  startDebugEndpoint,
  startHangUpEndpoint,
} from '../../support/cli.js';
import { appPod, http, injectedPod } from '../../support/pods.js';

describe('fsm on an empty cluster', () => {
  let h: TestApiServer;
  beforeAll(async () => {
    h = await startTestApiServer();
  });
  afterAll(async () => {
    await h.stop();
  });

  it('mesh list says no control planes were found', async () => {
    const r = await runFsm(['mesh', 'list'], h.kc);
    expect(r).toEqual({ code: 0, stdout: 'No fsm mesh control planes found\n', stderr: '' });
    const j = await runFsm(['mesh', 'list', '-o', 'json'], h.kc);
    expect(JSON.parse(j.stdout)).toEqual([]);
  });

  it('namespace list says no namespaces are in any mesh, or in the named mesh', async () => {
    expect(await runFsm(['namespace', 'list'], h.kc)).toEqual({
      code: 0,
      stdout: 'No namespaces in any mesh\n',
      stderr: '',
    });
    expect((await runFsm(['ns', 'list', '--mesh-name', 'fsm'], h.kc)).stdout).toBe(
      'No namespaces in mesh [fsm]\n',
    );
  });

  it('namespace add names the missing mesh', async () => {
    const r = await runFsm(['namespace', 'add', 'default', '--mesh-name', 'fsm'], h.kc);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      'Error: mesh [fsm] not found: no Deployment labelled app=fsm-controller,meshName=fsm in any namespace ' +
        "(run 'fsm mesh list' to see the meshes)\n",
    );
  });
});

describe('fsm with two meshes', () => {
  let h: TestApiServer;
  let core: CoreV1Api;
  let apps: AppsV1Api;
  let debug: Awaited<ReturnType<typeof startDebugEndpoint>>;
  const configs = new Map<string, unknown>();

  beforeAll(async () => {
    h = await startTestApiServer();
    core = h.kc.makeApiClient(CoreV1Api);
    apps = h.kc.makeApiClient(AppsV1Api);
    await ensureNamespace(core, 'fsm-system');
    await ensureNamespace(core, 'fsm-system-2');
    await createMeshController(apps, { mesh: 'fsm', namespace: 'fsm-system', version: 'v0.1.0' });
    await createMeshController(apps, { mesh: 'fsm2', namespace: 'fsm-system-2' });
    await ensureNamespace(
      core,
      'bookstore',
      { [MONITORED_BY_LABEL]: 'fsm' },
      { [SIDECAR_INJECTION_ANNOTATION]: 'enabled' },
    );
    await ensureNamespace(core, 'bookbuyer', { [MONITORED_BY_LABEL]: 'fsm' });
    await ensureNamespace(core, 'bookwarehouse', { [MONITORED_BY_LABEL]: 'fsm2', [IGNORE_LABEL]: 'true' });
    for (const n of [
      'apps1',
      'apps2',
      'apps3',
      'ignored',
      'other',
      'leaving',
      'leaving2',
      'stranger',
      'plain',
    ]) {
      await ensureNamespace(core, n);
    }
    debug = await startDebugEndpoint(configs);
  });
  afterAll(async () => {
    await debug.close();
    await h.stop();
  });

  describe('mesh list', () => {
    it('prints a table with version, Unknown without the label, and the added namespaces', async () => {
      const r = await runFsm(['mesh', 'list'], h.kc);
      expect(r.code).toBe(0);
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe(golden('mesh-list', r.stdout));
    });

    it('prints JSON and YAML with the same content', async () => {
      const want = [
        { name: 'fsm', namespace: 'fsm-system', version: 'v0.1.0', namespaces: ['bookbuyer', 'bookstore'] },
        { name: 'fsm2', namespace: 'fsm-system-2', version: 'Unknown', namespaces: ['bookwarehouse'] },
      ];
      expect(JSON.parse((await runFsm(['mesh', 'list', '-o', 'json'], h.kc)).stdout)).toEqual(want);
      expect(parseYaml((await runFsm(['mesh', 'list', '-o', 'yaml'], h.kc)).stdout)).toEqual(want);
    });

    it('rejects an unknown output format with exit 2', async () => {
      const r = await runFsm(['mesh', 'list', '-o', 'xml'], h.kc);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toContain("error: option '-o, --output <format>' argument 'xml' is invalid.");
    });
  });

  describe('namespace list', () => {
    it('lists every mesh namespace with its sidecar-injection value', async () => {
      const r = await runFsm(['namespace', 'list'], h.kc);
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(golden('namespace-list', r.stdout));
    });

    it('lists one mesh with --mesh-name (and accepts --fsm-namespace as the seed uses it)', async () => {
      const r = await runFsm(['ns', 'list', '--mesh-name', 'fsm', '--fsm-namespace', 'fsm-system'], h.kc);
      expect(r.stdout).toBe(golden('namespace-list-fsm', r.stdout));
      expect((await runFsm(['namespace', 'list', '--mesh-name', 'nope'], h.kc)).stdout).toBe(
        'No namespaces in mesh [nope]\n',
      );
    });

    it('prints JSON and YAML', async () => {
      const want = [
        { name: 'bookbuyer', mesh: 'fsm', sidecarInjection: '-' },
        { name: 'bookstore', mesh: 'fsm', sidecarInjection: 'enabled' },
      ];
      expect(
        JSON.parse((await runFsm(['namespace', 'list', '--mesh-name', 'fsm', '-o', 'json'], h.kc)).stdout),
      ).toEqual(want);
      expect(
        parseYaml((await runFsm(['namespace', 'list', '--mesh-name', 'fsm', '-o', 'yaml'], h.kc)).stdout),
      ).toEqual(want);
      expect(
        JSON.parse((await runFsm(['namespace', 'list', '--mesh-name', 'nope', '-o', 'json'], h.kc)).stdout),
      ).toEqual([]);
    });

    it('rejects a mesh name that is not a DNS label with exit 2', async () => {
      const r = await runFsm(['namespace', 'list', '--mesh-name', 'Bad_Mesh'], h.kc);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain("option '--mesh-name <name>' argument 'Bad_Mesh' is invalid");
    });
  });

  describe('namespace add', () => {
    async function labelsOf(
      name: string,
    ): Promise<{ labels: Record<string, string>; annotations: Record<string, string> }> {
      const ns = await core.readNamespace({ name });
      return { labels: ns.metadata?.labels ?? {}, annotations: ns.metadata?.annotations ?? {} };
    }

    it('adds namespaces: label, annotation, one line each', async () => {
      const r = await runFsm(['namespace', 'add', 'apps1', 'apps2', '--mesh-name', 'fsm'], h.kc);
      expect(r).toEqual({
        code: 0,
        stdout:
          'Namespace [apps1] successfully added to mesh [fsm]\nNamespace [apps2] successfully added to mesh [fsm]\n',
        stderr: '',
      });
      const { labels, annotations } = await labelsOf('apps1');
      expect(labels[MONITORED_BY_LABEL]).toBe('fsm');
      expect(annotations[SIDECAR_INJECTION_ANNOTATION]).toBe('enabled');
    });

    it('uses mesh fsm by default and disables injection on request', async () => {
      const r = await runFsm(['namespace', 'add', 'apps3', '--disable-sidecar-injection'], h.kc);
      expect(r.stdout).toBe(
        'Namespace [apps3] successfully added to mesh [fsm] with sidecar injection disabled\n',
      );
      expect((await labelsOf('apps3')).annotations[SIDECAR_INJECTION_ANNOTATION]).toBe('disabled');
    });

    it('is a friendly no-op for a namespace already in the mesh', async () => {
      const r = await runFsm(['namespace', 'add', 'bookstore', '--mesh-name', 'fsm'], h.kc);
      expect(r).toEqual({ code: 0, stdout: 'Namespace [bookstore] is already in mesh [fsm]\n', stderr: '' });
      const again = await runFsm(['namespace', 'add', 'apps3', '--mesh-name', 'fsm'], h.kc);
      expect(again.stdout).toBe(
        'Namespace [apps3] is already in mesh [fsm]: sidecar injection set to enabled\n',
      );
      expect((await labelsOf('apps3')).annotations[SIDECAR_INJECTION_ANNOTATION]).toBe('enabled');
    });

    it('refuses the control-plane namespaces', async () => {
      const r = await runFsm(['namespace', 'add', 'fsm-system', '--mesh-name', 'fsm'], h.kc);
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(
        'Error: namespace fsm-system runs the control plane of mesh [fsm]; a control-plane namespace cannot be added to a mesh\n',
      );
      const other = await runFsm(['namespace', 'add', 'fsm-system-2', '--mesh-name', 'fsm'], h.kc);
      expect(other.stderr).toContain('namespace fsm-system-2 runs the control plane of mesh [fsm2]');
      // --fsm-namespace names a control-plane namespace even before its controller is deployed.
      const flagged = await runFsm(['namespace', 'add', 'plain', '--fsm-namespace', 'plain'], h.kc);
      expect(flagged.code).toBe(1);
      expect(flagged.stderr).toContain('namespace plain is the control-plane namespace (--fsm-namespace)');
      expect((await labelsOf('fsm-system')).labels[MONITORED_BY_LABEL]).toBeUndefined();
      const system = await runFsm(['namespace', 'add', 'kube-system'], h.kc);
      expect(system).toEqual({
        code: 1,
        stdout: '',
        stderr:
          'Error: namespace kube-system is a Kubernetes system namespace; fsm never injects it, so it cannot be added to a mesh\n',
      });
    });

    it('refuses an ignored namespace and says how to un-ignore it', async () => {
      await core.patchNamespace({
        name: 'ignored',
        body: [{ op: 'add', path: '/metadata/labels', value: { [IGNORE_LABEL]: 'true' } }],
      });
      const r = await runFsm(['namespace', 'add', 'ignored'], h.kc);
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(
        'Error: namespace ignored is ignored by every mesh (label flomesh.io/ignore=true); remove the label first: ' +
          'kubectl label namespace ignored flomesh.io/ignore-\n',
      );
    });

    it('refuses a namespace of another mesh unless --force, then says what moved', async () => {
      await runFsm(['namespace', 'add', 'other', '--mesh-name', 'fsm2'], h.kc);
      const r = await runFsm(['namespace', 'add', 'other', '--mesh-name', 'fsm'], h.kc);
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(
        'Error: namespace other is already in mesh [fsm2]; pass --force to move it from mesh [fsm2] to mesh [fsm]\n',
      );
      expect((await labelsOf('other')).labels[MONITORED_BY_LABEL]).toBe('fsm2');
      const forced = await runFsm(['namespace', 'add', 'other', '--mesh-name', 'fsm', '--force'], h.kc);
      expect(forced).toEqual({
        code: 0,
        stdout: 'Namespace [other] moved from mesh [fsm2] to mesh [fsm]\n',
        stderr: '',
      });
      expect((await labelsOf('other')).labels[MONITORED_BY_LABEL]).toBe('fsm');
    });

    it('handles each namespace on its own: successes on stdout, failures on stderr, exit 1', async () => {
      const r = await runFsm(['namespace', 'add', 'missing-ns', 'stranger'], h.kc);
      expect(r).toEqual({
        code: 1,
        stdout: 'Namespace [stranger] successfully added to mesh [fsm]\n',
        stderr: 'Error: namespace missing-ns not found\n',
      });
    });

    it('needs at least one namespace (exit 2)', async () => {
      const r = await runFsm(['namespace', 'add'], h.kc);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain("error: missing required argument 'namespace'");
    });
  });

  describe('namespace remove', () => {
    it('removes the mesh label, the ignore label and the injection annotation', async () => {
      await runFsm(['namespace', 'add', 'leaving', '--mesh-name', 'fsm2'], h.kc);
      await core.patchNamespace({
        name: 'leaving',
        body: [{ op: 'add', path: `/metadata/labels/${IGNORE_LABEL.replace('/', '~1')}`, value: 'x' }],
      });
      const r = await runFsm(
        ['namespace', 'remove', 'leaving', '--mesh-name', 'fsm2', '--fsm-namespace', 'fsm-system-2'],
        h.kc,
      );
      expect(r).toEqual({
        code: 0,
        stdout: 'Namespace [leaving] successfully removed from mesh [fsm2]\n',
        stderr: '',
      });
      const ns = await core.readNamespace({ name: 'leaving' });
      expect(ns.metadata?.labels?.[MONITORED_BY_LABEL]).toBeUndefined();
      expect(ns.metadata?.labels?.[IGNORE_LABEL]).toBeUndefined();
      expect(ns.metadata?.annotations?.[SIDECAR_INJECTION_ANNOTATION]).toBeUndefined();
      expect(ns.metadata?.labels?.['kubernetes.io/metadata.name']).toBe('leaving');
    });

    it('names both meshes when the namespace is in another mesh', async () => {
      await runFsm(['namespace', 'add', 'leaving2', '--mesh-name', 'fsm2'], h.kc);
      const r = await runFsm(['ns', 'remove', 'leaving2', '--mesh-name', 'fsm'], h.kc);
      expect(r).toEqual({
        code: 1,
        stdout: '',
        stderr:
          'Error: namespace leaving2 is in mesh [fsm2], not in mesh [fsm]; to take it out of mesh [fsm2], run: ' +
          'fsm namespace remove leaving2 --mesh-name fsm2\n',
      });
      expect((await core.readNamespace({ name: 'leaving2' })).metadata?.labels?.[MONITORED_BY_LABEL]).toBe(
        'fsm2',
      );
    });

    it('prints a note for a namespace in no mesh and exits 0', async () => {
      expect(await runFsm(['namespace', 'remove', 'plain'], h.kc)).toEqual({
        code: 0,
        stdout: 'Namespace [plain] is not in any mesh: nothing to remove\n',
        stderr: '',
      });
    });

    it('fails for a missing namespace and takes one namespace only', async () => {
      expect(await runFsm(['namespace', 'remove', 'nowhere'], h.kc)).toEqual({
        code: 1,
        stdout: '',
        stderr: 'Error: namespace nowhere not found\n',
      });
      const two = await runFsm(['namespace', 'remove', 'a', 'b'], h.kc);
      expect(two.code).toBe(2);
      expect(two.stderr).toContain('too many arguments');
    });
  });

  describe('proxy get config', () => {
    const pod = injectedPod({
      name: 'bookstore-v1',
      namespace: 'bookstore',
      containers: [
        { name: 'app', ports: [14001], liveness: http(14001, '/live'), readiness: http(14001, '/ready') },
      ],
    });

    beforeAll(async () => {
      await createPodWithStatus(core, pod, true);
      await createPodWithStatus(
        core,
        appPod({ name: 'plain-pod', namespace: 'bookstore', containers: [{ name: 'app' }] }),
        true,
      );
      const d = desiredProxy(pod);
      if (!d.isProxy) throw new Error(d.reason);
      configs.set('bookstore/bookstore-v1', d);
    });

    it('prints the JSON the controller serves, including the Probes view', async () => {
      const r = await runFsm(
        ['proxy', 'get', 'config', 'bookstore-v1', '-n', 'bookstore', '--controller-url', debug.url],
        h.kc,
      );
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const got = JSON.parse(r.stdout) as { probes: { LivenessProbes: { listener: string }[] } };
      expect(got).toEqual(JSON.parse(JSON.stringify(configs.get('bookstore/bookstore-v1'))));
      expect(got.probes.LivenessProbes[0]?.listener).toBe('liveness_listener');
      expect(debug.requests).toContain('/debug/proxies/bookstore/bookstore-v1');
    });

    it('prints YAML with -o yaml', async () => {
      const r = await runFsm(
        [
          'proxy',
          'get',
          'config',
          'bookstore-v1',
          '-n',
          'bookstore',
          '-o',
          'yaml',
          '--controller-url',
          debug.url + '/',
        ],
        h.kc,
      );
      expect(r.code).toBe(0);
      expect(parseYaml(r.stdout)).toEqual(JSON.parse(JSON.stringify(configs.get('bookstore/bookstore-v1'))));
    });

    it('names the pod when it does not exist or has no sidecar', async () => {
      expect(
        await runFsm(
          ['proxy', 'get', 'config', 'nope', '-n', 'bookstore', '--controller-url', debug.url],
          h.kc,
        ),
      ).toEqual({
        code: 1,
        stdout: '',
        stderr: 'Error: pod bookstore/nope not found\n',
      });
      const plain = await runFsm(
        ['proxy', 'get', 'config', 'plain-pod', '-n', 'bookstore', '--controller-url', debug.url],
        h.kc,
      );
      expect(plain.code).toBe(1);
      expect(plain.stderr).toBe(
        'Error: pod bookstore/plain-pod: no flomesh.io/proxy-uuid label: it has no fsm proxy, so no proxy config\n',
      );
    });

    it('says when the controller does not know the proxy', async () => {
      configs.delete('bookstore/bookstore-v1');
      try {
        const r = await runFsm(
          ['proxy', 'get', 'config', 'bookstore-v1', '-n', 'bookstore', '--controller-url', debug.url],
          h.kc,
        );
        expect(r.code).toBe(1);
        expect(r.stderr).toMatch(
          /^Error: the controller of mesh \[fsm\] has no config for proxy bookstore\/bookstore-v1 \(uuid [0-9a-f-]+\); is namespace bookstore in mesh \[fsm\]\? \(http:\/\/127\.0\.0\.1:\d+: GET \/debug\/proxies\/bookstore\/bookstore-v1: 404 no proxy bookstore\/bookstore-v1\)\n$/,
        );
      } finally {
        const d = desiredProxy(pod);
        configs.set('bookstore/bookstore-v1', d);
      }
    });

    it('without --controller-url goes through the API server service proxy and reports its answer', async () => {
      // Our API server does not serve services/proxy: the request reaches it (with the kubeconfig's
      // credentials) and its 404 is reported, naming the controller Service.
      const r = await runFsm(
        ['proxy', 'get', 'config', 'bookstore-v1', '-n', 'bookstore', '--fsm-namespace', 'fsm-system'],
        h.kc,
      );
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(
        'GET /api/v1/namespaces/fsm-system/services/fsm-controller:9091/proxy/debug/proxies/bookstore/bookstore-v1: 404',
      );
      expect(r.stderr).toContain('service fsm-system/fsm-controller:9091 through the API server');
      // The API server's own 404 (a Status) is not mistaken for "the controller does not know the proxy".
      expect(r.stderr).toMatch(
        /^Error: cannot get the config of proxy bookstore\/bookstore-v1 from the controller of mesh \[fsm\]/,
      );
    });

    it('reports an unreachable controller URL', async () => {
      const broken = await startHangUpEndpoint();
      try {
        const r = await runFsm(
          ['proxy', 'get', 'config', 'bookstore-v1', '-n', 'bookstore', '--controller-url', broken.url],
          h.kc,
        );
        expect(r.code).toBe(1);
        expect(r.stderr).toContain(
          `Error: cannot get the config of proxy bookstore/bookstore-v1 from the controller of mesh [fsm]: ${broken.url}: GET /debug/proxies/bookstore/bookstore-v1: `,
        );
        expect(r.stderr).toMatch(/ECONNRESET|socket hang up/);
      } finally {
        await broken.close();
      }
    });

    it('rejects a bad --controller-url and -o table with exit 2', async () => {
      const bad = await runFsm(['proxy', 'get', 'config', 'x', '--controller-url', 'ftp://h'], h.kc);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain(
        "option '--controller-url <url>' argument 'ftp://h' is invalid. must use http or https, not ftp.",
      );
      expect((await runFsm(['proxy', 'get', 'config', 'x', '-o', 'table'], h.kc)).code).toBe(2);
    });
  });
});
