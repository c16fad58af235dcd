/** Seed constants of the Aggregated Discovery Service (pkg/ads). */

/** gRPC method paths of envoy.service.discovery.v3.AggregatedDiscoveryService. */
export const ADS_SERVICE_NAME = 'envoy.service.discovery.v3.AggregatedDiscoveryService';
export const ADS_SOTW_METHOD_PATH = `/${ADS_SERVICE_NAME}/StreamAggregatedResources`;
export const ADS_DELTA_METHOD_PATH = `/${ADS_SERVICE_NAME}/DeltaAggregatedResources`;

/** How long a stream whose node id has no snapshot yet waits for one before it is closed. */
export const DEFAULT_ADS_UNKNOWN_NODE_WAIT_MS = 60_000;
/** Grace period of draining: open streams are closed after it. */
export const DEFAULT_ADS_DRAIN_GRACE_MS = 3_000;
/** Identifies fsm in DiscoveryResponse.control_plane.identifier. */
export const ADS_CONTROL_PLANE_IDENTIFIER = 'fsm-controller';
/** Subscription name meaning "every resource of this type". */
export const XDS_WILDCARD = '*';
/**
 * How a proxy (the sandbox's probe agent) reconnects to ADS: ceilings from 250 ms doubling to 10 s,
 * each delay uniform in [ceiling/2, ceiling] so agents that lost the same controller spread out.
 */
export const ADS_RECONNECT_BACKOFF = {
  initialMs: 250,
  maxMs: 10_000,
  multiplier: 2,
  jitter: 0.5,
  jitterMode: 'below',
} as const;
