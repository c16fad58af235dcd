/**
 * Webhook admission: the API server calls a real HTTPS webhook (its own CA, trusted through
 * caBundle) on pod CREATE, applies the JSONPatch, returns warnings as Warning headers, and honours
 * namespaceSelector, objectSelector, failurePolicy, timeoutSeconds, denials and service references.
 */
import https from 'node:https';
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApiException, CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import { createCA } from '../../../../pkg/tls/index.js';
import { matchesLabelSelector, ruleMatches } from '../../../../pkg/sandbox/apiserver/admission.js';
import { findResource } from '../../../../pkg/sandbox/apiserver/resources.js';
import { startTestApiServer, type TestApiServer } from '../../../support/apiserver.js';

type Mode = 'patch' | 'deny' | 'hang' | 'garbage' | 'wrong-uid';

let h: TestApiServer;
let core: CoreV1Api;
let hook: https.Server;
let hookUrl: string;
let caBundle: string;
let mode: Mode = 'patch';
const calls: { namespace?: string; name?: string; operation?: string; object?: V1Pod }[] = [];
const hanging = new Set<ServerResponse>();

beforeAll(async () => {
  h = await startTestApiServer();
  core = h.kc.makeApiClient(CoreV1Api);
  h.server.enableWebhookAdmission({
    resolveService: (ref) =>
      ref.namespace === 'fsm-system' && ['fsm-injector', 'other-name'].includes(ref.name)
        ? hookUrl
        : undefined,
  });
  const ca = await createCA('webhook-ca');
  const cert = await ca.issue({
    commonName: 'fsm-injector',
    dnsNames: ['fsm-injector.fsm-system.svc'],
    ipAddresses: ['127.0.0.1'],
  });
  caBundle = Buffer.from(ca.certPem).toString('base64');
  hook = https.createServer({ key: cert.keyPem, cert: cert.certPem }, (req, res) => {
    let data = '';
    req.on('data', (c: Buffer) => (data += c.toString()));
    req.on('end', () => {
      const review = JSON.parse(data) as {
        request: { uid: string; namespace?: string; name?: string; operation?: string; object?: V1Pod };
      };
      calls.push(review.request);
      if (mode === 'hang') {
        hanging.add(res);
        return;
      }
      if (mode === 'garbage') {
        res.end('not json');
        return;
      }
      const uid = mode === 'wrong-uid' ? 'nope' : review.request.uid;
      const response =
        mode === 'deny'
          ? { uid, allowed: false, status: { code: 403, message: 'pods in this namespace need an owner' } }
          : {
              uid,
              allowed: true,
              warnings: ['probes rewritten for the mesh'],
              patchType: 'JSONPatch',
              patch: Buffer.from(
                JSON.stringify([
                  { op: 'add', path: '/metadata/labels/injected', value: 'true' },
                  { op: 'add', path: '/spec/containers/-', value: { name: 'sidecar', image: 'envoy:1' } },
                ]),
              ).toString('base64'),
            };
      res.setHeader('Content-Type', 'application/json');
      res.end(JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response }));
    });
  });
  await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
  hookUrl = `https://127.0.0.1:${(hook.address() as AddressInfo).port}`;
  for (const [name, labels] of [
    ['meshed', { 'flomesh.io/monitored-by': 'fsm' }],
    ['plain', {}],
  ] as const) {
    await core.createNamespace({ body: { metadata: { name, labels } } });
  }
});

afterAll(async () => {
  for (const r of hanging) r.destroy();
  hook.closeAllConnections();
  await new Promise<void>((r) => hook.close(() => r()));
  await h.stop();
});

beforeEach(async () => {
  mode = 'patch';
  calls.length = 0;
  await setWebhook({});
});

async function setWebhook(
  over: Record<string, unknown>,
  clientConfig?: Record<string, unknown>,
): Promise<void> {
  const body = {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'MutatingWebhookConfiguration',
    metadata: { name: 'fsm-injector' },
    webhooks: [
      {
        name: 'fsm-injector.flomesh.io',
        clientConfig: clientConfig ?? { url: `${hookUrl}/mutate-pod-creation`, caBundle },
        rules: [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'] }],
        namespaceSelector: { matchLabels: { 'flomesh.io/monitored-by': 'fsm' } },
        failurePolicy: 'Fail',
        sideEffects: 'None',
        admissionReviewVersions: ['v1'],
        timeoutSeconds: 1,
        ...over,
      },
    ],
  };
  const store = h.server.store;
  const key = 'admissionregistration.k8s.io/mutatingwebhookconfigurations';
  if (store.get(key, undefined, 'fsm-injector')) {
    await fetchRaw(
      'DELETE',
      '/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/fsm-injector',
    );
  }
  const res = await fetchRaw(
    'POST',
    '/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations',
    body,
  );
  expect(res.status).toBe(201);
}

function pod(name: string, labels: Record<string, string> = {}): V1Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels },
    spec: { containers: [{ name: 'app', image: 'app:1' }] },
  };
}

