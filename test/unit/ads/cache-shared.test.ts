/**
 * Resources every node shares (the mesh's Services): encoded once, referenced by every node's
 * snapshot, merged with each node's own resources of the same type; each version of a part links to
 * the one it replaced with the names that changed.
 */
import { SnapshotCache, typeResources } from '../../../pkg/ads/index.js';
import { changedSince, MergedResources } from '../../../pkg/ads/parts.js';
import {
  CLUSTER_LOAD_ASSIGNMENT_TYPE_URL,
  CLUSTER_TYPE_URL,
  LISTENER_TYPE_URL,
  SECRET_TYPE_URL,
} from '../../../pkg/envoy/index.js';
import { probeCluster, probeSnapshotInput } from '../../support/ads-fixtures.js';

const cla = (name: string, ...ports: number[]) => ({
  name,
  resource: {
    cluster_name: name,
    endpoints: ports.length
      ? [
          {
            lb_endpoints: ports.map((p) => ({
              endpoint: { address: { socket_address: { address: '10.0.0.1', port_value: p } } },
            })),
          },
        ]
      : [],
  },
});
const cluster = (name: string, port = 80) => ({ name, resource: probeCluster(name, port) });

describe('updateShared', () => {
  it('every node gets the shared resources; a type only shared is one TypeSnapshot for all nodes', () => {
    const cache = new SnapshotCache();
    cache.setSnapshot('a', probeSnapshotInput());
    cache.setSnapshot('b', probeSnapshotInput({ appPort: 9000 }));
    expect(
      cache.updateShared({
        [CLUSTER_TYPE_URL]: { set: [cluster('ns/svc|80')] },
        [CLUSTER_LOAD_ASSIGNMENT_TYPE_URL]: { set: [cla('ns/svc|80', 8080)] },
      }),
    ).toEqual({ changed: true });
    const [a, b] = [cache.getSnapshot('a')!, cache.getSnapshot('b')!];
    expect(a.types.get(CLUSTER_LOAD_ASSIGNMENT_TYPE_URL)).toBe(b.types.get(CLUSTER_LOAD_ASSIGNMENT_TYPE_URL));
    // Clusters: each node's own plus the shared one, the shared encoding the very same object.
    const ca = typeResources(a, CLUSTER_TYPE_URL);
    const cb = typeResources(b, CLUSTER_TYPE_URL);
    expect(ca).toBeInstanceOf(MergedResources);
    expect([...ca.keys()]).toContain('ns/svc|80');
    expect(ca.size).toBe(probeSnapshotInput()[CLUSTER_TYPE_URL]!.length + 1);
    expect(ca.get('ns/svc|80')).toBe(cb.get('ns/svc|80'));
    expect(a.types.get(CLUSTER_TYPE_URL)!.version).not.toBe(b.types.get(CLUSTER_TYPE_URL)!.version);
    // The same change again changes nothing and publishes nothing.
    const before = cache.getSnapshot('a');
    expect(cache.updateShared({ [CLUSTER_TYPE_URL]: { set: [cluster('ns/svc|80')] } })).toEqual({
      changed: false,
    });
    expect(cache.getSnapshot('a')).toBe(before);
  });

  it('a shared change re-publishes every node (watchers told), leaving their own types untouched', () => {
    const cache = new SnapshotCache();
    cache.setSnapshot('a', probeSnapshotInput());
    const seen: string[] = [];
    cache.watch('a', (s) => seen.push(s!.version));
    const lds = cache.getSnapshot('a')!.types.get(LISTENER_TYPE_URL);
    cache.updateShared({ [CLUSTER_LOAD_ASSIGNMENT_TYPE_URL]: { set: [cla('x|1', 1)] } });
    cache.updateShared({ [CLUSTER_LOAD_ASSIGNMENT_TYPE_URL]: { set: [cla('x|1', 2)] } });
    expect(seen).toHaveLength(2);
    expect(new Set(seen).size).toBe(2);
    expect(cache.getSnapshot('a')!.types.get(LISTENER_TYPE_URL)).toBe(lds);
    // A node that has no own snapshot yet is not published by a shared change.
    cache.watch('nobody', () => seen.push('nobody'));
    cache.updateShared({ [CLUSTER_LOAD_ASSIGNMENT_TYPE_URL]: { set: [cla('x|1', 3)] } });
    expect(seen).not.toContain('nobody');
    expect(cache.getSnapshot('nobody')).toBeUndefined();
  });

  it('removing every shared resource of a type removes the type; removing an unknown name is no change', () => {
    const cache = new SnapshotCache();
    cache.setSnapshot('a', probeSnapshotInput());
    cache.updateShared({ [CLUSTER_LOAD_ASSIGNMENT_TYPE_URL]: { set: [cla('x|1', 1)] } });
    expect(cache.updateShared({ [CLUSTER_LOAD_ASSIGNMENT_TYPE_URL]: { remove: ['nope'] } })).toEqual({
      changed: false,
    });
    expect(cache.updateShared({ [CLUSTER_LOAD_ASSIGNMENT_TYPE_URL]: { remove: ['x|1'] } })).toEqual({
      changed: true,
    });
    expect(cache.getSnapshot('a')!.types.has(CLUSTER_LOAD_ASSIGNMENT_TYPE_URL)).toBe(false);
  });

  it('each version links to the previous with the names that changed', () => {
    const cache = new SnapshotCache();
    cache.setSnapshot('a', probeSnapshotInput());
    cache.updateShared({ [CLUSTER_LOAD_ASSIGNMENT_TYPE_URL]: { set: [cla('x|1', 1), cla('y|1', 1)] } });
    const v1 = cache.getSnapshot('a')!.types.get(CLUSTER_LOAD_ASSIGNMENT_TYPE_URL)!.parts[0]!;
    cache.updateShared({ [CLUSTER_LOAD_ASSIGNMENT_TYPE_URL]: { set: [cla('x|1', 2), cla('y|1', 1)] } });
    cache.updateShared({ [CLUSTER_LOAD_ASSIGNMENT_TYPE_URL]: { set: [cla('z|1')], remove: ['y|1'] } });
    const v3 = cache.getSnapshot('a')!.types.get(CLUSTER_LOAD_ASSIGNMENT_TYPE_URL)!.parts[0]!;
    expect([...changedSince(v3, v1)!].sort()).toEqual(['x|1', 'y|1', 'z|1']);
    expect([...changedSince(v3, v3.previous!)!].sort()).toEqual(['y|1', 'z|1']);
    expect(changedSince(v1, v3)).toBeUndefined(); // not an ancestor: unknown, diff in full
  });

  it('own and shared names never clash; shared types are not a layer’s', () => {
    const cache = new SnapshotCache();
    cache.updateShared({ [CLUSTER_TYPE_URL]: { set: [cluster('ns/svc|80')] } });
    expect(() =>
      cache.setSnapshot('a', { ...probeSnapshotInput(), [CLUSTER_TYPE_URL]: [cluster('ns/svc|80', 1)] }),
    ).toThrow(/Cluster "ns\/svc\|80" is already a shared resource/);
    cache.setSnapshot('a', probeSnapshotInput());
    expect(() => cache.setLayer('a', 'identity', { [CLUSTER_TYPE_URL]: [cluster('c')] })).toThrow(
      /already set by the primary snapshot|shared by every node/,
    );
    cache.setLayer('a', 'identity', {
      [SECRET_TYPE_URL]: [{ name: 's', resource: { name: 's', validation_context: {} } }],
    });
    expect(() =>
      cache.updateShared({ [SECRET_TYPE_URL]: { set: [{ name: 't', resource: { name: 't' } }] } }),
    ).toThrow(/already set by layer identity/);
  });

  it('a bad shared resource names the type and resource and changes nothing', () => {
    const cache = new SnapshotCache();
    cache.setSnapshot('a', probeSnapshotInput());
    const before = cache.getSnapshot('a');
    expect(() =>
      cache.updateShared({
        [CLUSTER_TYPE_URL]: { set: [{ name: 'bad', resource: { name: 'bad', nope: 1 } }] },
      }),
    ).toThrow(/shared envoy.config.cluster.v3.Cluster\[0\] \("bad"\): .*nope: no such field/);
    expect(cache.getSnapshot('a')).toBe(before);
  });
});

describe('interned encodings', () => {
  it('nodes with equal own resources share one encoding of each', () => {
    const cache = new SnapshotCache();
    const a = cache.setSnapshot('a', probeSnapshotInput()).snapshot;
    const b = cache.setSnapshot('b', probeSnapshotInput()).snapshot;
    const [ra, rb] = [typeResources(a, LISTENER_TYPE_URL), typeResources(b, LISTENER_TYPE_URL)];
    expect(ra.size).toBeGreaterThan(0);
    for (const [n, r] of ra) expect(rb.get(n)).toBe(r);
  });
});
