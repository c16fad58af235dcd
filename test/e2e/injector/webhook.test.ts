/**
 * The webhook over real TLS on 127.0.0.1: real AdmissionReview bodies, every bad input, metrics,
 * and certificate reload from disk.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import tls from 'node:tls';
import jsonpatch from 'fast-json-patch';
import { Registry } from 'prom-client';
import { silentLogger } from '../../../pkg/logger/index.js';
import { createCA, type CertificateAuthority, type PemPair } from '../../../pkg/tls/index.js';
import { defaultInjectorConfig, Injector } from '../../../pkg/injector/index.js';
import {
  admissionReview,
  MemoryNamespaces,
  namespace,
  pod,
  realisticPod,
  sequentialUuids,
} from '../../support/injector.js';
import { httpsRequest, postReview } from '../../support/injector-client.js';

interface ReviewResponse {
  apiVersion: string;
  kind: string;
  response: {
    uid: string;
    allowed: boolean;
    patchType?: string;
    patch?: string;
    warnings?: string[];
    status?: { code: number; message: string };
  };
}

const servingNames = { commonName: 'fsm-injector', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] };

describe('fsm-injector webhook over TLS', () => {
  let dir: string;
  let ca: CertificateAuthority;
  let namespaces: MemoryNamespaces;
  let injector: Injector;
  let registry: Registry;

  function writePair(p: PemPair): void {
    writeFileSync(join(dir, 'tls.crt'), p.certPem);
    writeFileSync(join(dir, 'tls.key'), p.keyPem);
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'fsm-injector-'));
    ca = await createCA('fsm-test-ca');
    writePair(await ca.issue(servingNames));
    namespaces = new MemoryNamespaces([namespace('app', { mesh: 'fsm' }), namespace('other')], false);
    registry = new Registry();
    injector = new Injector({
      port: 0,
      metricsPort: 0,
      host: '127.0.0.1',
      certFile: join(dir, 'tls.crt'),
      keyFile: join(dir, 'tls.key'),
      certReloadIntervalMs: 200,
      config: defaultInjectorConfig(),
      namespaces,
      registry,
      logger: silentLogger(),
      newProxyUuid: sequentialUuids(),
    });
    await injector.start();
  });

  afterAll(async () => {
    await injector.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const post = (body: unknown): Promise<{ status: number; review: ReviewResponse }> =>
    postReview(injector.port, ca.certPem, body).then((r) => {
      expect(r.headers['content-type']).toBe('application/json');
      return { status: r.status, review: JSON.parse(r.body) as ReviewResponse };
    });

  it('/healthz and admissions are 503 until the namespace informer has synced, then 200 Health OK', async () => {
    const before = await httpsRequest({ port: injector.port, ca: ca.certPem, path: '/healthz' });
    expect(before.status).toBe(503);
    expect(before.body).toMatch(/not synced/);
    const early = await postReview(injector.port, ca.certPem, admissionReview(realisticPod()));
    expect(early.status).toBe(503);
    expect(early.body).toMatch(/namespace informer has not synced yet/);
    namespaces.markSynced();
    const after = await httpsRequest({ port: injector.port, ca: ca.certPem, path: '/healthz' });
    expect(after.status).toBe(200);
    expect(after.body).toBe('Health OK');
  });

  it('injects a pod: AdmissionReview v1 with a base64 JSONPatch that applies to the pod', async () => {
    const p = realisticPod();
    const { status, review } = await post(admissionReview(p, { uid: 'uid-1' }));
    expect(status).toBe(200);
    expect(review.apiVersion).toBe('admission.k8s.io/v1');
    expect(review.kind).toBe('AdmissionReview');
    expect(review.response.uid).toBe('uid-1');
    expect(review.response.allowed).toBe(true);
    expect(review.response.patchType).toBe('JSONPatch');
    expect(review.response.warnings).toBeUndefined();
    const patch = JSON.parse(
      Buffer.from(review.response.patch!, 'base64').toString('utf8'),
    ) as jsonpatch.Operation[];
    const out = jsonpatch.applyPatch(jsonpatch.deepClone(p), patch, true).newDocument as typeof p;
    expect(out.spec!.containers.map((c) => c.name)).toEqual([
      'web',
      'api',
      'cache',
      'sidecar',
      'fsm-healthcheck',
    ]);
    expect(out.spec!.initContainers!.map((c) => c.name)).toEqual(['fsm-init']);
    expect(out.metadata!.labels!['flomesh.io/proxy-uuid']).toMatch(/^00000000-0000-4000-8000-/);
    expect(out.metadata!.annotations!['flomesh.io/original-probes']).toBeDefined();

    // Admitting the mutated pod again (e.g. a kubectl debug copy): allowed, no patch.
    const again = await post(admissionReview(out, { uid: 'uid-1b' }));
    expect(again.review.response).toEqual({ uid: 'uid-1b', allowed: true });
  });

  it('dryRun requests are answered the same way, with no side effects to undo', async () => {
    const { review } = await post(admissionReview(realisticPod(), { uid: 'dry', dryRun: true }));
    expect(review.response.allowed).toBe(true);
    expect(review.response.patchType).toBe('JSONPatch');
  });

  it('returns admission warnings for probes it cannot rewrite', async () => {
    const p = pod('w', [{ name: 'a', livenessProbe: { httpGet: { port: 'nope' } } }]);
    const { review } = await post(admissionReview(p));
    expect(review.response.allowed).toBe(true);
    expect(review.response.warnings).toEqual([
      'pod app/w: container a liveness probe: port "nope" does not resolve to a port (1-65535) of the container; left unchanged',
    ]);
  });

  it('denies an invalid injection annotation with a message naming the value', async () => {
    const p = pod('d', [{ name: 'a' }], { annotations: { 'flomesh.io/sidecar-injection': 'perhaps' } });
    const { status, review } = await post(admissionReview(p, { uid: 'deny-1' }));
    expect(status).toBe(200);
    expect(review.response.uid).toBe('deny-1');
    expect(review.response.allowed).toBe(false);
    expect(review.response.status!.code).toBe(400);
    expect(review.response.status!.message).toMatch(/flomesh.io\/sidecar-injection="perhaps" is invalid/);
  });

  it.each<[string, Parameters<typeof admissionReview>[1], unknown]>([
    ['a non-Pod object', { kind: { group: 'apps', version: 'v1', kind: 'Deployment' } }, { spec: {} }],
    ['an UPDATE', { operation: 'UPDATE' }, realisticPod()],
    ['a DELETE', { operation: 'DELETE' }, null],
    [
      'a pod in an unmonitored namespace',
      { namespace: 'other' },
      pod('x', [{ name: 'a' }], { namespace: 'other' }),
    ],
    [
      'a pod in kube-system',
      { namespace: 'kube-system' },
      pod('x', [{ name: 'a' }], { namespace: 'kube-system' }),
    ],
  ])('allows %s without a patch', async (_n, opts, object) => {
    const { status, review } = await post(admissionReview(object, { uid: 'u', ...opts }));
    expect(status).toBe(200);
    expect(review.response).toEqual({ uid: 'u', allowed: true });
  });

  describe('bad input never crashes the server and is never a 500', () => {
    const send = (o: Partial<Parameters<typeof httpsRequest>[0]>) =>
      httpsRequest({
        port: injector.port,
        ca: ca.certPem,
        method: 'POST',
        path: '/mutate-pod-creation',
        ...o,
      });
    const valid = JSON.stringify(admissionReview(realisticPod()));

    it.each<[string, Partial<Parameters<typeof httpsRequest>[0]>, number, RegExp]>([
      [
        'text/plain content type',
        { headers: { 'content-type': 'text/plain' }, body: valid },
        415,
        /"text\/plain" is not application\/json/,
      ],
      ['no content type', { body: valid }, 415, /"" is not application\/json/],
      [
        'application/yaml',
        { headers: { 'content-type': 'application/yaml' }, body: 'a: 1' },
        415,
        /application\/yaml/,
      ],
      [
        'unparsable JSON',
        { headers: { 'content-type': 'application/json' }, body: '{"apiVersion":' },
        400,
        /body is not valid JSON/,
      ],
      [
        'empty body',
        { headers: { 'content-type': 'application/json' }, body: '' },
        400,
        /body is not valid JSON/,
      ],
      [
        'a JSON array',
        { headers: { 'content-type': 'application/json' }, body: '[]' },
        400,
        /must be an AdmissionReview object, got \[\]/,
      ],
      [
        'wrong apiVersion',
        {
          headers: { 'content-type': 'application/json' },
          body: valid.replace('admission.k8s.io/v1', 'admission.k8s.io/v1beta1'),
        },
        400,
        /apiVersion "admission.k8s.io\/v1beta1" is not admission.k8s.io\/v1/,
      ],
      [
        'wrong kind',
        {
          headers: { 'content-type': 'application/json' },
          body: valid.replace('"AdmissionReview"', '"Pod"'),
        },
        400,
        /kind "Pod" is not AdmissionReview/,
      ],
      [
        'no request',
        {
          headers: { 'content-type': 'application/json' },
          body: '{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"}',
        },
        400,
        /request: must be an object, got undefined/,
      ],
      [
        'request without uid',
        {
          headers: { 'content-type': 'application/json' },
          body: '{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"operation":"CREATE"}}',
        },
        400,
        /request.uid: must be a non-empty string/,
      ],
      [
        'a declared body over 3 MiB',
        { headers: { 'content-type': 'application/json' }, body: 'x'.repeat(3 * 1024 * 1024 + 1) },
        413,
        /body of 3145729 bytes exceeds the limit of 3145728 bytes/,
      ],
      [
        'a chunked body over 3 MiB',
        {
          headers: { 'content-type': 'application/json' },
          chunks: Array.from({ length: 4 }, () => Buffer.alloc(1024 * 1024, 32)),
        },
        413,
        /body exceeds the limit of 3145728 bytes/,
      ],
      ['GET on the mutate path', { method: 'GET' }, 405, /method GET not allowed/],
      [
        'an unknown path',
        { path: '/mutate', headers: { 'content-type': 'application/json' }, body: valid },
        404,
        /no handler for \/mutate/,
      ],
    ])('%s', async (_n, o, status, message) => {
      const r = await send(o);
      expect(r.status).toBe(status);
      expect(r.body).toMatch(message);
    });

    it('a malformed pod is denied naming the field, and the server still serves', async () => {
      const p = realisticPod();
      (p.spec!.containers[0]!.livenessProbe!.httpGet as { port: unknown }).port = { nested: 1 };
      const { review } = await post(admissionReview(p));
      expect(review.response.allowed).toBe(false);
      expect(review.response.status!.message).toBe(
        'spec.containers[0].livenessProbe.httpGet.port: must be an integer or a port name, got {"nested":1}',
      );
      const ok = await post(admissionReview(realisticPod()));
      expect(ok.review.response.allowed).toBe(true);
    });

    it('content type with charset is accepted; keep-alive connections carry many admissions', async () => {
      const agent = new https.Agent({ keepAlive: true, maxSockets: 1 });
      try {
        const sockets = new Set<unknown>();
        for (let i = 0; i < 5; i++) {
          const r = await httpsRequest({
            port: injector.port,
            ca: ca.certPem,
            method: 'POST',
            path: '/mutate-pod-creation',
            headers: { 'content-type': 'application/json; charset=utf-8' },
            body: JSON.stringify(admissionReview(realisticPod(), { uid: `k${i}` })),
            agent,
          });
          expect(r.status).toBe(200);
          expect((JSON.parse(r.body) as ReviewResponse).response.uid).toBe(`k${i}`);
          expect(r.localPort).toBeGreaterThan(0);
          sockets.add(r.localPort);
        }
        expect(sockets.size).toBe(1);
      } finally {
        agent.destroy();
      }
    });

    it('a client that is not TLS gets no answer and does not hurt the server', async () => {
      const net = await import('node:net');
      await new Promise<void>((resolve) => {
        const s = net.connect(injector.port, '127.0.0.1', () =>
          s.write('POST /mutate-pod-creation HTTP/1.1\r\n\r\n'),
        );
        s.on('error', () => resolve());
        s.on('close', () => resolve());
        s.resume();
      });
      const r = await httpsRequest({ port: injector.port, ca: ca.certPem, path: '/healthz' });
      expect(r.status).toBe(200);
    });
  });

  it('serves admissions by result and a latency histogram on /metrics', async () => {
    const r = await new Promise<string>((resolve, reject) => {
      import('node:http').then(({ default: http }) =>
        http
          .get({ host: '127.0.0.1', port: injector.metricsPort!, path: '/metrics' }, (res) => {
            let b = '';
            res.on('data', (c) => (b += c));
            res.on('end', () => resolve(b));
          })
          .on('error', reject),
      );
    });
    const count = (result: string): number =>
      Number(new RegExp(`fsm_injector_admissions_total\\{result="${result}"\\} (\\d+)`).exec(r)?.[1] ?? 0);
    expect(count('injected')).toBeGreaterThanOrEqual(3);
    expect(count('denied')).toBeGreaterThanOrEqual(2);
    expect(count('bad-request')).toBeGreaterThanOrEqual(7);
    expect(count('unsupported-media-type')).toBe(3);
    expect(count('too-large')).toBe(2);
    expect(count('ignored')).toBe(3);
    expect(count('not-ready')).toBe(1);
    expect(r).toMatch(/fsm_injector_admission_duration_seconds_bucket\{le="0.005",result="injected"\} \d+/);
    expect(r).toMatch(/fsm_injector_admission_duration_seconds_count\{result="injected"\} \d+/);
  });

  it('reloads the serving certificate when the files change, and ignores a broken pair', async () => {
    const fingerprint = (): Promise<string> =>
      new Promise((resolve, reject) => {
        const s = tls.connect(
          { host: '127.0.0.1', port: injector.port, servername: 'localhost', rejectUnauthorized: false },
          () => {
            const fp = s.getPeerX509Certificate()!.fingerprint256;
            s.end();
            resolve(fp);
          },
        );
        s.on('error', reject);
      });
    const first = await fingerprint();

    // A broken pair (key of another certificate) is refused; the old certificate keeps serving.
    const other = await ca.issue(servingNames);
    const stray = await ca.issue(servingNames);
    writeFileSync(join(dir, 'tls.crt'), other.certPem);
    writeFileSync(join(dir, 'tls.key'), stray.keyPem);
    expect(await injector.tls.reload()).toBe(false);
    expect(await fingerprint()).toBe(first);

    // A new CA's certificate: clients trusting only the new CA succeed once the watcher picks it up.
    const ca2 = await createCA('fsm-test-ca-2');
    const next = await ca2.issue(servingNames);
    writeFileSync(join(dir, 'tls.key'), next.keyPem);
    writeFileSync(join(dir, 'tls.crt'), next.certPem);
    const want = new X509Certificate(next.certPem).fingerprint256;
    while ((await fingerprint()) !== want) await new Promise((r) => setTimeout(r, 50));
    const r = await httpsRequest({ port: injector.port, ca: ca2.certPem, path: '/healthz' });
    expect(r.status).toBe(200);
    await expect(httpsRequest({ port: injector.port, ca: ca.certPem, path: '/healthz' })).rejects.toThrow(
      /certificate/,
    );
    const metrics = await registry.metrics();
    expect(metrics).toMatch(/fsm_injector_cert_reloads_total\{outcome="ok"\} [1-9]/);
    expect(metrics).toMatch(/fsm_injector_cert_reloads_total\{outcome="invalid"\} [1-9]/);
  });
});
