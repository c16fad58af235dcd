/**
 * kubectl against the sandbox API server: get, get -w (bounded: stopped once the change shows),
 * label, apply -f (create / unchanged / configured), describe pod with events, delete, and the
 * server's error messages as kubectl prints them.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { CoreV1Api } from '@kubernetes/client-node';
import { createCA } from '../../../pkg/tls/index.js';
import { startTestApiServer, type TestApiServer } from '../../support/apiserver.js';
import { Kubectl, findKubectl } from '../../support/apiserver-kubectl.js';
import { MONITORED_BY_LABEL } from '../../../pkg/constants/index.js';

let h: TestApiServer;
let home: string;
let kubectl: Kubectl;
let core: CoreV1Api;

const POD_YAML = (image: string, extraLabel = ''): string => `apiVersion: v1
kind: Pod
metadata:
  name: bookstore-v1
  namespace: bookstore
  labels:
    app: bookstore${extraLabel}
spec:
  containers:
  - name: bookstore
    image: ${image}
    ports:
    - containerPort: 14001
    livenessProbe:
      httpGet:
        path: /liveness
        port: 14001
    readinessProbe:
      tcpSocket:
        port: 14001
`;

beforeAll(async () => {
  const bin = findKubectl();
  if (!bin) throw new Error('kubectl not found on PATH (run `make tools`, or set $KUBECTL)');
  h = await startTestApiServer();
  home = await mkdtemp(join(tmpdir(), 'fsm-kubectl-home-'));
  kubectl = new Kubectl(bin, h.kubeconfigPath, home);
  core = h.kc.makeApiClient(CoreV1Api);
  await core.createNamespace({ body: { metadata: { name: 'bookstore' } } });
});

afterAll(async () => {
  await h?.stop();
  if (home) await rm(home, { recursive: true, force: true });
});

async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setTimeout(r, 20));
}

describe('kubectl', () => {
  it('get ns prints the server-side table', async () => {
    const r = await kubectl.run(['get', 'ns']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^NAME\s+STATUS\s+AGE$/);
    expect(lines.some((l) => /^bookstore\s+Active\s+\d+s$/.test(l))).toBe(true);
    expect(lines.some((l) => /^default\s+Active/.test(l))).toBe(true);
  });

  it('apply -f creates, then reports unchanged, then configured', async () => {
    const file = join(home, 'pod.yaml');
    await writeFile(file, POD_YAML('flomesh/bookstore:v1'));
    const created = await kubectl.run(['apply', '-f', file]);
    expect(created.stderr).toBe('');
    expect(created.stdout.trim()).toBe('pod/bookstore-v1 created');
    const again = await kubectl.run(['apply', '-f', file]);
    expect(again.stdout.trim()).toBe('pod/bookstore-v1 unchanged');
    await writeFile(file, POD_YAML('flomesh/bookstore:v2', '\n    version: v2'));
    const changed = await kubectl.run(['apply', '-f', file]);
    expect(changed.stderr).toBe('');
    expect(changed.stdout.trim()).toBe('pod/bookstore-v1 configured');
    const stored = h.server.store.get('pods', 'bookstore', 'bookstore-v1')!;
    const spec = stored['spec'] as { containers: { image: string; ports: unknown[] }[] };
    expect(spec.containers[0]!.image).toBe('flomesh/bookstore:v2');
    expect(spec.containers[0]!.ports).toHaveLength(1);
    expect(stored.metadata['labels']).toEqual({ app: 'bookstore', version: 'v2' });
    expect(Object.keys(stored.metadata['annotations'] as object)).toContain(
      'kubectl.kubernetes.io/last-applied-configuration',
    );
  });

  it('get pods and -o json', async () => {
    const r = await kubectl.run(['get', 'pods', '-n', 'bookstore']);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE$/);
    expect(lines[1]).toMatch(/^bookstore-v1\s+0\/1\s+Pending\s+0\s+\d+s$/);
    const one = await kubectl.run(['get', 'pod', '-n', 'bookstore', 'bookstore-v1']);
    expect(one.stderr).toBe('');
    expect(one.stdout.trim().split('\n')).toEqual([
      expect.stringMatching(/^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE$/),
      expect.stringMatching(/^bookstore-v1\s+0\/1\s+Pending\s+0\s+\d+s$/),
    ]);
    const all = await kubectl.run(['get', 'pods', '-A']);
    expect(all.stdout).toMatch(/^NAMESPACE\s+NAME\s+READY/);
    expect(all.stdout).toMatch(/\nbookstore\s+bookstore-v1\s+0\/1\s+Pending/);
    const json = JSON.parse(
      (await kubectl.run(['get', 'pod', 'bookstore-v1', '-n', 'bookstore', '-o', 'json'])).stdout,
    ) as {
      kind: string;
      metadata: { uid: string };
    };
    expect(json.kind).toBe('Pod');
    expect(json.metadata.uid).toBe(h.server.store.get('pods', 'bookstore', 'bookstore-v1')!.metadata['uid']);
  });

  it('label puts a namespace into the mesh', async () => {
    const r = await kubectl.run(['label', 'namespace', 'bookstore', `${MONITORED_BY_LABEL}=fsm`]);
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('namespace/bookstore labeled');
    expect(h.server.store.get('namespaces', undefined, 'bookstore')!.metadata['labels']).toMatchObject({
      [MONITORED_BY_LABEL]: 'fsm',
    });
    const shown = await kubectl.run(['get', 'ns', 'bookstore', '--show-labels']);
    expect(shown.stdout).toContain(`${MONITORED_BY_LABEL}=fsm`);
  });

  it('get -w shows the current row, then the change as it happens', async () => {
    const w = kubectl.spawn(['get', 'pods', '-n', 'bookstore', '-w']);
    try {
      await until(() => /bookstore-v1\s+0\/1\s+Pending/.test(w.output()));
      await until(() => h.server.watchCount('pods') >= 1);
      const pod = await core.readNamespacedPod({ name: 'bookstore-v1', namespace: 'bookstore' });
      pod.status = {
        ...pod.status,
        phase: 'Running',
        podIP: '127.0.1.2',
        containerStatuses: [
          {
            name: 'bookstore',
            image: 'flomesh/bookstore:v2',
            imageID: '',
            ready: true,
            restartCount: 0,
            started: true,
            state: { running: { startedAt: new Date() } },
          },
        ],
      };
      await core.replaceNamespacedPodStatus({ name: 'bookstore-v1', namespace: 'bookstore', body: pod });
      await until(() => /bookstore-v1\s+1\/1\s+Running\s+0/.test(w.output()));
    } finally {
      await w.stop();
    }
    expect(w.output()).not.toMatch(/error/i);
  });

  it('describe pod shows the probes and the events', async () => {
    const pod = await core.readNamespacedPod({ name: 'bookstore-v1', namespace: 'bookstore' });
    const now = new Date();
    await core.createNamespacedEvent({
      namespace: 'bookstore',
      body: {
        metadata: { name: 'bookstore-v1.unhealthy' },
        involvedObject: {
          kind: 'Pod',
          namespace: 'bookstore',
          name: 'bookstore-v1',
          uid: pod.metadata?.uid,
          apiVersion: 'v1',
          fieldPath: 'spec.containers{bookstore}',
        },
        reason: 'Unhealthy',
        message: 'Liveness probe failed: HTTP probe failed with statuscode: 503',
        type: 'Warning',
        count: 3,
        firstTimestamp: now,
        lastTimestamp: now,
        source: { component: 'kubelet' },
      },
    });
    const r = await kubectl.run(['describe', 'pod', 'bookstore-v1', '-n', 'bookstore']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^Name:\s+bookstore-v1$/m);
    expect(r.stdout).toMatch(/^Namespace:\s+bookstore$/m);
    expect(r.stdout).toMatch(
      /Liveness:\s+http-get http:\/\/:14001\/liveness delay=0s timeout=1s period=10s #success=1 #failure=3/,
    );
    expect(r.stdout).toMatch(/Readiness:\s+tcp-socket :14001/);
    expect(r.stdout).toMatch(/^Events:/m);
    expect(r.stdout).toMatch(
      /Warning\s+Unhealthy\s+\d+s \(x3 over \d+s\)\s+kubelet\s+Liveness probe failed: HTTP probe failed with statuscode: 503/,
    );
  });

  it('errors from the server read as kubectl prints them', async () => {
    const nf = await kubectl.run(['get', 'pod', 'nope', '-n', 'bookstore']);
    expect(nf.code).toBe(1);
    expect(nf.stderr.trim()).toBe('Error from server (NotFound): pods "nope" not found');
    const ns = await kubectl.run(['get', 'pods', '-n', 'ghost']);
    expect(ns.code).toBe(0);
    expect(ns.stderr.trim()).toBe('No resources found in ghost namespace.');
  });

  it('delete removes the pod (kubectl waits for it through a watch)', async () => {
    const r = await kubectl.run(['delete', 'pod', 'bookstore-v1', '-n', 'bookstore']);
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('pod "bookstore-v1" deleted');
    expect(h.server.store.get('pods', 'bookstore', 'bookstore-v1')).toBeUndefined();
    const again = await kubectl.run(['delete', 'pod', 'bookstore-v1', '-n', 'bookstore']);
    expect(again.code).toBe(1);
    expect(again.stderr.trim()).toBe('Error from server (NotFound): pods "bookstore-v1" not found');
  });

  it('apply --server-side creates, then updates (simplified server-side apply)', async () => {
    const cm = (v: string): string =>
      `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: mesh-config\n  namespace: bookstore\ndata:\n  level: "${v}"\n`;
    const first = await kubectl.run(['apply', '--server-side', '-f', '-'], cm('1'));
    expect(first.stderr).toBe('');
    expect(first.stdout.trim()).toBe('configmap/mesh-config serverside-applied');
    await kubectl.run(['apply', '--server-side', '-f', '-'], cm('2'));
    expect(h.server.store.get('configmaps', 'bookstore', 'mesh-config')!['data']).toEqual({ level: '2' });
  });

  it('typed create commands (protobuf bodies): namespace, configmap, secret, serviceaccount', async () => {
    expect((await kubectl.run(['create', 'namespace', 'typed'])).stdout.trim()).toBe(
      'namespace/typed created',
    );
    expect(h.server.store.get('namespaces', undefined, 'typed')!.metadata['labels']).toEqual({
      'kubernetes.io/metadata.name': 'typed',
    });
    const cm = await kubectl.run([
      'create',
      'configmap',
      'c1',
      '-n',
      'typed',
      '--from-literal=a=b',
      '--from-literal=c=d',
    ]);
    expect(cm.stderr).toBe('');
    expect(cm.stdout.trim()).toBe('configmap/c1 created');
    expect(h.server.store.get('configmaps', 'typed', 'c1')!['data']).toEqual({ a: 'b', c: 'd' });
    const sec = await kubectl.run([
      'create',
      'secret',
      'generic',
      's1',
      '-n',
      'typed',
      '--from-literal=k=v',
      '--type=fsm/test',
    ]);
    expect(sec.stdout.trim()).toBe('secret/s1 created');
    const stored = h.server.store.get('secrets', 'typed', 's1')!;
    expect(stored['data']).toEqual({ k: Buffer.from('v').toString('base64') });
    expect(stored['type']).toBe('fsm/test');
    expect((await kubectl.run(['create', 'serviceaccount', 'sa1', '-n', 'typed'])).stdout.trim()).toBe(
      'serviceaccount/sa1 created',
    );
    expect(h.server.store.get('serviceaccounts', 'typed', 'sa1')).toBeDefined();
    const labeled = await kubectl.run([
      'create',
      'configmap',
      'c2',
      '-n',
      'typed',
      '--from-literal=x=y',
      '--dry-run=server',
    ]);
    expect(labeled.code).toBe(0);
    expect(h.server.store.get('configmaps', 'typed', 'c2')).toBeUndefined();
  });

  it('a typed create of a kind the decoder does not know is refused with a hint', async () => {
    const r = await kubectl.run(['create', 'deployment', 'd', '-n', 'bookstore', '--image=nginx']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('use kubectl apply -f / create -f');
  });

  it('apply and delete a namespace from YAML on stdin', async () => {
    const yaml = 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: from-stdin\n';
    const r = await kubectl.run(['apply', '-f', '-'], yaml);
    expect(r.stdout.trim()).toBe('namespace/from-stdin created');
    const d = await kubectl.run(['delete', 'namespace', 'from-stdin']);
    expect(d.stdout.trim()).toBe('namespace "from-stdin" deleted');
    expect(h.server.store.get('namespaces', undefined, 'from-stdin')).toBeUndefined();
  });
});

describe('kubectl through webhook admission', () => {
  let hook: https.Server;

  beforeAll(async () => {
    const ca = await createCA('kubectl-webhook-ca');
    const cert = await ca.issue({ commonName: 'hook', ipAddresses: ['127.0.0.1'] });
    hook = https.createServer({ key: cert.keyPem, cert: cert.certPem }, (req, res) => {
      let data = '';
      req.on('data', (c: Buffer) => (data += c.toString()));
      req.on('end', () => {
        const { request } = JSON.parse(data) as { request: { uid: string } };
        const patch = [{ op: 'add', path: '/metadata/annotations', value: { 'fsm.test/injected': 'yes' } }];
        res.setHeader('Content-Type', 'application/json');
        res.end(
          JSON.stringify({
            apiVersion: 'admission.k8s.io/v1',
            kind: 'AdmissionReview',
            response: {
              uid: request.uid,
              allowed: true,
              warnings: ['probes rewritten for the mesh'],
              patchType: 'JSONPatch',
              patch: Buffer.from(JSON.stringify(patch)).toString('base64'),
            },
          }),
        );
      });
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
    h.server.enableWebhookAdmission();
    await h.server.createObject('mutatingwebhookconfigurations', {
      metadata: { name: 'kubectl-hook' },
      webhooks: [
        {
          name: 'hook.fsm.test',
          clientConfig: {
            url: `https://127.0.0.1:${(hook.address() as AddressInfo).port}/mutate`,
            caBundle: Buffer.from(ca.certPem).toString('base64'),
          },
          rules: [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'] }],
          namespaceSelector: { matchLabels: { [MONITORED_BY_LABEL]: 'fsm' } },
          sideEffects: 'None',
          admissionReviewVersions: ['v1'],
        },
      ],
    });
  });

  afterAll(async () => {
    h.server.setAdmission(undefined);
    hook.closeAllConnections();
    await new Promise<void>((r) => hook.close(() => r()));
  });

  it('apply -f into a meshed namespace prints the webhook warning and stores the mutation', async () => {
    const r = await kubectl.run(['apply', '-f', '-'], POD_YAML('flomesh/bookstore:v1'));
    expect(r.stdout.trim()).toBe('pod/bookstore-v1 created');
    expect(r.stderr.trim()).toBe('Warning: probes rewritten for the mesh');
    expect(h.server.store.get('pods', 'bookstore', 'bookstore-v1')!.metadata['annotations']).toMatchObject({
      'fsm.test/injected': 'yes',
    });
  });
});