async function fetchRaw(
  method: string,
  path: string,
  body?: unknown,
): Promise<{
  status: number;
  headers: IncomingHttpHeaders;
  json: Record<string, unknown>;
}> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      `${h.server.url}${path}`,
      {
        method,
        ca: h.server.caPem,
        headers: { Authorization: `Bearer ${h.server.token}`, 'Content-Type': 'application/json' },
      },
      (res) => {
        let data = '';
        res.on('data', (c: Buffer) => (data += c.toString()));
        res.on('end', () =>
          resolve({
            status: res.statusCode!,
            headers: res.headers,
            json: JSON.parse(data) as Record<string, unknown>,
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

async function failure(p: Promise<unknown>): Promise<{ code: number; message: string }> {
  try {
    await p;
  } catch (e) {
    if (e instanceof ApiException) {
      const b = (typeof e.body === 'string' ? JSON.parse(e.body) : e.body) as { message: string };
      return { code: e.code, message: b.message };
    }
    throw e;
  }
  throw new Error('expected a failure');
}

describe('webhook admission', () => {
  it('applies the JSONPatch and returns warnings as Warning headers', async () => {
    const res = await fetchRaw('POST', '/api/v1/namespaces/meshed/pods', pod('p1'));
    expect(res.status).toBe(201);
    expect(res.headers['warning']).toBe('299 - "probes rewritten for the mesh"');
    const stored = h.server.store.get('pods', 'meshed', 'p1')!;
    expect(stored.metadata['labels']).toEqual({ injected: 'true' });
    const containers = (stored['spec'] as { containers: { name: string; terminationMessagePath?: string }[] })
      .containers;
    expect(containers.map((c) => c.name)).toEqual(['app', 'sidecar']);
    // Defaults apply to what the webhook added, too.
    expect(containers[1]!.terminationMessagePath).toBe('/dev/termination-log');
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ namespace: 'meshed', name: 'p1', operation: 'CREATE' });
    // The webhook saw the defaulted object.
    expect(calls[0]!.object?.spec?.restartPolicy).toBe('Always');
  });

  it('namespaceSelector: a namespace outside the mesh is not sent to the webhook', async () => {
    const created = await core.createNamespacedPod({ namespace: 'plain', body: pod('p2') });
    expect(created.metadata?.labels).toEqual({});
    expect(calls).toHaveLength(0);
  });

  it('objectSelector and rules filter too', async () => {
    await setWebhook({ objectSelector: { matchExpressions: [{ key: 'skip', operator: 'DoesNotExist' }] } });
    await core.createNamespacedPod({ namespace: 'meshed', body: pod('p3', { skip: 'yes' }) });
    expect(calls).toHaveLength(0);
    await core.createNamespacedService({
      namespace: 'meshed',
      body: { metadata: { name: 's' }, spec: { ports: [{ port: 80 }] } },
    });
    expect(calls).toHaveLength(0);
  });

  it('a denial is returned with the webhook name and message', async () => {
    mode = 'deny';
    const f = await failure(core.createNamespacedPod({ namespace: 'meshed', body: pod('p4') }));
    expect(f.code).toBe(403);
    expect(f.message).toBe(
      'admission webhook "fsm-injector.flomesh.io" denied the request: pods in this namespace need an owner',
    );
    expect(h.server.store.get('pods', 'meshed', 'p4')).toBeUndefined();
  });

  it('failurePolicy Fail: an unreachable webhook rejects the create with 500', async () => {
    await setWebhook({}, { url: 'https://127.0.0.1:1/mutate', caBundle });
    const f = await failure(core.createNamespacedPod({ namespace: 'meshed', body: pod('p5') }));
    expect(f.code).toBe(500);
    expect(f.message).toMatch(
      /^Internal error occurred: failed calling webhook "fsm-injector.flomesh.io": failed to call webhook: Post "https:\/\/127.0.0.1:1\/mutate"/,
    );
  });

  it('failurePolicy Ignore: the pod is created unmutated', async () => {
    await setWebhook({ failurePolicy: 'Ignore' }, { url: 'https://127.0.0.1:1/mutate', caBundle });
    const created = await core.createNamespacedPod({ namespace: 'meshed', body: pod('p6') });
    expect(created.spec?.containers.map((c) => c.name)).toEqual(['app']);
  });

  it('timeoutSeconds bounds a hanging webhook', async () => {
    mode = 'hang';
    const f = await failure(core.createNamespacedPod({ namespace: 'meshed', body: pod('p7') }));
    expect(f.code).toBe(500);
    expect(f.message).toContain('context deadline exceeded');
  });

  it('a caBundle that does not sign the webhook certificate fails TLS', async () => {
    const other = await createCA('other');
    await setWebhook(
      {},
      { url: `${hookUrl}/mutate-pod-creation`, caBundle: Buffer.from(other.certPem).toString('base64') },
    );
    const f = await failure(core.createNamespacedPod({ namespace: 'meshed', body: pod('p8') }));
    expect(f.code).toBe(500);
    expect(f.message).toMatch(/certificate|self.signed|verify/i);
  });

  it('service references resolve through the hook; unknown services fail', async () => {
    await setWebhook(
      {},
      {
        service: { namespace: 'fsm-system', name: 'fsm-injector', port: 443, path: '/mutate-pod-creation' },
        caBundle,
      },
    );
    const created = await core.createNamespacedPod({ namespace: 'meshed', body: pod('p9') });
    expect(created.metadata?.labels).toEqual({ injected: 'true' });
    await setWebhook({}, { service: { namespace: 'x', name: 'y', port: 443 }, caBundle });
    const f = await failure(core.createNamespacedPod({ namespace: 'meshed', body: pod('p10') }));
    expect(f.message).toContain('service "y.x.svc:443" cannot be resolved');
  });

  it('a service reference checks the certificate for <service>.<namespace>.svc, not the address', async () => {
    // Same server, same trusted CA, reachable at an address its certificate names (127.0.0.1):
    // still refused, because the certificate does not name other-name.fsm-system.svc.
    await setWebhook({}, { service: { namespace: 'fsm-system', name: 'other-name', port: 443 }, caBundle });
    const f = await failure(core.createNamespacedPod({ namespace: 'meshed', body: pod('p11') }));
    expect(f.code).toBe(500);
    expect(f.message).toContain('other-name.fsm-system.svc');
  });

  it('bad responses: not JSON, wrong uid, no v1 in admissionReviewVersions', async () => {
    mode = 'garbage';
    expect(
      (await failure(core.createNamespacedPod({ namespace: 'meshed', body: pod('q1') }))).message,
    ).toContain('not JSON');
    mode = 'wrong-uid';
    expect(
      (await failure(core.createNamespacedPod({ namespace: 'meshed', body: pod('q2') }))).message,
    ).toContain('response.uid');
    mode = 'patch';
    await setWebhook({ admissionReviewVersions: ['v1beta1'] });
    expect(
      (await failure(core.createNamespacedPod({ namespace: 'meshed', body: pod('q3') }))).message,
    ).toContain('does not include v1');
  });
});

describe('selector and rule matching (pure)', () => {
  it.each([
    [undefined, {}, true],
    [{}, { a: '1' }, true],
    [{ matchLabels: { a: '1' } }, { a: '1' }, true],
    [{ matchLabels: { a: '1' } }, { a: '2' }, false],
    [{ matchExpressions: [{ key: 'a', operator: 'In', values: ['1', '2'] }] }, { a: '2' }, true],
    [{ matchExpressions: [{ key: 'a', operator: 'NotIn', values: ['1'] }] }, {}, true],
    [{ matchExpressions: [{ key: 'a', operator: 'NotIn', values: ['1'] }] }, { a: '1' }, false],
    [{ matchExpressions: [{ key: 'a', operator: 'Exists' }] }, { a: '' }, true],
    [{ matchExpressions: [{ key: 'a', operator: 'DoesNotExist' }] }, { a: '' }, false],
    [{ matchExpressions: [{ key: 'a', operator: 'Bogus' }] }, { a: '' }, false],
  ])('labelSelector %j on %j → %p', (sel, labels, expected) => {
    expect(matchesLabelSelector(sel, labels)).toBe(expected);
  });

  const pods = findResource('', 'v1', 'pods')!;
  const deploys = findResource('apps', 'v1', 'deployments')!;
  it.each([
    [
      { operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'] },
      pods,
      'CREATE',
      true,
    ],
    [
      { operations: ['UPDATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'] },
      pods,
      'CREATE',
      false,
    ],
    [{ operations: ['*'], apiGroups: ['*'], apiVersions: ['*'], resources: ['*'] }, deploys, 'CREATE', true],
    [
      { operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'] },
      deploys,
      'CREATE',
      false,
    ],
    [
      { operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'], scope: 'Cluster' },
      pods,
      'CREATE',
      false,
    ],
  ] as const)('rule %j', (rule, info, op, expected) => {
    expect(ruleMatches(rule, { info, operation: op })).toBe(expected);
  });
});
