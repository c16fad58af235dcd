import type { V1Pod } from '@kubernetes/client-node';
import jsonpatch from 'fast-json-patch';
import type { OriginalProbesAnnotation } from '../../../pkg/probes/index.js';
import { defaultInjectorConfig, mutatePod } from '../../../pkg/injector/index.js';
import type { MutationResult } from '../../../pkg/injector/mutate.js';
import { namespace, pod, realisticPod, sequentialUuids } from '../../support/injector.js';

const config = defaultInjectorConfig({
  sidecarImage: 'envoy:test',
  initImage: 'init:test',
  healthcheckImage: 'hc:test',
});
const monitored = namespace('app', { mesh: 'fsm' });

function run(object: unknown, ns = monitored): MutationResult {
  return mutatePod({
    object,
    namespace: 'app',
    namespaceObject: ns,
    config,
    newProxyUuid: sequentialUuids(),
  });
}

function apply(original: unknown, r: MutationResult): V1Pod {
  const wire = JSON.parse(JSON.stringify(r.patch)) as jsonpatch.Operation[];
  return jsonpatch.applyPatch(jsonpatch.deepClone(original), wire, true).newDocument as V1Pod;
}

function record(p: V1Pod): OriginalProbesAnnotation {
  return JSON.parse(p.metadata!.annotations!['flomesh.io/original-probes']!) as OriginalProbesAnnotation;
}

