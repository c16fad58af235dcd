/**
 * NACK logging that a client cannot turn into a log flood: per stream, at most `burst` NACK lines
 * per `windowMs` (the rest are counted and reported with the next line that is written), and
 * error_detail cut to `maxDetailBytes` (the line says how much was cut). The metric still counts
 * every NACK.
 */
import { ADS_NACK_DETAIL_MAX_BYTES, ADS_NACK_LOG_BURST, ADS_NACK_LOG_WINDOW_MS } from '../constants/index.js';

export interface NackLogPolicy {
  readonly burst: number;
  readonly windowMs: number;
  readonly maxDetailBytes: number;
}

export const DEFAULT_NACK_LOG_POLICY: NackLogPolicy = {
  burst: ADS_NACK_LOG_BURST,
  windowMs: ADS_NACK_LOG_WINDOW_MS,
  maxDetailBytes: ADS_NACK_DETAIL_MAX_BYTES,
};

/** `text` cut to at most `max` UTF-8 bytes (never inside a character), with what was cut. */
export function truncateDetail(text: string, max: number): { text: string; cutBytes: number } {
  const bytes = Buffer.byteLength(text);
  if (bytes <= max) return { text, cutBytes: 0 };
  let end = Math.min(text.length, max);
  while (end > 0 && Buffer.byteLength(text.slice(0, end)) > max) end--;
  // Do not split a surrogate pair.
  if (end > 0 && /[\uD800-\uDBFF]/.test(text[end - 1]!)) end--;
  const kept = text.slice(0, end);
  return { text: kept, cutBytes: bytes - Buffer.byteLength(kept) };
}

export class NackLogLimiter {
  private windowStart = -Infinity;
  private inWindow = 0;
  private suppressed = 0;

  constructor(
    private readonly policy: NackLogPolicy,
    private readonly now: () => number,
  ) {}

  /** Whether to write this NACK's line, and how many were suppressed since the last one written. */
  admit(): { log: boolean; suppressed: number } {
    const t = this.now();
    if (t - this.windowStart >= this.policy.windowMs) {
      this.windowStart = t;
      this.inWindow = 0;
    }
    if (this.inWindow >= this.policy.burst) {
      this.suppressed++;
      return { log: false, suppressed: 0 };
    }
    this.inWindow++;
    const suppressed = this.suppressed;
    this.suppressed = 0;
    return { log: true, suppressed };
  }
}
