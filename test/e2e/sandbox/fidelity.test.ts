/**
 * Issue 19 items 1, 4, 5, 6 and 7 in the sandbox, with the real fsm-injector and fsm-controller:
 * two HTTPS probes of one type both Ready and each failing truthfully; a container added by another
 * webhook after fsm's rewritten by a second admission pass; the root cause of a failed probe as a
 * ProbeTargetFailed event and in `fsm check probes`; a pod of the seed's format served and flagged;
 * an app that redirects its health path, Ready with the mesh as without it.
 */
import https from 'node:https';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AdmissionregistrationV1Api,
  CoreV1Api,
  KubeConfig,
  PatchStrategy,
  setHeaderOptions,
  type CoreV1Event,
  type V1Container,
  type V1Pod,
} from '@kubernetes/client-node';
import {
  INJECTION_STAMP_ANNOTATION,
  MONITORED_BY_LABEL,
  ORIGINAL_PROBES_ANNOTATION,
  OUTDATED_INJECTION_METRIC,
} from '../../../pkg/constants/index.js';
import { BootstrapProvisioner, MeshCaSource } from '../../../pkg/identity/index.js';
import { defaultInjectorConfig, mutatePod } from '../../../pkg/injector/index.js';
import { silentLogger } from '../../../pkg/logger/index.js';
import { startSandbox, type Sandbox } from '../../../pkg/sandbox/index.js';
import { SANDBOX_IMAGES, UNHEALTHY_ANNOTATION } from '../../../pkg/sandbox/workloads/index.js';
import { createCA } from '../../../pkg/tls/index.js';
import { eventually } from '../../support/eventually.js';
import { httpRequest } from '../../support/net.js';
import { runBinaryToExit } from '../../support/process.js';

const NS = 'fidelity';
const PLAIN = 'plain';
const fast = { periodSeconds: 1, timeoutSeconds: 1, failureThreshold: 2 };

