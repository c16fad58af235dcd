/**
 * Bounds of what one ADS stream may make the controller keep: subscribed names per type (one
 * request's list, or Delta's running set plus initial_resource_versions), names over all types,
 * and type URLs (unknown ones count: each keeps state). A request over a bound ends the stream with
 * RESOURCE_EXHAUSTED naming the bound, before the request is applied.
 */
import {
  DEFAULT_ADS_MAX_NAMES_PER_STREAM,
  DEFAULT_ADS_MAX_NAMES_PER_SUBSCRIPTION,
  DEFAULT_ADS_MAX_TYPES_PER_STREAM,
} from '../constants/index.js';

export interface StreamLimits {
  readonly maxNamesPerSubscription: number;
  readonly maxNamesPerStream: number;
  readonly maxTypesPerStream: number;
}

export const DEFAULT_STREAM_LIMITS: StreamLimits = {
  maxNamesPerSubscription: DEFAULT_ADS_MAX_NAMES_PER_SUBSCRIPTION,
  maxNamesPerStream: DEFAULT_ADS_MAX_NAMES_PER_STREAM,
  maxTypesPerStream: DEFAULT_ADS_MAX_TYPES_PER_STREAM,
};

/** The limits with overrides, each checked to be a positive integer (naming the field otherwise). */
export function streamLimits(overrides: Partial<StreamLimits> = {}): StreamLimits {
  const out = { ...DEFAULT_STREAM_LIMITS, ...overrides };
  for (const [k, v] of Object.entries(out)) {
    if (!Number.isInteger(v) || v < 1)
      throw new Error(`ADS limit ${k}: expected a positive integer, got ${String(v)}`);
  }
  return out;
}
