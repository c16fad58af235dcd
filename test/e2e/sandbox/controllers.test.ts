/**
 * The sandbox's controllers with the real node agent and the real kubectl: a Deployment's
 * ReplicaSet and pods (`<deploy>-<hash>-<5>`, owner references, pod-template-hash), scale through
 * the scale subresource, a rollout of a new template (rollout status, history), deletion with
 * garbage collection (and --cascade=orphan), and the EndpointSlices of a Service.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppsV1Api, CoreV1Api, DiscoveryV1Api } from '@kubernetes/client-node';
import { silentLogger } from '../../../pkg/logger/index.js';
import { createCA } from '../../../pkg/tls/index.js';
import { ControllerManager } from '../../../pkg/sandbox/controllers/index.js';
import { NodeAgent } from '../../../pkg/sandbox/kubelet/index.js';
import { startTestApiServer, type TestApiServer } from '../../support/apiserver.js';
import { Kubectl, findKubectl } from '../../support/apiserver-kubectl.js';
import { eventually } from '../../support/eventually.js';

const NS = 'shelf';

const deploymentYaml = (replicas: number, version: string) => `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: ${NS}}
spec:
  replicas: ${replicas}
  selector: {matchLabels: {app: web}}
  strategy: {rollingUpdate: {maxSurge: 1, maxUnavailable: 0}}
  template:
    metadata: {labels: {app: web, version: ${version}}}
    spec:
      containers:
      - name: web
        image: fsm-sandbox/http-app:${version}
        ports: [{name: http, containerPort: 8080}]
        readinessProbe: {httpGet: {port: 8080, path: /ready}, periodSeconds: 1}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: ${NS}}
spec:
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: http}]
`;

let h: TestApiServer;
let cm: ControllerManager;
let node: NodeAgent;
let kubectl: Kubectl;
let home: string;
let apps: AppsV1Api;
let core: CoreV1Api;

beforeAll(async () => {
  h = await startTestApiServer();
  home = await mkdtemp(join(tmpdir(), 'fsm-controllers-'));
  const bin = findKubectl();
  if (!bin) throw new Error('kubectl not found on PATH (run `make tools`, or set $KUBECTL)');
  kubectl = new Kubectl(bin, h.kubeconfigPath, home);
  apps = h.kc.makeApiClient(AppsV1Api);
  core = h.kc.makeApiClient(CoreV1Api);
  cm = new ControllerManager(h.kc, silentLogger());
  await cm.start();
  const block = 100 + Math.floor(Math.random() * 100);
  node = new NodeAgent({
    kubeConfig: h.kc,
    logger: silentLogger(),
    adsAddress: '127.0.0.1:1',
    healthcheckBinary: '/nonexistent',
    ca: await createCA('controllers-test'),
    restartDelayMs: 200,
    podAddressBlocks: { first: block, last: block },
  });
  await node.start();
  await core.createNamespace({ body: { metadata: { name: NS } } });
});

afterAll(async () => {
  await node?.stop();
  await cm?.stop();
  await h?.stop();
  if (home) await rm(home, { recursive: true, force: true });
});

const webPods = async () =>
  (await core.listNamespacedPod({ namespace: NS, labelSelector: 'app=web' })).items.filter(
    (p) => !p.metadata?.deletionTimestamp,
  );

describe('Deployments, ReplicaSets and their pods', () => {
  it('apply: a ReplicaSet <deploy>-<hash> and pods <rs>-<5>, owned, Ready; rollout status succeeds', async () => {
    const applied = await kubectl.run(['apply', '-f', '-'], deploymentYaml(2, 'v1'));
    expect(applied.stderr).toBe('');
    expect(applied.stdout).toContain('deployment.apps/web created');
    const status = await kubectl.run(['rollout', 'status', '-n', NS, 'deployment/web', '--timeout=60s']);
    expect(status.stdout).toContain('deployment "web" successfully rolled out');
    expect(status.code).toBe(0);
    const rss = (await apps.listNamespacedReplicaSet({ namespace: NS })).items;
    expect(rss).toHaveLength(1);
    const rs = rss[0]!;
    const hash = rs.metadata!.labels!['pod-template-hash']!;
    expect(rs.metadata!.name).toBe(`web-${hash}`);
    expect(rs.metadata!.ownerReferences).toMatchObject([
      { kind: 'Deployment', name: 'web', controller: true },
    ]);
    const pods = await webPods();
    expect(pods).toHaveLength(2);
    for (const p of pods) {
      expect(p.metadata!.name).toMatch(new RegExp(`^web-${hash}-[a-z0-9]{5}$`));
      expect(p.metadata!.labels!['pod-template-hash']).toBe(hash);
      expect(p.metadata!.ownerReferences).toMatchObject([
        { kind: 'ReplicaSet', name: rs.metadata!.name, controller: true },
      ]);
    }
    const get = await kubectl.run(['get', 'deploy', '-n', NS]);
    expect(get.stdout).toMatch(/^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE\n/);
    expect(get.stdout).toMatch(/\nweb\s+2\/2\s+2\s+2\s+\d+s\n/);
    const getRs = await kubectl.run(['get', 'rs', '-n', NS]);
    expect(getRs.stdout).toMatch(new RegExp(`\\nweb-${hash}\\s+2\\s+2\\s+2\\s+\\d+s\\n`));
  });

  it('the Service gets an EndpointSlice of the ready pods, the named targetPort resolved', async () => {
    const discovery = h.kc.makeApiClient(DiscoveryV1Api);
    const slice = await eventually('a slice with 2 ready endpoints', async () => {
      const items = (
        await discovery.listNamespacedEndpointSlice({
          namespace: NS,
          labelSelector: 'kubernetes.io/service-name=web',
        })
      ).items;
      const s = items[0];
      return items.length === 1 && s?.endpoints?.filter((e) => e.conditions?.ready).length === 2
        ? s
        : undefined;
    });
    expect(slice.ports).toEqual([{ name: 'http', port: 8080, protocol: 'TCP' }]);
    expect(slice.metadata!.ownerReferences).toMatchObject([
      { kind: 'Service', name: 'web', controller: true },
    ]);
    const ips = (await webPods()).map((p) => p.status!.podIP).sort();
    expect(slice.endpoints!.map((e) => e.addresses[0]).sort()).toEqual(ips);
    const r = await kubectl.run(['get', 'endpointslices', '-n', NS]);
    expect(r.stdout).toMatch(/^NAME\s+ADDRESSTYPE\s+PORTS\s+ENDPOINTS\s+AGE\n/);
    expect(r.stdout).toMatch(/web-[a-z0-9]{5}\s+IPv4\s+8080\s+127\.0\.\d+\.\d+,127\.0\.\d+\.\d+/);
  });

  it('kubectl scale goes through the scale subresource, up and down', async () => {
    const up = await kubectl.run(['scale', '-n', NS, 'deployment/web', '--replicas=3']);
    expect(up.stderr).toBe('');
    expect(up.stdout.trim()).toBe('deployment.apps/web scaled');
    await eventually('3 ready pods', async () => {
      const d = await apps.readNamespacedDeployment({ name: 'web', namespace: NS });
      return d.status?.readyReplicas === 3 && (await webPods()).length === 3 ? true : undefined;
    });
    const down = await kubectl.run(['scale', '-n', NS, 'deployment/web', '--replicas=1']);
    expect(down.code).toBe(0);
    await eventually('1 pod', async () => ((await webPods()).length === 1 ? true : undefined));
    const scale = await kubectl.run(['get', '--raw', `/apis/apps/v1/namespaces/${NS}/deployments/web/scale`]);
    expect(JSON.parse(scale.stdout)).toMatchObject({
      kind: 'Scale',
      apiVersion: 'autoscaling/v1',
      spec: { replicas: 1 },
      status: { selector: 'app=web' },
    });
  });

  it('a new template rolls out: a second ReplicaSet, the old one at 0, revision 2 in the history', async () => {
    const applied = await kubectl.run(['apply', '-f', '-'], deploymentYaml(2, 'v2'));
    expect(applied.stdout).toContain('deployment.apps/web configured');
    const status = await kubectl.run(['rollout', 'status', '-n', NS, 'deployment/web', '--timeout=60s']);
    expect(status.code).toBe(0);
    expect(status.stdout).toContain('deployment "web" successfully rolled out');
    const rss = (await apps.listNamespacedReplicaSet({ namespace: NS })).items;
    expect(rss).toHaveLength(2);
    const byRev = Object.fromEntries(
      rss.map((rs) => [rs.metadata!.annotations!['deployment.kubernetes.io/revision'], rs.spec!.replicas]),
    );
    expect(byRev).toEqual({ '1': 0, '2': 2 });
    const pods = await eventually('only v2 pods', async () => {
      const ps = await webPods();
      return ps.length === 2 && ps.every((p) => p.metadata!.labels!['version'] === 'v2') ? ps : undefined;
    });
    expect(pods).toHaveLength(2);
    const history = await kubectl.run(['rollout', 'history', '-n', NS, 'deployment/web']);
    expect(history.stdout).toMatch(/REVISION\s+CHANGE-CAUSE\n1\s+<none>\n2\s+<none>/);
    const describe = await kubectl.run(['describe', 'deployment', '-n', NS, 'web']);
    expect(describe.stdout).toMatch(
      /ScalingReplicaSet\s+.*deployment-controller\s+Scaled up replica set web-[a-z0-9]+ from 0 to \d/,
    );
    expect(describe.stdout).toMatch(/Scaled down replica set web-[a-z0-9]+ from \d to 0/);
    expect(describe.stdout).toMatch(/NewReplicaSet:\s+web-[a-z0-9]+ \(2\/2 replicas created\)/);
  });

  it('delete --cascade=orphan keeps the ReplicaSets; a plain delete takes ReplicaSets and pods with it', async () => {
    await kubectl.run(
      ['apply', '-f', '-'],
      deploymentYaml(1, 'v1')
        .replace(/name: web\b/g, 'name: keep')
        .replace(/app: web\b/g, 'app: keep'),
    );
    await eventually('keep ReplicaSet', async () =>
      (await apps.listNamespacedReplicaSet({ namespace: NS, labelSelector: 'app=keep' })).items.length === 1
        ? true
        : undefined,
    );
    const orphan = await kubectl.run(['delete', '-n', NS, 'deployment/keep', '--cascade=orphan']);
    expect(orphan.stdout.trim()).toBe('deployment.apps "keep" deleted');
    const kept = (await apps.listNamespacedReplicaSet({ namespace: NS, labelSelector: 'app=keep' })).items;
    expect(kept).toHaveLength(1);
    expect(kept[0]!.metadata!.ownerReferences).toBeUndefined();

    const del = await kubectl.run(['delete', '-n', NS, 'deployment/web']);
    expect(del.stdout.trim()).toBe('deployment.apps "web" deleted');
    await eventually('ReplicaSets and pods of web gone', async () => {
      const rs = (await apps.listNamespacedReplicaSet({ namespace: NS, labelSelector: 'app=web' })).items;
      return rs.length === 0 && (await webPods()).length === 0 ? true : undefined;
    });
    // The orphaned ReplicaSet still runs its pod.
    expect(
      (await apps.listNamespacedReplicaSet({ namespace: NS, labelSelector: 'app=keep' })).items,
    ).toHaveLength(1);
  });
});