describe('sandbox: probe fidelity', () => {
  let dir: string;
  let sb: Sandbox;
  let core: CoreV1Api;

  const read = (name: string, ns = NS) => core.readNamespacedPod({ name, namespace: ns });
  const containerReady = async (name: string, container: string) =>
    (await read(name)).status?.containerStatuses?.find((c) => c.name === container)?.ready === true;
  const podReady = async (name: string, ns = NS) =>
    (await read(name, ns)).status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
  const events = async (name: string, ns = NS): Promise<CoreV1Event[]> =>
    (await core.listNamespacedEvent({ namespace: ns, fieldSelector: `involvedObject.name=${name}` })).items;
  const annotate = (name: string, key: string, value: string | null) =>
    core.patchNamespacedPod(
      { name, namespace: NS, body: { metadata: { annotations: { [key]: value } } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
  const fsm = (args: string[]) => runBinaryToExit('fsm', args, { KUBECONFIG: sb.kubeconfigPath });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fsm-fidelity-'));
    const block = 100 + Math.floor(Math.random() * 100);
    sb = await startSandbox({
      dir,
      logger: silentLogger(),
      demo: false,
      restartDelayMs: 200,
      podAddressBlocks: { first: block, last: block },
    });
    const kc = new KubeConfig();
    kc.loadFromFile(sb.kubeconfigPath);
    core = kc.makeApiClient(CoreV1Api);
    await core.createNamespace({ body: { metadata: { name: NS, labels: { [MONITORED_BY_LABEL]: 'fsm' } } } });
    await core.createNamespace({ body: { metadata: { name: PLAIN } } });
    await new Promise((r) => setTimeout(r, 300)); // the injector's namespace informer sees them
  });

  afterAll(async () => {
    await sb?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  describe('item 1: every HTTPS probe keeps its meaning', () => {
    const httpsContainer = (name: string, port: number): V1Container => ({
      name,
      image: SANDBOX_IMAGES.https,
      ports: [{ containerPort: port }],
      readinessProbe: { httpGet: { port, path: '/ready', scheme: 'HTTPS' }, ...fast },
    });

    beforeAll(async () => {
      const created = await sb.createPod({
        metadata: { name: 'two-https', namespace: NS },
        spec: { containers: [httpsContainer('a', 8443), httpsContainer('b', 9443)] },
      });
      const [a, b] = created.spec!.containers;
      // The first passes its TLS through; the second is plain HTTP to the proxy, which speaks TLS.
      expect(a!.readinessProbe!.httpGet).toEqual({ port: 15902, path: '/ready', scheme: 'HTTPS' });
      expect(b!.readinessProbe!.httpGet).toEqual({
        port: 15902,
        path: '/fsm-readiness-probe/b',
        scheme: 'HTTP',
      });
    });

    it('both Ready through the mesh', async () => {
      await eventually('two-https Ready', async () => ((await podReady('two-https')) ? true : undefined));
    });

    it.each([
      ['b', 'a', ':15902/fsm-readiness-probe/b', 9443],
      ['a', 'b', ':15902/ready', 8443],
    ])(
      'breaking %s fails its probe alone, with its app status (item 5: and the root cause on the pod); fixing it brings it back',
      async (broken, other, rewritten, port) => {
        await annotate('two-https', UNHEALTHY_ANNOTATION, broken);
        await eventually(`${broken} not ready`, async () =>
          (await containerReady('two-https', broken)) ? undefined : true,
        );
        expect(await containerReady('two-https', other)).toBe(true);
        const unhealthy = await eventually(`${broken}: Unhealthy 503`, async () =>
          (await events('two-https')).find(
            (e) =>
              e.reason === 'Unhealthy' &&
              e.involvedObject.fieldPath === `spec.containers{${broken}}` &&
              e.message === 'Readiness probe failed: HTTP probe failed with statuscode: 503',
          ),
        );
        expect(unhealthy.type).toBe('Warning');
        // The controller calls the same endpoint while the app is broken: the cause is the app's own.
        const cause = await eventually(`ProbeTargetFailed for ${broken}`, async () =>
          (await events('two-https')).find(
            (e) =>
              e.reason === 'ProbeTargetFailed' && e.involvedObject.fieldPath === `spec.containers{${broken}}`,
          ),
        );
        expect(cause).toMatchObject({
          type: 'Warning',
          source: { component: 'fsm-controller' },
          message:
            `Readiness probe of container ${broken}: app status: the app on 127.0.0.1:${port} answered 503 ` +
            `(original target httpGet https://:${port}/ready; kubelet calls ${rewritten})`,
        });
        await annotate('two-https', UNHEALTHY_ANNOTATION, null);
        await eventually(`${broken} ready again`, async () =>
          (await containerReady('two-https', broken)) ? true : undefined,
        );
      },
    );
  });

  describe('item 5: root causes, where the operator looks', () => {
    beforeAll(async () => {
      await sb.createPod({
        metadata: { name: 'wrong-port', namespace: NS },
        spec: {
          containers: [
            {
              name: 'app',
              image: SANDBOX_IMAGES.http,
              ports: [{ containerPort: 14001 }],
              // Nothing listens on 14002: the probe points at the wrong port.
              readinessProbe: { httpGet: { port: 14002, path: '/ready' }, ...fast },
            },
          ],
        },
      });
    });

    it('a probe at a port nothing listens on: connection refused, named with the original target', async () => {
      const cause = await eventually('ProbeTargetFailed', async () =>
        (await events('wrong-port')).find((e) => e.reason === 'ProbeTargetFailed'),
      );
      expect(cause.message).toBe(
        'Readiness probe of container app: connection refused: connection refused by 127.0.0.1:14002: nothing listens there (original target httpGet http://:14002/ready; kubelet calls :15902/fsm-readiness-probe)',
      );
    });

    it('fsm check probes shows it with the probe events', async () => {
      const r = await fsm(['check', 'probes', 'wrong-port', '-n', NS]);
      expect(r.code).toBe(1);
      expect(r.stdout).toContain('    Warning Unhealthy');
      expect(r.stdout).toContain(
        '    root cause: ProbeTargetFailed: Readiness probe of container app: connection refused: connection refused by 127.0.0.1:14002',
      );
    });
  });

  describe('item 4: a container added by another webhook after fsm', () => {
    let close: () => Promise<void>;
    let admission: AdmissionregistrationV1Api;

    beforeAll(async () => {
      const ca = await createCA('late-webhook-ca');
      const cert = await ca.issue({ commonName: 'late', ipAddresses: ['127.0.0.1'] });
      const late: V1Container = {
        name: 'late',
        image: SANDBOX_IMAGES.http,
        ports: [{ containerPort: 14020 }],
        livenessProbe: { httpGet: { port: 14020, path: '/late-live' }, ...fast },
        readinessProbe: { tcpSocket: { port: 14020 }, ...fast },
      };
      const server = https.createServer({ key: cert.keyPem, cert: cert.certPem }, (req, res) => {
        let body = '';
        req.on('data', (c: Buffer) => (body += c.toString()));
        req.on('end', () => {
          const review = JSON.parse(body) as { request: { uid: string; object: V1Pod } };
          const pod = review.request.object;
          const add =
            pod.metadata?.labels?.['add-late'] === 'yes' &&
            !pod.spec!.containers.some((c) => c.name === 'late');
          const patch = add ? [{ op: 'add', path: '/spec/containers/-', value: late }] : [];
          res.setHeader('Content-Type', 'application/json');
          res.end(
            JSON.stringify({
              apiVersion: 'admission.k8s.io/v1',
              kind: 'AdmissionReview',
              response: {
                uid: review.request.uid,
                allowed: true,
                ...(patch.length
                  ? { patchType: 'JSONPatch', patch: Buffer.from(JSON.stringify(patch)).toString('base64') }
                  : {}),
              },
            }),
          );
        });
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      close = () => new Promise((r) => server.close(() => r()));
      const kc = new KubeConfig();
      kc.loadFromFile(sb.kubeconfigPath);
      admission = kc.makeApiClient(AdmissionregistrationV1Api);
      // Configurations run in name order: this one after fsm-injector.
      await admission.createMutatingWebhookConfiguration({
        body: {
          metadata: { name: 'zz-late-containers' },
          webhooks: [
            {
              name: 'late.example.com',
              clientConfig: {
                url: `https://127.0.0.1:${(server.address() as AddressInfo).port}/add`,
                caBundle: Buffer.from(ca.certPem).toString('base64'),
              },
              rules: [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['pods'] }],
              sideEffects: 'None',
              admissionReviewVersions: ['v1'],
              reinvocationPolicy: 'Never',
            },
          ],
        } as never,
      });
    });

    afterAll(async () => {
      // Unregistered before it stops answering: with failurePolicy Fail, pods could not be created.
      await admission?.deleteMutatingWebhookConfiguration({ name: 'zz-late-containers' });
      await close?.();
    });

    it("fsm's second pass rewrites the added container's probes; the pod is Ready through the mesh", async () => {
      const created = await sb.createPod({
        metadata: { name: 'second-pass', namespace: NS, labels: { 'add-late': 'yes' } },
        spec: {
          containers: [
            {
              name: 'app',
              image: SANDBOX_IMAGES.http,
              ports: [{ containerPort: 14001 }],
              livenessProbe: { httpGet: { port: 14001, path: '/live' }, ...fast },
            },
          ],
        },
      });
      const late = created.spec!.containers.find((c) => c.name === 'late')!;
      expect(late.livenessProbe!.httpGet).toMatchObject({ port: 15901, path: '/fsm-liveness-probe/late' });
      expect(late.readinessProbe!.httpGet!.port).toBe(15904);
      expect(late.readinessProbe!.tcpSocket).toBeUndefined();
      const app = created.spec!.containers.find((c) => c.name === 'app')!;
      expect(app.livenessProbe!.httpGet).toMatchObject({ port: 15901, path: '/fsm-liveness-probe' });
      expect(created.spec!.containers.map((c) => c.name)).toContain('fsm-healthcheck');
      const record = JSON.parse(created.metadata!.annotations![ORIGINAL_PROBES_ANNOTATION]!);
      expect(Object.keys(record.containers).sort()).toEqual(['app', 'late']);
      await eventually('second-pass Ready', async () => ((await podReady('second-pass')) ? true : undefined));
    });
  });

  describe('item 6: a pod of the seed format', () => {
    it('is served (Ready), flagged by fsm check probes and counted by the controller', async () => {
      const r = mutatePod({
        object: {
          metadata: { name: 'seed-format', namespace: NS },
          spec: {
            containers: [
              {
                name: 'app',
                image: SANDBOX_IMAGES.http,
                ports: [{ containerPort: 14001 }],
                readinessProbe: { httpGet: { port: 14001, path: '/ready' }, ...fast },
              },
            ],
          },
        },
        namespace: NS,
        namespaceObject: { metadata: { name: NS, labels: { [MONITORED_BY_LABEL]: 'fsm' } } },
        config: defaultInjectorConfig(),
        newProxyUuid: () => '5eed0000-0000-4000-8000-000000000001',
      });
      // What the seed's injector wrote: the same rewrite, no stamp.
      const seed = r.desired!;
      delete seed.metadata!.annotations![INJECTION_STAMP_ANNOTATION];
      // Its sidecar needs its bootstrap credential to reach the controller's ADS (mesh identity):
      // created as the injector does at admission.
      const kc = new KubeConfig();
      kc.loadFromFile(sb.kubeconfigPath);
      const ca = new MeshCaSource({
        kc,
        namespace: 'fsm-system',
        meshName: 'fsm',
        logger: silentLogger(),
        create: false,
      });
      await ca.start();
      await new BootstrapProvisioner({ kc, meshName: 'fsm', ca, logger: silentLogger() }).provision({
        proxyUuid: r.proxyUuid!,
        namespace: NS,
        serviceAccount: r.serviceAccount!,
      });
      await ca.stop();
      const created = await sb.createPod(seed);
      expect(created.metadata!.annotations![INJECTION_STAMP_ANNOTATION]).toBeUndefined();
      await eventually('seed-format Ready', async () => ((await podReady('seed-format')) ? true : undefined));
      // Served: the sidecar and the rewrite checks pass, the outdated format is a warning. (Other
      // checks may fail on Unhealthy events from before the proxy had its config: a classic sidecar.)
      const json = await fsm(['check', 'probes', 'seed-format', '-n', NS, '-o', 'json']);
      const report = JSON.parse(json.stdout) as {
        checks: { id: string; status: string; warnings?: string[] }[];
      };
      const sidecar = report.checks.find((c) => c.id === 'sidecar')!;
      expect(sidecar.status).toBe('pass');
      expect(sidecar.warnings).toEqual([
        expect.stringMatching(
          /^probes rewritten in format 1 by an injector that wrote no stamp \(the seed\); the control plane now writes format 2: still served/,
        ),
      ]);
      expect(report.checks.find((c) => c.id === 'probes-rewritten')!.status).toBe('pass');
      expect(report.checks.find((c) => c.id === 'proxy-listeners')!.status).toBe('pass');
      const text = await fsm(['check', 'probes', 'seed-format', '-n', NS]);
      expect(text.stdout).toContain(
        '    ! probes rewritten in format 1 by an injector that wrote no stamp (the seed); the control plane now writes format 2: still served',
      );
      expect(text.stdout).toMatch(/\(1 warning\)\n$/);
      const metrics = await eventually('the gauge', async () => {
        const m = (await httpRequest(`${sb.controllerUrl}/metrics`)).body;
        return new RegExp(`^${OUTDATED_INJECTION_METRIC} 1$`, 'm').test(m) ? m : undefined;
      });
      expect(metrics).toContain(`# HELP ${OUTDATED_INJECTION_METRIC}`);
    });
  });

  describe('item 7: an app that redirects /healthz to /healthz/', () => {
    const redirecting = (name: string, namespace: string): V1Pod => ({
      metadata: { name, namespace },
      spec: {
        containers: [
          {
            name: 'web',
            image: SANDBOX_IMAGES.redirect,
            ports: [{ containerPort: 14030 }],
            readinessProbe: { httpGet: { port: 14030, path: '/healthz' }, ...fast },
            // Redirected to another host: kubelet stops there, succeeds, warns.
            livenessProbe: { httpGet: { port: 14030, path: '/elsewhere/ping' }, ...fast },
          },
        ],
      },
    });

    it.each([
      ['without the mesh', PLAIN],
      ['with the mesh', NS],
    ])('%s: Ready; the off-host redirect is a success with a ProbeWarning', async (_n, ns) => {
      const created = await sb.createPod(redirecting('redirects', ns));
      if (ns === NS) expect(created.spec!.containers[0]!.readinessProbe!.httpGet!.port).toBe(15902);
      await eventually(`Ready ${ns}`, async () => ((await podReady('redirects', ns)) ? true : undefined));
      const warning = await eventually('ProbeWarning', async () =>
        (await events('redirects', ns)).find((e) => e.reason === 'ProbeWarning'),
      );
      expect(warning).toMatchObject({
        type: 'Warning',
        message:
          'Liveness probe warning: Probe terminated redirects, Response body: web redirects /elsewhere/ping to http://elsewhere.invalid/elsewhere/ping\n',
      });
      expect(
        (await read('redirects', ns)).status!.containerStatuses!.find((c) => c.name === 'web')!.restartCount,
      ).toBe(0);
      // The app's probes never failed (the native sidecar's own startup probe may have, before its config).
      expect(
        (await events('redirects', ns)).filter(
          (e) => e.reason === 'Unhealthy' && e.involvedObject.fieldPath === 'spec.containers{web}',
        ),
      ).toEqual([]);
    });
  });
});
