/**
 * Snapshot layers: SDS secrets (mesh identity) beside the catalog's listeners and clusters, neither
 * overwriting the other; a layer alone never publishes (a stream would push an empty config).
 */
import { SnapshotCache } from '../../../pkg/ads/index.js';
import { LISTENER_TYPE_URL, SECRET_TYPE_URL } from '../../../pkg/envoy/index.js';
import { probeSnapshotInput } from '../../support/ads-fixtures.js';

const secret = (v: string) => ({
  [SECRET_TYPE_URL]: [
    {
      name: 'fsm-trust-bundle',
      resource: { name: 'fsm-trust-bundle', validation_context: { trusted_ca: { inline_string: v } } },
    },
  ],
});

it('a layer alone publishes nothing; with the primary both are served; each changes alone', () => {
  const cache = new SnapshotCache();
  const seen: (string | undefined)[] = [];
  cache.watch('n', (s) => seen.push(s?.version));
  expect(cache.setLayer('n', 'identity', secret('a'))).toEqual({ changed: false });
  expect(cache.getSnapshot('n')).toBeUndefined();
  const first = cache.setSnapshot('n', probeSnapshotInput());
  expect([...first.snapshot.types.keys()].sort()).toEqual(
    [...Object.keys(probeSnapshotInput()), SECRET_TYPE_URL].sort(),
  );
  const lds = first.snapshot.types.get(LISTENER_TYPE_URL);
  expect(cache.setLayer('n', 'identity', secret('b')).changed).toBe(true);
  const second = cache.getSnapshot('n')!;
  expect(second.types.get(LISTENER_TYPE_URL)).toBe(lds); // the catalog's part untouched
  expect(second.types.get(SECRET_TYPE_URL)).not.toBe(first.snapshot.types.get(SECRET_TYPE_URL));
  expect(cache.setLayer('n', 'identity', secret('b')).changed).toBe(false);
  const again = cache.setSnapshot('n', probeSnapshotInput());
  expect(again.changed).toBe(false);
  expect(again.snapshot.types.get(SECRET_TYPE_URL)).toBe(second.types.get(SECRET_TYPE_URL)); // secrets kept
  expect(cache.clearLayer('n', 'identity')).toBe(true);
  expect(cache.getSnapshot('n')!.types.has(SECRET_TYPE_URL)).toBe(false);
  cache.clearSnapshot('n');
  expect(cache.getSnapshot('n')).toBeUndefined();
  expect(seen).toHaveLength(4); // set, secret b, layer cleared, cleared
  expect(seen.at(-1)).toBeUndefined();
});

it('a type belongs to one layer: setting it in another is refused naming both', () => {
  const cache = new SnapshotCache();
  cache.setSnapshot('n', probeSnapshotInput());
  expect(() => cache.setLayer('n', 'identity', { [LISTENER_TYPE_URL]: [] as never[] })).not.toThrow(); // empty: no type
  cache.setLayer('n', 'identity', secret('a'));
  expect(() => cache.setSnapshot('n', { ...probeSnapshotInput(), ...secret('x') })).toThrow(
    /type .*Secret is already set by layer identity/,
  );
  expect(() => cache.setLayer('n', 'other', secret('x'))).toThrow(/already set by layer identity/);
});
