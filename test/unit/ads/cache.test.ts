import { SnapshotCache, contentVersion, type Snapshot } from '../../../pkg/ads/index.js';
import { setVersion } from '../../../pkg/ads/resources.js';
import { encodeMessage } from '../../../pkg/envoy/index.js';
import { CDS, EDS, LDS, RDS, baseSnapshot, cluster, route } from '../../support/ads-resources.js';

describe('SnapshotCache', () => {
  it('encodes each resource once: unchanged content keeps the very same Buffer across sets', () => {
    const cache = new SnapshotCache();
    const a = cache.setSnapshot('n1', baseSnapshot()).snapshot;
    const b = cache.setSnapshot(
      'n1',
      baseSnapshot({ [CDS]: [cluster('c1', 8081), cluster('c2', 9999)] }),
    ).snapshot;
    const ca = a.types.get(CDS)!.resources;
    const cb = b.types.get(CDS)!.resources;
    expect(cb.get('c1')).toBe(ca.get('c1'));
    expect(cb.get('c1')!.sotwChunk).toBe(ca.get('c1')!.sotwChunk);
    expect(cb.get('c2')).not.toBe(ca.get('c2'));
    expect(b.types.get(LDS)).toBe(a.types.get(LDS)); // untouched type: same object
  });

  it('versions are content hashes: independent of order and of the node, changed by content', () => {
    const cache = new SnapshotCache();
    const x = cache.setSnapshot('x', { [CDS]: [cluster('a'), cluster('b')] }).snapshot;
    const y = cache.setSnapshot('y', { [CDS]: [cluster('b'), cluster('a')] }).snapshot;
    expect(y.types.get(CDS)!.version).toBe(x.types.get(CDS)!.version);
    expect(y.version).toBe(x.version);
    const z = cache.setSnapshot('z', { [CDS]: [cluster('a'), cluster('b', 1)] }).snapshot;
    expect(z.types.get(CDS)!.version).not.toBe(x.types.get(CDS)!.version);
    expect(z.types.get(CDS)!.resources.get('a')!.version).toBe(x.types.get(CDS)!.resources.get('a')!.version);
  });

  it('accepts pre-encoded bytes, equal to the plain-object form', () => {
    const cache = new SnapshotCache();
    const obj = cluster('c1');
    const bytes = encodeMessage(CDS, obj.resource as Record<string, unknown>);
    const s1 = cache.setSnapshot('a', { [CDS]: [obj] }).snapshot;
    const s2 = cache.setSnapshot('b', { [CDS]: [{ name: 'c1', resource: bytes }] }).snapshot;
    expect(s2.types.get(CDS)!.resources.get('c1')!.version).toBe(
      s1.types.get(CDS)!.resources.get('c1')!.version,
    );
  });

  it('setting identical content reports changed=false and notifies nobody', () => {
    const cache = new SnapshotCache();
    const seen: (Snapshot | undefined)[] = [];
    cache.watch('n1', (s) => seen.push(s));
    expect(cache.setSnapshot('n1', baseSnapshot()).changed).toBe(true);
    expect(cache.setSnapshot('n1', baseSnapshot()).changed).toBe(false);
    expect(seen).toHaveLength(1);
  });

  it('notifies only the watchers of the node that changed; unwatch stops notifications', () => {
    const cache = new SnapshotCache();
    const got: string[] = [];
    const un1 = cache.watch('n1', () => got.push('n1'));
    cache.watch('n2', () => got.push('n2'));
    cache.setSnapshot('n1', baseSnapshot());
    cache.setSnapshot('n3', baseSnapshot());
    un1();
    cache.setSnapshot('n1', baseSnapshot({ [EDS]: [] }));
    expect(got).toEqual(['n1']);
    expect(cache.watcherCount('n1')).toBe(0);
    expect(cache.watcherCount('n2')).toBe(1);
  });

  it('clearSnapshot forgets the node and tells its watchers', () => {
    const cache = new SnapshotCache();
    const seen: (Snapshot | undefined)[] = [];
    cache.setSnapshot('n1', baseSnapshot());
    cache.watch('n1', (s) => seen.push(s));
    expect(cache.clearSnapshot('n1')).toBe(true);
    expect(cache.clearSnapshot('n1')).toBe(false);
    expect(cache.getSnapshot('n1')).toBeUndefined();
    expect(seen).toEqual([undefined]);
    expect(cache.size).toBe(0);
  });

  it('a type left out or empty means no resources of it', () => {
    const cache = new SnapshotCache();
    const s = cache.setSnapshot('n1', { [CDS]: [cluster('c1')], [RDS]: [] }).snapshot;
    expect([...s.types.keys()]).toEqual([CDS]);
  });

  it.each([
    ['', { [CDS]: [] }, /node id must be a non-empty string/],
    [
      'n1',
      { 'type.googleapis.com/nope.Nope': [] },
      /type URL "type.googleapis.com\/nope.Nope" is not a known/,
    ],
    ['n1', { 'envoy.config.cluster.v3.Cluster': [] }, /is not a known type.googleapis.com/],
    [
      'n1',
      { [CDS]: [{ name: '', resource: {} }] },
      /node "n1" envoy.config.cluster.v3.Cluster\[0\].name: must be a non-empty string/,
    ],
    ['n1', { [CDS]: [cluster('a'), cluster('a')] }, /Cluster\[1\].name: duplicate resource name "a"/],
    [
      'n1',
      { [CDS]: [{ name: 'a', resource: { name: 'a', typo: 1 } }] },
      /node "n1" envoy.config.cluster.v3.Cluster\[0\] \("a"\): Cluster.typo: no such field/,
    ],
    [
      'n1',
      { [RDS]: [route('r', 'c'), { name: 'bad', resource: { virtual_hosts: 'x' } }] },
      /RouteConfiguration\[1\] \("bad"\): RouteConfiguration.virtual_hosts: expected an array/,
    ],
  ])('rejects bad input for node %j, naming what is wrong', (node, input, re) => {
    const cache = new SnapshotCache();
    cache.setSnapshot('n1', baseSnapshot());
    const before = cache.getSnapshot('n1');
    expect(() => cache.setSnapshot(node, input as any)).toThrow(re);
    expect(cache.getSnapshot('n1')).toBe(before); // previous snapshot untouched
  });

  it('contentVersion / setVersion are stable hashes', () => {
    expect(contentVersion(Buffer.from('abc'))).toBe(contentVersion(Buffer.from('abc')));
    expect(contentVersion(Buffer.from('abc'))).not.toBe(contentVersion(Buffer.from('abd')));
    expect(
      setVersion([
        { name: 'a', version: '1' },
        { name: 'b', version: '2' },
      ]),
    ).toBe(
      setVersion([
        { name: 'b', version: '2' },
        { name: 'a', version: '1' },
      ]),
    );
    expect(setVersion([{ name: 'a', version: '1' }])).not.toBe(setVersion([{ name: 'a', version: '2' }]));
  });
});
