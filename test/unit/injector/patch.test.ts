/**
 * The admission patch built from what changed (pkg/injector/patch.ts) against fast-json-patch's full
 * compare: table tests of the diff, then a property test over generated pods (classic and native
 * sidecars, lifecycle hooks, label and annotation keys that need escaping, second passes) where both
 * patches, sent over the wire, turn the received pod into the same pod — the desired one.
 */
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import jsonpatch from 'fast-json-patch';
import { defaultInjectorConfig, mutatePod, serverSupport } from '../../../pkg/injector/index.js';
import type { MutationResult } from '../../../pkg/injector/mutate.js';
import { escapePointerSegment, sharedPatch } from '../../../pkg/injector/patch.js';
import { namespace, sequentialUuids } from '../../support/injector.js';
import { Gen, rng } from '../../support/pod-gen.js';

type Json = Record<string, unknown>;

/** Applies `ops` after a trip over the wire, as the API server would, to a copy of `doc`. */
function applied(doc: unknown, ops: jsonpatch.Operation[]): unknown {
  const wire = JSON.parse(JSON.stringify(ops)) as jsonpatch.Operation[];
  expect(jsonpatch.validate(wire, jsonpatch.deepClone(doc))).toBeUndefined();
  return jsonpatch.applyPatch(jsonpatch.deepClone(doc), wire, true).newDocument;
}

const asJson = (v: unknown): unknown => JSON.parse(JSON.stringify(v)) as unknown;
const opsOf = (ops: jsonpatch.Operation[]): string[] =>
  ops.map((o) => JSON.stringify(o)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));

describe('sharedPatch', () => {
  it.each([
    ['a', 'a'],
    ['flomesh.io/proxy-uuid', 'flomesh.io~1proxy-uuid'],
    ['a~b', 'a~0b'],
    ['~/~1', '~0~1~01'],
    ['', ''],
  ])('escapes the pointer segment %j as %j', (key, want) => {
    expect(escapePointerSegment(key)).toBe(want);
  });

  const shared = { deep: { er: [1, 2, { x: 'y' }] } };
  it.each<[string, unknown, unknown, jsonpatch.Operation[]]>([
    ['nothing changed (same reference)', shared, shared, []],
    ['nothing changed (equal copies)', { a: { b: [1, 'x', null] } }, { a: { b: [1, 'x', null] } }, []],
    ['an added key', { a: 1 }, { a: 1, b: { c: 2 } }, [{ op: 'add', path: '/b', value: { c: 2 } }]],
    ['a removed key', { a: 1, b: 2 }, { a: 1 }, [{ op: 'remove', path: '/b' }]],
    [
      'a key set to undefined is removed',
      { a: 1, b: 2 },
      { a: 1, b: undefined },
      [{ op: 'remove', path: '/b' }],
    ],
    ['an undefined key stays absent', { a: 1 }, { a: 1, b: undefined }, []],
    [
      'a replaced primitive',
      { a: { b: 1 } },
      { a: { b: '1' } },
      [{ op: 'replace', path: '/a/b', value: '1' }],
    ],
    ['null to an object', { a: null }, { a: { b: 1 } }, [{ op: 'replace', path: '/a', value: { b: 1 } }]],
    ['an object to an array', { a: { 0: 1 } }, { a: [1] }, [{ op: 'replace', path: '/a', value: [1] }]],
    [
      'an array that grew',
      { l: [{ n: 'a' }] },
      { l: [{ n: 'a' }, { n: 'b' }, { n: 'c' }] },
      [
        { op: 'add', path: '/l/1', value: { n: 'b' } },
        { op: 'add', path: '/l/2', value: { n: 'c' } },
      ],
    ],
    [
      'an array that shrank loses its tail, last first',
      { l: [1, 2, 3] },
      { l: [1] },
      [
        { op: 'remove', path: '/l/2' },
        { op: 'remove', path: '/l/1' },
      ],
    ],
    [
      'an element changed in place',
      { l: [{ p: { tcpSocket: { port: 1 } } }] },
      { l: [{ p: { httpGet: { port: 15904 } } }] },
      [
        { op: 'remove', path: '/l/0/p/tcpSocket' },
        { op: 'add', path: '/l/0/p/httpGet', value: { port: 15904 } },
      ],
    ],
    [
      'keys that need escaping',
      { m: { 'a/b': '1', 'c~d': '2' } },
      { m: { 'a/b': '3', 'e/f': '4' } },
      [
        { op: 'remove', path: '/m/c~0d' },
        { op: 'replace', path: '/m/a~1b', value: '3' },
        { op: 'add', path: '/m/e~1f', value: '4' },
      ],
    ],
  ])('%s', (_name, from, to, want) => {
    const ops = sharedPatch(from as object, to as object);
    expect(ops).toEqual(want);
    assert.deepStrictEqual(applied(from, ops), asJson(to));
    assert.deepStrictEqual(applied(from, jsonpatch.compare(from as object, to as object)), asJson(to));
  });

  it('puts added values in the patch as built (no copy) and never touches its inputs', () => {
    const from = { spec: { containers: [{ name: 'a' }] } };
    const sidecar = { name: 'sidecar', args: ['--x'] };
    const to = { spec: { containers: [from.spec.containers[0]!, sidecar] } };
    const before = JSON.stringify([from, to]);
    const ops = sharedPatch(from, to);
    expect(ops).toEqual([{ op: 'add', path: '/spec/containers/1', value: sidecar }]);
    expect((ops[0] as { value: unknown }).value).toBe(sidecar);
    expect(JSON.stringify([from, to])).toBe(before);
  });
});

