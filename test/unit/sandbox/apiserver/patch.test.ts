import {
  applyPatch,
  jsonPatch,
  mergePatch,
  PatchError,
  strategicMergePatch,
} from '../../../../pkg/sandbox/apiserver/patch.js';

describe('JSON merge patch (RFC 7386)', () => {
  it.each([
    [{ a: 'b' }, { a: 'c' }, { a: 'c' }],
    [{ a: 'b' }, { b: 'c' }, { a: 'b', b: 'c' }],
    [{ a: 'b' }, { a: null }, {}],
    [{ a: 'b', b: 'c' }, { a: null }, { b: 'c' }],
    [{ a: ['b'] }, { a: 'c' }, { a: 'c' }],
    [{ a: 'c' }, { a: ['b'] }, { a: ['b'] }],
    [{ a: { b: 'c' } }, { a: { b: 'd', c: null } }, { a: { b: 'd' } }],
    [{ a: [{ b: 'c' }] }, { a: [1] }, { a: [1] }],
    [{ e: null }, { a: 1 }, { e: null, a: 1 }],
    [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
  ])('%j + %j = %j', (target, patch, expected) => {
    expect(mergePatch(target, patch)).toEqual(expected);
  });

  it('does not modify its inputs', () => {
    const t = { a: { b: 1 } };
    const p = { a: { c: 2 } };
    mergePatch(t, p);
    expect(t).toEqual({ a: { b: 1 } });
    expect(p).toEqual({ a: { c: 2 } });
  });
});

const podSpec = {
  spec: {
    containers: [
      {
        name: 'app',
        image: 'a:1',
        ports: [{ containerPort: 80, name: 'http' }],
        env: [{ name: 'A', value: '1' }],
      },
      { name: 'side', image: 's:1' },
    ],
    tolerations: [{ key: 'k' }],
  },
  metadata: { finalizers: ['x'], labels: { a: '1' } },
};

describe('strategic merge patch', () => {
  it.each<[string, unknown, (r: typeof podSpec) => void]>([
    [
      'containers merge by name',
      { spec: { containers: [{ name: 'app', image: 'a:2' }] } },
      (r) => {
        expect(r.spec.containers.map((c) => c.name)).toEqual(['app', 'side']);
        expect(r.spec.containers[0]).toMatchObject({
          image: 'a:2',
          ports: [{ containerPort: 80, name: 'http' }],
        });
      },
    ],
    [
      'a new container is appended',
      { spec: { containers: [{ name: 'new', image: 'n:1' }] } },
      (r) => expect(r.spec.containers.map((c) => c.name)).toEqual(['app', 'side', 'new']),
    ],
    [
      '$patch: delete removes by key',
      { spec: { containers: [{ name: 'side', $patch: 'delete' }] } },
      (r) => expect(r.spec.containers.map((c) => c.name)).toEqual(['app']),
    ],
    [
      'nested env merges by name',
      { spec: { containers: [{ name: 'app', env: [{ name: 'B', value: '2' }] }] } },
      (r) =>
        expect(r.spec.containers[0]!.env).toEqual([
          { name: 'A', value: '1' },
          { name: 'B', value: '2' },
        ]),
    ],
    [
      'container ports merge by containerPort',
      {
        spec: {
          containers: [
            { name: 'app', ports: [{ containerPort: 80, protocol: 'TCP' }, { containerPort: 81 }] },
          ],
        },
      },
      (r) =>
        expect(r.spec.containers[0]!.ports).toEqual([
          { containerPort: 80, name: 'http', protocol: 'TCP' },
          { containerPort: 81 },
        ]),
    ],
    [
      'lists without a merge key are replaced',
      { spec: { tolerations: [{ key: 'z' }] } },
      (r) => expect(r.spec.tolerations).toEqual([{ key: 'z' }]),
    ],
    [
      'finalizers are a merged set',
      { metadata: { finalizers: ['y', 'x'] } },
      (r) => expect(r.metadata.finalizers).toEqual(['x', 'y']),
    ],
    [
      '$deleteFromPrimitiveList',
      { metadata: { '$deleteFromPrimitiveList/finalizers': ['x'] } },
      (r) => expect(r.metadata.finalizers).toEqual([]),
    ],
    [
      'null deletes a map key; $setElementOrder is accepted',
      {
        metadata: { labels: { a: null, b: '2' } },
        spec: { '$setElementOrder/containers': [{ name: 'side' }, { name: 'app' }] },
      },
      (r) => {
        expect(r.metadata.labels).toEqual({ b: '2' });
        expect(r.spec.containers.map((c) => c.name)).toEqual(['app', 'side']);
      },
    ],
    [
      '$patch: replace on a map',
      { metadata: { labels: { $patch: 'replace', only: 'me' } } },
      (r) => expect(r.metadata.labels).toEqual({ only: 'me' }),
    ],
    [
      '$retainKeys keeps only the listed keys',
      { spec: { $retainKeys: ['containers'], containers: [{ name: 'app' }] } },
      (r) => expect(Object.keys(r.spec)).toEqual(['containers']),
    ],
  ])('%s', (_name, patch, check) => {
    check(strategicMergePatch(podSpec, patch) as typeof podSpec);
  });

  it('service ports merge by port', () => {
    const svc = { spec: { ports: [{ port: 80, targetPort: 8080 }] } };
    expect(strategicMergePatch(svc, { spec: { ports: [{ port: 80, name: 'http' }] } })).toEqual({
      spec: { ports: [{ port: 80, targetPort: 8080, name: 'http' }] },
    });
  });

  it('a keyed list item that is not an object is a PatchError', () => {
    expect(() => strategicMergePatch(podSpec, { spec: { containers: ['x'] } })).toThrow(PatchError);
  });
});

describe('JSON patch and dispatch by content type', () => {
  it('applies RFC 6902 operations', () => {
    expect(
      jsonPatch({ a: [1, 2] }, [
        { op: 'add', path: '/a/-', value: 3 },
        { op: 'replace', path: '/a/0', value: 0 },
        { op: 'add', path: '/b', value: { c: 1 } },
        { op: 'remove', path: '/b/c' },
        { op: 'test', path: '/a/1', value: 2 },
      ]),
    ).toEqual({ a: [0, 2, 3], b: {} });
  });

  it.each([
    [{ a: 1 }, { op: 'add', path: '/a' }],
    [{ a: 1 }, [{ op: 'replace', path: '/missing/deep', value: 1 }]],
    [{ a: 1 }, [{ op: 'test', path: '/a', value: 2 }]],
    [{ a: 1 }, [{ op: 'bogus', path: '/a' }]],
  ])('rejects %j + %j', (target, ops) => {
    expect(() => jsonPatch(target, ops)).toThrow(PatchError);
  });

  it.each([
    ['application/merge-patch+json', { spec: { containers: [{ name: 'x' }] } }, 1],
    ['application/strategic-merge-patch+json', { spec: { containers: [{ name: 'x' }] } }, 3],
    ['application/json-patch+json; charset=utf-8', [{ op: 'remove', path: '/spec/containers/0' }], 1],
  ])('%s', (ct, patch, n) => {
    expect((applyPatch(ct, podSpec, patch) as typeof podSpec).spec.containers).toHaveLength(n);
  });

  it.each([
    ['application/apply-patch+yaml', {}],
    ['text/plain', {}],
    ['application/merge-patch+json', [1]],
  ])('unsupported: %s %j', (ct, patch) => {
    expect(() => applyPatch(ct, podSpec, patch)).toThrow(PatchError);
  });
});
