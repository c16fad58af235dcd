/**
 * pkg/ads — the Envoy v3 Aggregated Discovery Service of fsm-controller.
 *
 * Input: the desired resources of each proxy, by node id:
 *   const cache = new SnapshotCache();
 *   cache.setSnapshot(nodeId, { [LISTENER_TYPE_URL]: [{ name, resource }], [CLUSTER_TYPE_URL]: [...], ... });
 *   cache.clearSnapshot(nodeId);
 * `resource` is a plain object of the type (proto field names, see pkg/envoy/protos.ts) or its
 * encoded bytes. Everything is encoded once at set time; versions are content hashes.
 *
 * Output: pushes on the streams of that node only:
 *   const ads = new AdsServer({ cache, logger, registry });
 *   await ads.start({ port: ADS_PORT, host: '0.0.0.0' });   // port 0 in tests
 *   ads.lifecycle.state / ads.lifecycle.onChange(fn)         // starting → serving → draining → stopped
 *   await ads.stop(graceMs);
 */
export * from './cache.js';
export * from './resources.js';
export * from './lifecycle.js';
export * from './metrics.js';
export * from './server.js';
export * from './sotw-stream.js';
export * from './delta-stream.js';
export type { StreamHandle } from './stream.js';
export * from './wire.js';
