/**
 * Issue 19 item 4: a second admission pass (reinvocationPolicy IfNeeded) after another webhook added
 * containers, probes or hooks rewrites only what is new, against the first pass's record, and is
 * idempotent.
 */
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import jsonpatch from 'fast-json-patch';
import {
  defaultInjectorConfig,
  mutatePod,
  mutatingWebhookConfiguration,
  serverSupport,
  type ServerSupport,
} from '../../../pkg/injector/index.js';
import type { MutationResult } from '../../../pkg/injector/mutate.js';
import { parseOriginalProbes } from '../../../pkg/probes/index.js';
import { namespace, pod, sequentialUuids } from '../../support/injector.js';

const config = defaultInjectorConfig({ healthcheckImage: 'hc:test' });
const v132 = serverSupport({ major: 1, minor: 32, gitVersion: 'v1.32.0' });

function run(object: V1Pod, server?: ServerSupport): MutationResult {
  return mutatePod({
    object,
    namespace: 'app',
    namespaceObject: namespace('app', { mesh: 'fsm' }),
    config,
    newProxyUuid: sequentialUuids(),
    ...(server ? { server } : {}),
  });
}

function apply(original: V1Pod, r: MutationResult): V1Pod {
  return jsonpatch.applyPatch(jsonpatch.deepClone(original), r.patch, true).newDocument as V1Pod;
}

function record(p: V1Pod) {
  const r = parseOriginalProbes(p.metadata!.annotations!['flomesh.io/original-probes'], 'app/p');
  if (r.status !== 'valid') throw new Error('invalid record');
  return r;
}

/** What another webhook adds after fsm's: a container with probes of every kind and a hook. */
const late: V1Container = {
  name: 'late',
  ports: [{ containerPort: 7000 }],
  livenessProbe: { httpGet: { port: 7000, path: '/live' } },
  readinessProbe: { httpGet: { port: 7443, path: '/ready', scheme: 'HTTPS' } },
  startupProbe: { tcpSocket: { port: 7000 } },
  lifecycle: { preStop: { httpGet: { port: 7000, path: '/drain' } } },
};

function first(server?: ServerSupport): V1Pod {
  const original = pod('p', [
    {
      name: 'web',
      ports: [{ containerPort: 8080 }],
      livenessProbe: { httpGet: { port: 8080, path: '/healthz' } },
      readinessProbe: { httpGet: { port: 8443, path: '/ready', scheme: 'HTTPS' } },
    },
  ]);
  return apply(original, run(original, server));
}

function addLate(p: V1Pod): V1Pod {
  const copy = structuredClone(p);
  copy.spec!.containers.splice(1, 0, structuredClone(late));
  return copy;
}

describe.each([
  ['classic', undefined],
  ['native', v132],
] as const)('second pass, %s sidecar', (_mode, server) => {
  const injected = first(server);
  const changed = addLate(injected);
  const r = run(changed, server);
  const out = apply(changed, r);

  it('rewrites only the new container, against the first pass', () => {
    expect(r.outcome).toBe('reinvoked');
    expect(r.reason).toBe('second pass: rewrote 4 probes or hooks added after the first');
    // The first pass's probes are exactly as they were.
    expect(out.spec!.containers.find((c) => c.name === 'web')).toEqual(
      injected.spec!.containers.find((c) => c.name === 'web'),
    );
    const l = out.spec!.containers.find((c) => c.name === 'late')!;
    // web's HTTP liveness keeps the shared path; late's gets its own.
    expect(l.livenessProbe!.httpGet).toEqual({ port: 15901, path: '/fsm-liveness-probe/late' });
    // web's HTTPS readiness passes through: late's is called over HTTP, the proxy speaks the TLS.
    expect(l.readinessProbe!.httpGet).toEqual({
      port: 15902,
      path: '/fsm-readiness-probe/late',
      scheme: 'HTTP',
    });
    expect(l.startupProbe!.httpGet!.httpHeaders).toEqual([{ name: 'Original-Tcp-Port', value: '7000' }]);
    expect(l.lifecycle!.preStop!.httpGet).toEqual({ port: 15903, path: '/fsm-prestop-hook/late' });
    const rec = record(out);
    expect(rec.containers.web).toEqual(record(injected).containers.web);
    expect(Object.keys(rec.containers.late!)).toEqual(['liveness', 'readiness', 'startup']);
    expect(rec.containers.late!.readiness).toMatchObject({ kind: 'https', tls: 'originate' });
    expect(rec.hooks?.late?.preStop).toMatchObject({ kind: 'http', port: 7000, path: '/drain' });
  });

  it('adds fsm-healthcheck for the new TCP probe and the startup port for the hook', () => {
    const hc = out.spec!.containers.find((c) => c.name === 'fsm-healthcheck')!;
    expect(hc.env).toEqual([{ name: 'FSM_HEALTHCHECK_ALLOWED_PORTS', value: '7000' }]);
    const sidecar = [...out.spec!.containers, ...(out.spec!.initContainers ?? [])].find(
      (c) => c.name === 'sidecar',
    )!;
    expect(sidecar.ports!.map((p) => p.containerPort).sort()).toEqual([15901, 15902, 15903]);
    // The stamp is the first pass's (the sidecar's bootstrap is still that one).
    expect(out.metadata!.annotations!['flomesh.io/injected-by']).toBe(
      injected.metadata!.annotations!['flomesh.io/injected-by'],
    );
  });

  it('is idempotent: a third pass changes nothing', () => {
    const again = run(out, server);
    expect(again.outcome).toBe('already-injected');
    expect(again.patch).toEqual([]);
  });
});

describe('second pass details', () => {
  it('a probe added to a container fsm already handled is rewritten; fsm-healthcheck gains its port', () => {
    const injected = apply(
      pod('p', [{ name: 'db', readinessProbe: { tcpSocket: { port: 5432 } } }]),
      run(pod('p', [{ name: 'db', readinessProbe: { tcpSocket: { port: 5432 } } }])),
    );
    const changed = structuredClone(injected);
    changed.spec!.containers[0]!.livenessProbe = { tcpSocket: { port: 5433 } };
    const out = apply(changed, run(changed));
    expect(out.spec!.containers[0]!.livenessProbe!.httpGet!.httpHeaders).toEqual([
      { name: 'Original-Tcp-Port', value: '5433' },
    ]);
    expect(out.spec!.containers.find((c) => c.name === 'fsm-healthcheck')!.env).toEqual([
      { name: 'FSM_HEALTHCHECK_ALLOWED_PORTS', value: '5432,5433' },
    ]);
  });

  it('nothing is done without a readable record, or when the pod opted out of the rewrite', () => {
    const injected = first();
    const noRecord = addLate(injected);
    noRecord.metadata!.annotations!['flomesh.io/original-probes'] = '{';
    expect(run(noRecord)).toMatchObject({ outcome: 'already-injected', patch: [] });
    const optOut = addLate(injected);
    optOut.metadata!.annotations!['flomesh.io/probe-rewrite'] = 'disabled';
    expect(run(optOut)).toMatchObject({ outcome: 'already-injected', patch: [] });
  });

  it('the webhook asks the API server for the second pass', () => {
    const cfg = mutatingWebhookConfiguration({ meshName: 'fsm', fsmNamespace: 'fsm-system' }) as {
      webhooks: { reinvocationPolicy: string }[];
    };
    expect(cfg.webhooks[0]!.reinvocationPolicy).toBe('IfNeeded');
  });
});
