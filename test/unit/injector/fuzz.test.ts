/**
 * Property test: thousands of generated pods (valid, odd and malformed) through mutatePod and the
 * AdmissionReview handler. Seeded, so a failure names the seed and pod that reproduce it.
 */
import type { V1Pod } from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import jsonpatch from 'fast-json-patch';
import type { OriginalProbesAnnotation } from '../../../pkg/probes/index.js';
import { PROBE_TYPE_INFO, PROBE_TYPES } from '../../../pkg/constants/index.js';
import { defaultInjectorConfig, handleAdmission, mutatePod } from '../../../pkg/injector/index.js';
import { parseOriginalProbes } from '../../../pkg/probes/index.js';
import { admissionReview, namespace, sequentialUuids } from '../../support/injector.js';
import { Gen, rng } from '../../support/pod-gen.js';

const config = defaultInjectorConfig();
const ns = namespace('app', { mesh: 'fsm' });
const PODS = 3000;

function check(seed: number, object: unknown): void {
  const input = JSON.stringify(object);
  const r = mutatePod({
    object,
    namespace: 'app',
    namespaceObject: ns,
    config,
    newProxyUuid: sequentialUuids(),
  });
  expect(JSON.stringify(object)).toBe(input); // never mutates its input
  if (r.outcome !== 'injected') {
    expect(r.patch).toEqual([]);
    expect(r.reason).not.toBe('');
    return;
  }
  // The patch survives the wire and applies cleanly, with validation, to the original.
  const wire = JSON.parse(JSON.stringify(r.patch)) as jsonpatch.Operation[];
  expect(jsonpatch.validate(wire, jsonpatch.deepClone(object))).toBeUndefined();
  const out = jsonpatch.applyPatch(jsonpatch.deepClone(object), wire, true).newDocument as V1Pod;
  // node:assert rather than expect for the large comparisons: same strictness, much faster.
  assert.deepStrictEqual(out, JSON.parse(JSON.stringify(r.desired)));

  // Admitting the result again is a no-op.
  const again = mutatePod({
    object: out,
    namespace: 'app',
    namespaceObject: ns,
    config,
    newProxyUuid: sequentialUuids(),
  });
  expect(again.outcome).toBe('already-injected');
  expect(again.patch).toEqual([]);

  // Probes: never added, never port 0; the record matches where kubelet now sends each probe.
  const before = (object as V1Pod).spec!.containers;
  const after = out.spec!.containers;
  const raw = out.metadata!.annotations!['flomesh.io/original-probes']!;
  const rec = JSON.parse(raw) as OriginalProbesAnnotation;
  expect(rec.v).toBe(1);
  // The controller's strict reader (pkg/probes) accepts every record the injector writes.
  const parsed = parseOriginalProbes(raw, 'app/p');
  assert.deepStrictEqual(JSON.parse(JSON.stringify(parsed)), { status: 'valid', containers: rec.containers });
  const hcPorts = new Set<number>();
  const proxied = new Set<string>();
  before.forEach((c, i) => {
    const a = after[i]!;
    expect(a.name).toBe(c.name);
    for (const t of PROBE_TYPES) {
      const f = PROBE_TYPE_INFO[t].field;
      expect(f in a).toBe(f in c);
      const o = rec.containers[c.name]?.[t];
      if (!o) {
        assert.deepStrictEqual(a[f], c[f]);
        continue;
      }
      expect(o.port).toBeGreaterThanOrEqual(1);
      expect(o.port).toBeLessThanOrEqual(65535);
      expect(a[f]!.httpGet!.port).toBe(o.rewritten.port);
      if (o.kind === 'http') expect(a[f]!.httpGet!.path).toBe(o.rewritten.path);
      if (o.kind === 'tcp' || o.kind === 'grpc') {
        expect(o.rewritten).toEqual({ port: 15904, path: '/fsm-healthcheck' });
        hcPorts.add(o.port);
      } else {
        proxied.add(t);
      }
      expect(a[f]!.tcpSocket).toBeUndefined();
      expect(a[f]!.grpc).toBeUndefined();
    }
  });
  const names = after.map((c) => c.name);
  expect(names.filter((n) => n === 'sidecar')).toHaveLength(1);
  const hc = after.find((c) => c.name === 'fsm-healthcheck');
  if (hcPorts.size === 0) expect(hc).toBeUndefined();
  else expect(hc!.env![0]!.value).toBe([...hcPorts].sort((x, y) => x - y).join(','));
  const sidecarPorts = after.find((c) => c.name === 'sidecar')!.ports!.map((p) => p.containerPort);
  expect(sidecarPorts).toEqual(PROBE_TYPES.filter((t) => proxied.has(t)).map((t) => PROBE_TYPE_INFO[t].port));
  // HTTP probe paths are unique per type so every container's probe reaches its own port.
  for (const t of PROBE_TYPES) {
    const paths = Object.values(rec.containers).flatMap((c) =>
      c[t]?.kind === 'http' ? [c[t]!.rewritten.path] : [],
    );
    expect(new Set(paths).size).toBe(paths.length);
  }
  void seed;
}

describe('injector property test', () => {
  it(`${PODS} generated pods: never throws, patch applies cleanly, re-admission is a no-op`, () => {
    const seed = Number(process.env['FSM_FUZZ_SEED'] ?? 20261124);
    const g = new Gen(rng(seed));
    const outcomes: Record<string, number> = {};
    for (let i = 0; i < PODS; i++) {
      const object = g.pod();
      try {
        check(seed, object);
      } catch (err) {
        throw new Error(`seed ${seed} pod #${i}: ${JSON.stringify(object)}\n${String(err)}`);
      }
      const r = mutatePod({ object, namespace: 'app', namespaceObject: ns, config, newProxyUuid: () => 'u' });
      outcomes[r.outcome] = (outcomes[r.outcome] ?? 0) + 1;
    }
    // The generator reaches every outcome (so the properties above were exercised on each).
    expect(outcomes['injected']).toBeGreaterThan(PODS / 3);
    expect(outcomes['denied']).toBeGreaterThan(0);
    expect(outcomes['skipped']).toBeGreaterThan(0);
  });

  it('AdmissionReview handler never throws on mangled bodies and answers 200 or 400', () => {
    const g = new Gen(rng(7));
    const ctx = { config, namespace: () => ns, newProxyUuid: () => 'u' };
    for (let i = 0; i < 1000; i++) {
      const body = JSON.stringify(
        admissionReview(g.pod(), { operation: g.pick(['CREATE', 'UPDATE', 'CREATE']) }),
      );
      const cut = g.chance(0.3) ? body.slice(0, g.int(0, body.length)) : body;
      const mangled = g.chance(0.1) ? cut.replace(/"request"/, '"req"') : cut;
      const h = handleAdmission(mangled, ctx);
      expect([200, 400]).toContain(h.status);
      if (h.status === 200) {
        const resp = JSON.parse(h.body) as { response: { uid: string; allowed: boolean } };
        expect(resp.response.uid).toBe('705ab4f5-6393-11e8-b7cc-42010a800002');
      }
    }
  });
});
