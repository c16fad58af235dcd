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
export { SnapshotCache, typeResources } from './cache.js';
export type { Snapshot, SnapshotInput } from './cache.js';
export { DeltaStream } from './delta-stream.js';
export { AdsEngine } from './engine.js';
export { WriteBudget } from './write-budget.js';
export { Lifecycle } from './lifecycle.js';
export type { LifecycleState, LifecycleView } from './lifecycle.js';
export { AdsMetrics } from './metrics.js';
export { contentVersion } from './resources.js';
export type { ResourceInput } from './resources.js';
export type { Scheduler } from './scheduler.js';
export { AdsServer } from './server.js';
export type { StreamAuthorizer, StreamVerdict } from './authorizer.js';
export { DEFAULT_STREAM_LIMITS, streamLimits } from './limits.js';
export type { StreamLimits } from './limits.js';
export { truncateDetail } from './nack-log.js';
export type { TlsMaterial } from './tls-listener.js';
export type { AdsServerOptions } from './server.js';
export { SotwStream } from './sotw-stream.js';
export { AdsStatus } from './transport.js';
export type { AdsStatusCode, AdsTransport, PeerInfo, TransportClose, WriteDone } from './transport.js';
export {
  decodeDeltaDiscoveryRequest,
  decodeDiscoveryRequest,
  encodeDiscoveryResponse,
  lengthDelimited,
  sotwResourceChunk,
  stringField,
} from './wire.js';
export type { DiscoveryRequestMsg } from './wire.js';
