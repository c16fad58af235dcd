/**
 * Issue 19 items 2, 3 and 6 through mutatePod: the native sidecar's layout and startup probe, the
 * classic one by annotation or API server version, rewritten lifecycle hooks, and the stamp.
 */
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import jsonpatch from 'fast-json-patch';
import {
  INJECTION_FORMAT,
  NATIVE_SIDECAR_ANNOTATION,
  SIDECAR_BOOTSTRAP_FORMAT,
} from '../../../pkg/constants/index.js';
import {
  defaultInjectorConfig,
  mutatePod,
  serverSupport,
  type ServerSupport,
} from '../../../pkg/injector/index.js';
import type { MutationResult } from '../../../pkg/injector/mutate.js';
import { parseOriginalProbes } from '../../../pkg/probes/index.js';
import { namespace, pod, realisticPod, sequentialUuids } from '../../support/injector.js';

const config = defaultInjectorConfig({ injectorVersion: '9.9.9' });
const v132 = serverSupport({ major: 1, minor: 32, gitVersion: 'v1.32.0' });
const v128 = serverSupport({ major: 1, minor: 28, gitVersion: 'v1.28.0' });

function run(
  object: V1Pod,
  server: ServerSupport | undefined,
  ns = namespace('app', { mesh: 'fsm' }),
): MutationResult {
  return mutatePod({
    object,
    namespace: 'app',
    namespaceObject: ns,
    config,
    newProxyUuid: sequentialUuids(),
    ...(server ? { server } : {}),
  });
}

function apply(original: V1Pod, r: MutationResult): V1Pod {
  return jsonpatch.applyPatch(jsonpatch.deepClone(original), r.patch, true).newDocument as V1Pod;
}

describe('native sidecar (API server >= 1.29)', () => {
  const original = realisticPod();
  original.spec!.initContainers = [{ name: 'migrate', image: 'm' }];
  const r = run(original, v132);
  const out = apply(original, r);

  it('the sidecar is an init container after fsm-init, restartPolicy Always; app containers stay as they were', () => {
    expect(r.outcome).toBe('injected');
    expect(r.reason).toContain('native sidecar: the API server (v1.32.0) runs native sidecars');
    expect(out.spec!.initContainers!.map((c) => [c.name, c.restartPolicy])).toEqual([
      ['migrate', undefined],
      ['fsm-init', undefined],
      ['sidecar', 'Always'],
    ]);
    expect(out.spec!.containers.map((c) => c.name)).toEqual(['web', 'api', 'cache', 'fsm-healthcheck']);
  });

  it('its startup probe calls the proxy-ready route on the startup listener, which only LDS creates', () => {
    const sidecar = out.spec!.initContainers![2]!;
    expect(sidecar.startupProbe).toEqual({
      httpGet: { port: 15903, path: '/fsm-proxy-ready' },
      periodSeconds: 1,
      timeoutSeconds: 1,
      failureThreshold: 600,
    });
    expect(sidecar.ports!.map((p) => [p.name, p.containerPort])).toEqual([
      ['liveness-port', 15901],
      ['readiness-port', 15902],
      ['startup-port', 15903],
    ]);
  });

  it('the probes are rewritten the same way in both modes', () => {
    const classic = apply(original, run(original, v128));
    for (const name of ['web', 'api', 'cache']) {
      const a = out.spec!.containers.find((c) => c.name === name)!;
      const b = classic.spec!.containers.find((c) => c.name === name)!;
      expect([name, a.livenessProbe, a.readinessProbe, a.startupProbe]).toEqual([
        name,
        b.livenessProbe,
        b.readinessProbe,
        b.startupProbe,
      ]);
    }
    expect(classic.spec!.containers.map((c) => c.name)).toEqual([
      'web',
      'api',
      'cache',
      'sidecar',
      'fsm-healthcheck',
    ]);
    expect(classic.spec!.initContainers!.map((c) => c.name)).toEqual(['migrate', 'fsm-init']);
  });

  it('the annotation chooses classic on a 1.32 API server; asking for native on 1.28 warns', () => {
    const p = realisticPod();
    p.metadata!.annotations = { [NATIVE_SIDECAR_ANNOTATION]: 'disabled' };
    expect(apply(p, run(p, v132)).spec!.containers.map((c) => c.name)).toContain('sidecar');
    const q = realisticPod();
    q.metadata!.annotations = { [NATIVE_SIDECAR_ANNOTATION]: 'enabled' };
    const r2 = run(q, v128);
    expect(apply(q, r2).spec!.containers.map((c) => c.name)).toContain('sidecar');
    expect(r2.warnings).toEqual([
      expect.stringContaining('asks for a native sidecar, but the API server (v1.28.0)'),
    ]);
    const bad = realisticPod();
    bad.metadata!.annotations = { [NATIVE_SIDECAR_ANNOTATION]: 'perhaps' };
    expect(run(bad, v132)).toMatchObject({
      outcome: 'denied',
      reason: expect.stringContaining('native-sidecar="perhaps" is invalid'),
    });
  });

  it('no API server version (tests, or not read yet): classic', () => {
    expect(apply(original, run(original, undefined)).spec!.containers.map((c) => c.name)).toContain(
      'sidecar',
    );
  });

  it('the stamp says who injected the pod and in which formats', () => {
    expect(JSON.parse(out.metadata!.annotations!['flomesh.io/injected-by']!)).toEqual({
      injector: '9.9.9',
      format: INJECTION_FORMAT,
      bootstrap: SIDECAR_BOOTSTRAP_FORMAT,
    });
  });
});

