import { Store, type KubeObject } from '../../../../pkg/sandbox/apiserver/store.js';

const obj = (name: string, namespace?: string, extra: Record<string, unknown> = {}): KubeObject =>
  ({ metadata: { name, ...(namespace ? { namespace } : {}) }, ...extra }) as KubeObject;

describe('Store', () => {
  it('assigns increasing resourceVersions and keeps objects immutable', () => {
    const s = new Store();
    const a = s.put('pods', obj('a', 'n'));
    const b = s.put('pods', obj('a', 'n', { x: 1 }));
    expect(Number(b.metadata.resourceVersion)).toBe(Number(a.metadata.resourceVersion) + 1);
    expect(a['x']).toBeUndefined();
    expect(s.get('pods', 'n', 'a')).toBe(b);
  });

  it('scans in key order with namespace, filter, limit and continuation', () => {
    const s = new Store();
    for (const [ns, n] of [
      ['b', 'x'],
      ['a', 'z'],
      ['a', 'y'],
      ['c', 'w'],
      ['a', 'x'],
    ] as const)
      s.put('pods', obj(n, ns));
    expect(s.list('pods').map((o) => `${o.metadata.namespace}/${o.metadata.name}`)).toEqual([
      'a/x',
      'a/y',
      'a/z',
      'b/x',
      'c/w',
    ]);
    expect(s.list('pods', 'a').map((o) => o.metadata.name)).toEqual(['x', 'y', 'z']);
    const p1 = s.scan('pods', { namespace: 'a', limit: 2 });
    expect(p1.items.map((o) => o.metadata.name)).toEqual(['x', 'y']);
    expect(p1.remaining).toBe(1);
    const p2 = s.scan('pods', { namespace: 'a', limit: 2, after: p1.next });
    expect(p2.items.map((o) => o.metadata.name)).toEqual(['z']);
    expect(p2.next).toBeUndefined();
    expect(s.scan('pods', { filter: (o) => o.metadata.name === 'x' }).items).toHaveLength(2);
    expect(s.list('nothing')).toEqual([]);
  });

  it('replays history after a version, then streams live; unsubscribe stops it', () => {
    const s = new Store();
    s.put('pods', obj('a', 'n'));
    const from = s.resourceVersion;
    s.put('pods', obj('b', 'n'));
    s.delete('pods', 'n', 'a');
    const seen: string[] = [];
    const off = s.watch('pods', from, (e) => seen.push(`${e.type} ${e.object.metadata.name}`));
    s.put('pods', obj('c', 'n'));
    s.put('services', obj('svc', 'n'));
    off();
    s.put('pods', obj('d', 'n'));
    expect(seen).toEqual(['ADDED b', 'DELETED a', 'ADDED c']);
  });

  it('compaction makes older resumes 410; maxHistory compacts automatically', () => {
    const s = new Store({ maxHistory: 2 });
    const start = s.resourceVersion;
    s.put('pods', obj('a', 'n'));
    s.put('pods', obj('b', 'n'));
    s.put('pods', obj('c', 'n'));
    expect(() => s.watch('pods', start, () => undefined)).toThrow(/too old resource version/);
    const ok = s.watch('pods', s.oldestResumable('pods'), () => undefined);
    ok();
    const rv = s.compact();
    expect(() => s.watch('pods', rv - 1, () => undefined)).toThrow(expect.objectContaining({ code: 410 }));
    expect(() => s.watch('events', rv - 1, () => undefined)).toThrow(/too old/);
    s.watch('pods', rv, () => undefined)();
  });

  it('delete reports the last state with a new version, and shapes it with finalize', () => {
    const s = new Store();
    s.put('pods', obj('a', 'n'));
    const last = s.delete(
      'pods',
      'n',
      'a',
      (o) => ({ ...o, metadata: { ...o.metadata, deletionTimestamp: 't' } }) as KubeObject,
    );
    expect(last?.metadata['deletionTimestamp']).toBe('t');
    expect(last?.metadata.resourceVersion).toBe(String(s.resourceVersion));
    expect(s.delete('pods', 'n', 'a')).toBeUndefined();
  });
});
