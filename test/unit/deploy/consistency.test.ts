/** Ports, paths, probe schemes, labels and the webhook selector of the manifests equal pkg/constants. */
import type {
  KubernetesObject,
  V1Container,
  V1Deployment,
  V1MutatingWebhookConfiguration,
  V1Namespace,
  V1Service,
} from '@kubernetes/client-node';
import {
  ADS_PORT,
  APP_INSTANCE_LABEL,
  APP_LABEL,
  APP_NAME_LABEL,
  APP_VERSION_LABEL,
  CONTROLLER_APP,
  CONTROLLER_HEALTH_PORT,
  HEALTH_ALIVE_PATH,
  HEALTH_READY_PATH,
  IGNORE_LABEL,
  INJECTOR_APP,
  INJECTOR_HEALTHZ_PATH,
  INJECTOR_METRICS_PORT,
  INJECTOR_SERVICE_NAME,
  INJECTOR_TLS_MOUNT_PATH,
  INJECTOR_WEBHOOK_PORT,
  MESH_NAME_LABEL,
  MONITORED_BY_LABEL,
  NAMESPACE_NAME_LABEL,
  SYSTEM_NAMESPACES,
  WEBHOOK_MUTATE_PATH,
} from '../../../pkg/constants/index.js';
import {
  defaultInstallParams,
  injectorDnsNames,
  issueInjectorTls,
  renderInstall,
  type InjectorTls,
  type InstallParams,
} from '../../../pkg/deploy/index.js';

// Placeholder PEM text: these tests read the manifests only (the certificate test issues a real one).
const tls: InjectorTls = { caPem: 'test CA PEM\n', certPem: 'test cert PEM\n', keyPem: 'test key PEM\n' };

const P = defaultInstallParams({ meshName: 'blue', fsmNamespace: 'blue-system', version: '9.8.7' });

function render(p: InstallParams = P): KubernetesObject[] {
  return renderInstall(p, tls);
}
function find<T>(objects: KubernetesObject[], kind: string, name?: string): T {
  const o = objects.find((x) => x.kind === kind && (name === undefined || x.metadata?.name === name));
  if (!o) throw new Error(`no ${kind} ${name ?? ''}`);
  return o as T;
}
function container(d: V1Deployment): V1Container {
  return d.spec!.template.spec!.containers[0]!;
}
function arg(c: V1Container, flag: string): string | undefined {
  return c.args?.find((a) => a.startsWith(`--${flag}=`))?.slice(flag.length + 3);
}

describe('fsm-controller', () => {
  const d = find<V1Deployment>(render(), 'Deployment', CONTROLLER_APP);
  const c = container(d);

  it('exposes ADS and health ports from pkg/constants and passes them as flags', () => {
    expect(c.ports!.map((p) => p.containerPort).sort()).toEqual([CONTROLLER_HEALTH_PORT, ADS_PORT].sort());
    expect(arg(c, 'ads-port')).toBe(String(ADS_PORT));
    expect(arg(c, 'health-port')).toBe(String(CONTROLLER_HEALTH_PORT));
    expect(arg(c, 'mesh-name')).toBe('blue');
    expect(arg(c, 'fsm-namespace')).toBe('blue-system');
  });

  it('probes: readiness /health/ready, liveness and startup /health/alive, HTTP on the health port', () => {
    expect(c.readinessProbe?.httpGet).toEqual({
      path: HEALTH_READY_PATH,
      port: CONTROLLER_HEALTH_PORT,
      scheme: 'HTTP',
    });
    expect(c.livenessProbe?.httpGet).toEqual({
      path: HEALTH_ALIVE_PATH,
      port: CONTROLLER_HEALTH_PORT,
      scheme: 'HTTP',
    });
    expect(c.startupProbe?.httpGet).toEqual({
      path: HEALTH_ALIVE_PATH,
      port: CONTROLLER_HEALTH_PORT,
      scheme: 'HTTP',
    });
  });

  it('carries the labels `fsm mesh list` reads (app, meshName, app.kubernetes.io/*)', () => {
    for (const labels of [d.metadata!.labels!, d.spec!.template.metadata!.labels!]) {
      expect(labels[APP_LABEL]).toBe(CONTROLLER_APP);
      expect(labels[MESH_NAME_LABEL]).toBe('blue');
      expect(labels[APP_NAME_LABEL]).toBe(CONTROLLER_APP);
      expect(labels[APP_INSTANCE_LABEL]).toBe('blue');
      expect(labels[APP_VERSION_LABEL]).toBe('9.8.7');
    }
  });
});