describe('lifecycle hooks', () => {
  const containers: V1Container[] = [
    {
      name: 'web',
      ports: [{ name: 'http', containerPort: 8080 }],
      lifecycle: {
        postStart: { httpGet: { port: 'http', path: '/warm' } },
        preStop: { httpGet: { port: 8443, path: '/drain', scheme: 'HTTPS' } },
      },
    },
    { name: 'exec', lifecycle: { preStop: { exec: { command: ['sleep', '5'] } } } },
    { name: 'far', lifecycle: { preStop: { httpGet: { port: 80, host: 'elsewhere', path: '/x' } } } },
  ];
  const original = pod('hooks', containers);

  it.each([
    ['native', v132],
    ['classic', v128],
  ] as const)(
    '%s: rewritten to the startup listener, recorded, the startup port declared',
    (mode, server) => {
      const r = run(original, server);
      const out = apply(original, r);
      const web = out.spec!.containers.find((c) => c.name === 'web')!;
      expect(web.lifecycle).toEqual({
        postStart: { httpGet: { port: 15903, path: '/fsm-poststart-hook/web' } },
        preStop: { httpGet: { port: 15903, path: '/fsm-prestop-hook/web', scheme: 'HTTP' } },
      });
      expect(out.spec!.containers.find((c) => c.name === 'exec')!.lifecycle).toEqual(
        containers[1]!.lifecycle,
      );
      expect(out.spec!.containers.find((c) => c.name === 'far')!.lifecycle).toEqual(containers[2]!.lifecycle);
      const parsed = parseOriginalProbes(
        out.metadata!.annotations!['flomesh.io/original-probes'],
        'app/hooks',
      );
      expect(parsed.status === 'valid' && parsed.hooks).toEqual({
        web: {
          postStart: {
            kind: 'http',
            scheme: 'HTTP',
            port: 8080,
            path: '/warm',
            timeoutSeconds: 30,
            rewritten: { port: 15903, path: '/fsm-poststart-hook/web' },
          },
          preStop: {
            kind: 'https',
            scheme: 'HTTPS',
            port: 8443,
            path: '/drain',
            timeoutSeconds: 30,
            tls: 'originate',
            rewritten: { port: 15903, path: '/fsm-prestop-hook/web' },
          },
        },
      });
      const sidecar = [...out.spec!.containers, ...out.spec!.initContainers!].find(
        (c) => c.name === 'sidecar',
      )!;
      expect(sidecar.ports!.map((p) => p.containerPort)).toEqual([15903]);
      expect(r.warnings.some((w) => w.includes('container far preStop hook: httpGet.host "elsewhere"'))).toBe(
        true,
      );
      // A classic sidecar stops with the app: a preStop hook through it may not arrive.
      expect(r.warnings.some((w) => w.includes('goes through a classic sidecar'))).toBe(mode === 'classic');
    },
  );

  it('the probe-rewrite opt-out leaves hooks as written', () => {
    const p = structuredClone(original);
    p.metadata!.annotations = { 'flomesh.io/probe-rewrite': 'disabled' };
    expect(apply(p, run(p, v132)).spec!.containers[0]!.lifecycle).toEqual(containers[0]!.lifecycle);
  });
});