describe('mutatePod', () => {
  it('injects a realistic pod: probes, sidecar, fsm-init, fsm-healthcheck, label and annotation', () => {
    const original = realisticPod();
    const r = run(original);
    expect(r.outcome).toBe('injected');
    expect(r.warnings).toEqual([]);
    const out = apply(original, r);
    expect(out).toStrictEqual(JSON.parse(JSON.stringify(r.desired)));
    expect(original).toStrictEqual(realisticPod()); // input untouched

    expect(out.spec!.containers.map((c) => c.name)).toEqual([
      'web',
      'api',
      'cache',
      'sidecar',
      'fsm-healthcheck',
    ]);
    expect(out.spec!.initContainers!.map((c) => c.name)).toEqual(['fsm-init']);
    expect(out.metadata!.labels).toEqual({ app: 'shop-7d9f', 'flomesh.io/proxy-uuid': r.proxyUuid });
    const sidecar = out.spec!.containers[3]!;
    expect(JSON.parse(sidecar.args![1]!).node.id).toBe(r.proxyUuid);
    expect(sidecar.ports!.map((p) => p.name)).toEqual(['liveness-port', 'readiness-port']);
    const hc = out.spec!.containers[4]!;
    expect(hc.env).toEqual([{ name: 'FSM_HEALTHCHECK_ALLOWED_PORTS', value: '6379,8080,9000' }]);

    const web = out.spec!.containers[0]!;
    expect(web.livenessProbe!.httpGet).toEqual({
      path: '/fsm-liveness-probe',
      port: 15901,
      httpHeaders: [{ name: 'X-Probe', value: 'live' }],
    });
    expect(web.readinessProbe!.httpGet).toEqual({
      path: '/fsm-readiness-probe',
      port: 15902,
      scheme: 'HTTP',
    });
    expect(web.startupProbe!.httpGet!.httpHeaders).toEqual([{ name: 'Original-Tcp-Port', value: '8080' }]);
    expect(out.spec!.containers[1]!.readinessProbe!.httpGet).toEqual({
      path: '/ready',
      port: 15902,
      scheme: 'HTTPS',
    });

    expect(record(out)).toEqual({
      v: 1,
      containers: {
        web: {
          liveness: {
            kind: 'http',
            scheme: 'HTTP',
            port: 8080,
            path: '/healthz',
            headers: [{ name: 'X-Probe', value: 'live' }],
            timeoutSeconds: 2,
            rewritten: { port: 15901, path: '/fsm-liveness-probe' },
          },
          readiness: {
            kind: 'http',
            scheme: 'HTTP',
            port: 8081,
            path: '/ready',
            timeoutSeconds: 1,
            rewritten: { port: 15902, path: '/fsm-readiness-probe' },
          },
          startup: {
            kind: 'tcp',
            port: 8080,
            timeoutSeconds: 1,
            rewritten: { port: 15904, path: '/fsm-healthcheck' },
          },
        },
        api: {
          liveness: {
            kind: 'grpc',
            port: 9000,
            grpcService: 'api.v1.Health',
            timeoutSeconds: 1,
            rewritten: { port: 15904, path: '/fsm-healthcheck' },
          },
          readiness: {
            kind: 'https',
            scheme: 'HTTPS',
            port: 9443,
            path: '/ready',
            timeoutSeconds: 1,
            rewritten: { port: 15902, path: '/ready' },
          },
        },
        cache: {
          liveness: {
            kind: 'tcp',
            port: 6379,
            timeoutSeconds: 1,
            rewritten: { port: 15904, path: '/fsm-healthcheck' },
          },
        },
      },
    });
  });

  it('patch ops are add/replace with escaped annotation paths, as compare computes them', () => {
    const original = pod('p', [{ name: 'a', livenessProbe: { httpGet: { port: 80 } } }]);
    const r = run(original);
    const paths = r.patch.map((op) => `${op.op} ${op.path}`);
    expect(paths).toEqual(
      expect.arrayContaining([
        'add /metadata/labels/flomesh.io~1proxy-uuid',
        'add /metadata/annotations',
        'add /spec/initContainers',
        'add /spec/containers/1',
        'replace /spec/containers/0/livenessProbe/httpGet/port',
        'add /spec/containers/0/livenessProbe/httpGet/path',
      ]),
    );
    expect(r.patch.every((op) => op.op === 'add' || op.op === 'replace')).toBe(true);
  });

  it('only HTTP probes: no fsm-healthcheck container', () => {
    const original = pod('p', [{ name: 'a', readinessProbe: { httpGet: { path: '/r', port: 80 } } }]);
    const out = apply(original, run(original));
    expect(out.spec!.containers.map((c) => c.name)).toEqual(['a', 'sidecar']);
  });

  it('existing init containers are kept; fsm-init runs last', () => {
    const original = pod('p', [{ name: 'a' }]);
    original.spec!.initContainers = [{ name: 'migrate', image: 'm' }];
    const out = apply(original, run(original));
    expect(out.spec!.initContainers!.map((c) => c.name)).toEqual(['migrate', 'fsm-init']);
  });

  it('is idempotent: admitting the injected pod again (or a kubectl debug copy) changes nothing', () => {
    const original = realisticPod();
    const out = apply(original, run(original));
    const again = run(out);
    expect(again.outcome).toBe('already-injected');
    expect(again.patch).toEqual([]);
    const copy = structuredClone(out);
    copy.metadata!.name = 'shop-7d9f-debug';
    delete copy.metadata!.labels!['flomesh.io/proxy-uuid'];
    expect(run(copy).outcome).toBe('already-injected');
    // Our sidecar plus the UUID label also marks the pod as injected.
    const noAnnotation = structuredClone(out);
    delete noAnnotation.metadata!.annotations!['flomesh.io/original-probes'];
    expect(run(noAnnotation).outcome).toBe('already-injected');
  });

  it('probe-rewrite opt-out: sidecar injected, probes untouched', () => {
    for (const v of ['disabled', 'Disabled', 'no', 'false']) {
      const original = realisticPod();
      original.metadata!.annotations = { 'flomesh.io/probe-rewrite': v };
      const r = run(original);
      expect(r.outcome).toBe('injected');
      const out = apply(original, r);
      expect(out.spec!.containers.slice(0, 3)).toStrictEqual(realisticPod().spec!.containers);
      expect(out.spec!.containers.map((c) => c.name)).toEqual(['web', 'api', 'cache', 'sidecar']);
      expect(out.spec!.containers[3]!.ports).toEqual([]);
      expect(record(out)).toEqual({ v: 1, containers: {} });
    }
    const enabled = realisticPod();
    enabled.metadata!.annotations = { 'flomesh.io/probe-rewrite': 'enabled' };
    expect(apply(enabled, run(enabled)).spec!.containers[0]!.livenessProbe!.httpGet!.port).toBe(15901);
  });

  it.each<[string, (p: V1Pod) => void, RegExp]>([
    [
      'invalid probe-rewrite value',
      (p) => (p.metadata!.annotations = { 'flomesh.io/probe-rewrite': 'off' }),
      /flomesh.io\/probe-rewrite="off" is invalid/,
    ],
    [
      'container named sidecar',
      (p) => (p.spec!.containers[0]!.name = 'sidecar'),
      /spec.containers\[0\].name "sidecar" is reserved/,
    ],
    [
      'init container named fsm-init',
      (p) => (p.spec!.initContainers = [{ name: 'fsm-init' }]),
      /spec.initContainers\[0\].name "fsm-init" is reserved/,
    ],
    [
      'a container name that is not a DNS label',
      (p) => (p.spec!.containers[1]!.name = 'API_v2'),
      /spec.containers\[1\].name: must be a DNS-1123 label .*, got "API_v2"/,
    ],
    [
      'duplicate container names',
      (p) => p.spec!.containers.push({ name: 'web' }),
      /spec.containers\[3\].name: must be unique among the containers, got "web"/,
    ],
    [
      'no containers',
      (p) => (p.spec!.containers = []),
      /spec.containers: must be a non-empty array of containers, got \[\]/,
    ],
    [
      'probe port of wrong type',
      (p) => ((p.spec!.containers[0]!.livenessProbe!.httpGet as { port: unknown }).port = true),
      /spec.containers\[0\].livenessProbe.httpGet.port: must be an integer or a port name, got true/,
    ],
    [
      'headers not an array',
      (p) => ((p.spec!.containers[0]!.livenessProbe!.httpGet as { httpHeaders: unknown }).httpHeaders = 'x'),
      /httpGet.httpHeaders: must be an array, got "x"/,
    ],
    [
      'grpc port as string',
      (p) => ((p.spec!.containers[1]!.livenessProbe!.grpc as { port: unknown }).port = 'grpc'),
      /spec.containers\[1\].livenessProbe.grpc.port: must be an integer, got "grpc"/,
    ],
    [
      'labels with a number',
      (p) => ((p.metadata!.labels as Record<string, unknown>)['x'] = 5),
      /metadata.labels\["x"\]: must be a string, got 5/,
    ],
    ['spec missing', (p) => delete (p as { spec?: unknown }).spec, /spec: must be an object, got undefined/],
    [
      'container not an object',
      (p) => ((p.spec!.containers as unknown[])[2] = 'cache'),
      /spec.containers\[2\]: must be an object, got "cache"/,
    ],
  ])('denies a pod with %s, naming the field and value', (_name, change, message) => {
    const original = realisticPod();
    change(original);
    const r = run(original);
    expect(r.outcome).toBe('denied');
    expect(r.reason).toMatch(message);
    expect(r.patch).toEqual([]);
  });

  it.each<[string, unknown]>([
    ['null', null],
    ['a string', 'pod'],
    ['an array', [1]],
  ])('denies request.object that is %s', (_n, object) => {
    const r = run(object);
    expect(r.outcome).toBe('denied');
    expect(r.reason).toMatch(/request.object: must be a Pod object/);
  });

  it('skips pods of unmonitored namespaces without looking at their shape', () => {
    const r = run({ spec: 'garbage' }, namespace('app'));
    expect(r).toEqual({
      outcome: 'skipped',
      reason: 'namespace app is not monitored by mesh fsm',
      patch: [],
      warnings: [],
    });
  });

  it('warnings name the pod by generateName when it has no name', () => {
    const original = pod('ignored', [{ name: 'a', livenessProbe: { httpGet: { port: 'missing' } } }]);
    delete original.metadata!.name;
    original.metadata!.generateName = 'web-5f7c-';
    const r = run(original);
    expect(r.outcome).toBe('injected');
    expect(r.warnings).toEqual([
      'pod app/web-5f7c-*: container a liveness probe: port "missing" does not resolve to a port (1-65535) of the container; left unchanged',
    ]);
  });

  it('warns about container ports the sidecar reserves', () => {
    const original = pod('p', [
      { name: 'a', ports: [{ containerPort: 8080 }, { containerPort: 15001 }] },
      { name: 'b', ports: [{ containerPort: 15904 }] },
    ]);
    const r = run(original);
    expect(r.outcome).toBe('injected');
    expect(r.warnings).toEqual([
      'pod app/p: container a port 15001 is reserved by the fsm sidecar',
      'pod app/p: container b port 15904 is reserved by the fsm sidecar',
    ]);
  });

  it('control characters in the pod name do not reach the warnings', () => {
    const original = pod('a\nb', [{ name: 'a', livenessProbe: { httpGet: { port: 'missing' } } }]);
    expect(run(original).warnings[0]).toMatch(/^pod app\/a\?b: container a liveness probe/);
  });

  it('creates labels and annotations when the pod has none', () => {
    const original: V1Pod = { metadata: { name: 'bare' }, spec: { containers: [{ name: 'a' }] } };
    const out = apply(original, run(original));
    expect(Object.keys(out.metadata!.labels!)).toEqual(['flomesh.io/proxy-uuid']);
    expect(record(out)).toEqual({ v: 1, containers: {} });
  });

  it('a fresh proxy UUID replaces one copied from another pod', () => {
    const original = pod('p', [{ name: 'a' }]);
    original.metadata!.labels!['flomesh.io/proxy-uuid'] = 'stale';
    const r = run(original);
    expect(apply(original, r).metadata!.labels!['flomesh.io/proxy-uuid']).toBe(r.proxyUuid);
    expect(r.proxyUuid).not.toBe('stale');
  });
});