/** The generated pod with what the fuzz generator leaves out: hooks, escaped keys, more labels. */
function decorate(g: Gen, object: unknown): unknown {
  if (typeof object !== 'object' || object === null || Array.isArray(object)) return object;
  const o = object as Json;
  const meta = o['metadata'] as Json | undefined;
  if (meta && typeof meta === 'object' && g.chance(0.5)) {
    const labels = {
      ...(meta['labels'] as Json | undefined),
      'team/a~b': 'x',
      'app.kubernetes.io/name': 'y',
    };
    meta['labels'] = labels;
  }
  if (meta && typeof meta === 'object' && g.chance(0.3)) {
    meta['annotations'] = { ...(meta['annotations'] as Json | undefined), 'x.io/a~/b': 'v', '': 'empty' };
  }
  const spec = o['spec'] as Json | undefined;
  const containers = spec?.['containers'];
  if (Array.isArray(containers)) {
    for (const c of containers) {
      if (typeof c !== 'object' || c === null || !g.chance(0.4)) continue;
      const hook = g.pick([
        { httpGet: { port: 8080, path: '/drain' } },
        { httpGet: { port: 'http0', path: '/start' } },
        { httpGet: { port: 8443, path: '/x', scheme: 'HTTPS' } },
        { exec: { command: ['sh', '-c', 'sleep 1'] } },
        { sleep: { seconds: 2 } },
      ]);
      (c as Json)['lifecycle'] = g.chance(0.5) ? { preStop: hook } : { postStart: hook };
    }
  }
  if (spec && g.chance(0.3)) spec['volumes'] = [{ name: 'data', emptyDir: {} }];
  return object;
}

/** What another webhook adds after fsm's first pass: a container with probes and a hook. */
function late(g: Gen, i: number): V1Container {
  const port = g.int(1000, 9000);
  return {
    name: `late${i}`,
    ports: [{ containerPort: port }],
    ...(g.chance(0.7) ? { livenessProbe: { httpGet: { port, path: '/live' } } } : {}),
    ...(g.chance(0.5) ? { readinessProbe: { tcpSocket: { port } } } : {}),
    ...(g.chance(0.3) ? { startupProbe: { grpc: { port } } } : {}),
    ...(g.chance(0.3) ? { lifecycle: { preStop: { httpGet: { port, path: '/drain' } } } } : {}),
  };
}

const config = defaultInjectorConfig();
const ns = namespace('app', { mesh: 'fsm' });
const servers = [
  undefined,
  serverSupport({ major: 1, minor: 32, gitVersion: 'v1.32.0' }),
  serverSupport({ major: 1, minor: 28, gitVersion: 'v1.28.0' }),
];
const PODS = 2000;

function admit(object: unknown, server: (typeof servers)[number]): MutationResult {
  return mutatePod({
    object,
    namespace: 'app',
    namespaceObject: ns,
    config,
    newProxyUuid: sequentialUuids(),
    ...(server ? { server } : {}),
  });
}

/** Our patch and compare's both turn `object` into the desired pod; ours is no larger. */
function agrees(object: unknown, r: MutationResult): void {
  const desired = asJson(r.desired);
  const full = jsonpatch.compare(object as object, r.desired as object);
  assert.deepStrictEqual(applied(object, r.patch), desired);
  assert.deepStrictEqual(applied(object, full), desired);
  // The same operations (compare's order differs: it walks keys last to first).
  assert.deepStrictEqual(
    opsOf(asJson(r.patch) as jsonpatch.Operation[]),
    opsOf(asJson(full) as jsonpatch.Operation[]),
  );
}

describe('patch property test: built from the changes = full compare', () => {
  it(`${PODS} generated pods, first and second passes`, () => {
    const seed = Number(process.env['FSM_FUZZ_SEED'] ?? 20261129);
    const g = new Gen(rng(seed));
    const counts: Record<string, number> = {};
    for (let i = 0; i < PODS; i++) {
      const object = decorate(g, g.pod());
      const server = g.pick(servers);
      try {
        const r = admit(object, server);
        counts[r.outcome] = (counts[r.outcome] ?? 0) + 1;
        if (r.outcome !== 'injected') continue;
        agrees(object, r);
        // Another webhook adds containers after fsm's: the second pass patches only what is new.
        const out = applied(object, r.patch) as V1Pod;
        out.spec!.containers.push(...Array.from({ length: g.int(1, 2) }, (_, j) => late(g, j)));
        const again = admit(out, server);
        counts[`second pass ${again.outcome}`] = (counts[`second pass ${again.outcome}`] ?? 0) + 1;
        if (again.outcome === 'reinvoked') agrees(out, again);
        else expect(again.patch).toEqual([]);
      } catch (err) {
        throw new Error(`seed ${seed} pod #${i}: ${JSON.stringify(object)}\n${String(err)}`);
      }
    }
    // Every path was exercised.
    expect(counts['injected']).toBeGreaterThan(PODS / 3);
    expect(counts['second pass reinvoked']).toBeGreaterThan(PODS / 10);
  });
});