describe('fsm-injector', () => {
  const objects = render();
  const d = find<V1Deployment>(objects, 'Deployment', INJECTOR_APP);
  const c = container(d);

  it('webhook and metrics ports from pkg/constants', () => {
    expect(c.ports!.map((p) => p.containerPort).sort()).toEqual(
      [INJECTOR_METRICS_PORT, INJECTOR_WEBHOOK_PORT].sort(),
    );
    expect(arg(c, 'port')).toBe(String(INJECTOR_WEBHOOK_PORT));
    expect(arg(c, 'metrics-port')).toBe(String(INJECTOR_METRICS_PORT));
  });

  it('every probe is GET /healthz over HTTPS on the webhook port', () => {
    for (const probe of [c.readinessProbe, c.livenessProbe, c.startupProbe]) {
      expect(probe?.httpGet).toEqual({
        path: INJECTOR_HEALTHZ_PATH,
        port: INJECTOR_WEBHOOK_PORT,
        scheme: 'HTTPS',
      });
    }
  });

  it('the injector manages its certificate (Secret) and writes the TLS files to a memory volume', () => {
    expect(arg(c, 'tls-cert-file')).toBe(`${INJECTOR_TLS_MOUNT_PATH}/tls.crt`);
    expect(arg(c, 'tls-key-file')).toBe(`${INJECTOR_TLS_MOUNT_PATH}/tls.key`);
    expect(c.args).toContain('--manage-webhook-cert');
    expect(c.volumeMounts).toEqual([{ name: 'tls', mountPath: INJECTOR_TLS_MOUNT_PATH }]);
    expect(d.spec!.template.spec!.volumes).toEqual([
      { name: 'tls', emptyDir: { medium: 'Memory', sizeLimit: '1Mi' } },
    ]);
  });
});

describe.each([CONTROLLER_APP, INJECTOR_APP])('%s hardening', (app) => {
  const d = find<V1Deployment>(render(), 'Deployment', app);
  const c = container(d);
  it('runs non-root, read-only root FS, no privilege escalation, all capabilities dropped', () => {
    expect(d.spec!.template.spec!.securityContext!.runAsNonRoot).toBe(true);
    expect(c.securityContext).toMatchObject({
      runAsNonRoot: true,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
    });
  });
  it('has requests and limits', () => {
    expect(c.resources?.requests).toEqual(
      expect.objectContaining({ cpu: expect.any(String), memory: expect.any(String) }),
    );
    expect(c.resources?.limits).toEqual(
      expect.objectContaining({ cpu: expect.any(String), memory: expect.any(String) }),
    );
  });
  it('selector matches the pod template and its Service and PodDisruptionBudget select the same pods', () => {
    const objects = render();
    const selector = d.spec!.selector.matchLabels!;
    const template = d.spec!.template.metadata!.labels!;
    for (const [k, v] of Object.entries(selector)) expect(template[k]).toBe(v);
    const svc = find<V1Service>(objects, 'Service', app);
    expect(svc.spec!.selector).toEqual(selector);
    const pdb = find<{ spec: { selector: { matchLabels: unknown } } }>(objects, 'PodDisruptionBudget', app);
    expect(pdb.spec.selector.matchLabels).toEqual(selector);
  });
  it('Service target ports name container ports', () => {
    const svc = find<V1Service>(render(), 'Service', app);
    for (const port of svc.spec!.ports!) {
      const target = c.ports!.find((p) => p.name === port.targetPort);
      expect(target?.containerPort).toBe(port.port);
    }
  });
});

describe('MutatingWebhookConfiguration', () => {
  const objects = render();
  const cfg = find<V1MutatingWebhookConfiguration>(objects, 'MutatingWebhookConfiguration');
  const hook = cfg.webhooks![0]!;

  it('calls the injector Service on the webhook port and mutate path, trusting the CA', () => {
    expect(hook.clientConfig.service).toEqual({
      namespace: 'blue-system',
      name: INJECTOR_SERVICE_NAME,
      port: INJECTOR_WEBHOOK_PORT,
      path: WEBHOOK_MUTATE_PATH,
    });
    expect(Buffer.from(hook.clientConfig.caBundle!, 'base64').toString()).toBe(tls.caPem);
  });

  it('CREATE pods, Fail, sideEffects NoneOnDryRun (the bootstrap credential Secret), a timeout, admission v1', () => {
    expect(hook.rules).toEqual([expect.objectContaining({ operations: ['CREATE'], resources: ['pods'] })]);
    expect(hook.failurePolicy).toBe('Fail');
    expect(hook.sideEffects).toBe('NoneOnDryRun');
    expect(hook.timeoutSeconds).toBeGreaterThan(0);
    expect(hook.admissionReviewVersions).toEqual(['v1']);
  });

  it('selects monitored namespaces, excludes ignored ones, the control-plane namespace and system namespaces', () => {
    const sel = hook.namespaceSelector!;
    expect(sel.matchLabels).toEqual({ [MONITORED_BY_LABEL]: 'blue' });
    expect(sel.matchExpressions).toContainEqual({ key: IGNORE_LABEL, operator: 'DoesNotExist' });
    const notIn = sel.matchExpressions!.find((e) => e.key === NAMESPACE_NAME_LABEL && e.operator === 'NotIn');
    expect(notIn?.values).toEqual(expect.arrayContaining(['blue-system', ...SYSTEM_NAMESPACES]));
  });

  it('the control-plane Namespace itself carries the ignore label and no monitored-by', () => {
    const ns = find<V1Namespace>(objects, 'Namespace');
    expect(ns.metadata!.name).toBe('blue-system');
    expect(ns.metadata!.labels![IGNORE_LABEL]).toBeDefined();
    expect(ns.metadata!.labels![MONITORED_BY_LABEL]).toBeUndefined();
  });
});

it('the serving certificate covers every name of the injector Service', async () => {
  const { X509Certificate } = await import('node:crypto');
  const tls = await issueInjectorTls(defaultInstallParams());
  const cert = new X509Certificate(tls.certPem);
  for (const name of injectorDnsNames(defaultInstallParams()))
    expect(cert.subjectAltName).toContain(`DNS:${name}`);
  expect(cert.verify(new X509Certificate(tls.caPem).publicKey)).toBe(true);
});
