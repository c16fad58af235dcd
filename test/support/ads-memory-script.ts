/**
 * Protocol rules as table rows: each row is a script of steps run against the in-memory engine
 * (ads-memory.ts). `expect` compares every response written since the previous `expect` with a
 * list of one-line summaries, after running the engine until it is idle, so "nothing was sent" is
 * simply `{ expect: [] }`: no barrier, no metric polling, no timing.
 *
 * Summaries: the short type name, then the resource names sorted (SotW: `CDS c1,c2`; a response
 * with no resources: `CDS`), and for Delta the removed names prefixed with `-` (`LDS -l1`,
 * `CDS c9 -c1`).
 */
import assert from 'node:assert/strict';
import type { DeltaStream, SnapshotInput, SotwStream } from '../../pkg/ads/index.js';
import type { AdsStatusCode } from '../../pkg/ads/index.js';
import { shortTypeName, type PlainMessage } from '../../pkg/envoy/index.js';
import type { DeltaResponse, SotwResponse } from './ads-client.js';
import { MemoryAds, type MemoryAdsOptions, type MemoryStream } from './ads-memory.js';

export type Protocol = 'sotw' | 'delta';
type AnyResponse = SotwResponse | DeltaResponse;
type AnyStream = MemoryStream<AnyResponse, SotwStream | DeltaStream>;

/** What `send` functions and `check` steps can look at. */
export interface ScriptContext {
  readonly h: MemoryAds;
  /** A stream as its proxy sees it (default: the row's first stream, 'a'). */
  client(on?: string): AnyStream;
  /** The engine's side of a stream. */
  server<S = SotwStream & DeltaStream>(on?: string): S;
  /** The latest response of a type (short name, e.g. 'CDS') on a stream. */
  last<R = SotwResponse & DeltaResponse>(type: string, on?: string): R;
  /** Every response seen on a stream so far, oldest first. */
  seen(on?: string): AnyResponse[];
}

export type Step =
  /** cache.setSnapshot(node ?? 'n1', input) */
  | { set: SnapshotInput; node?: string }
  /** cache.clearSnapshot(node) */
  | { clear: string }
  /** Opens another stream named `open` (same protocol as the row unless given). */
  | { open: string; protocol?: Protocol }
  /** A raw request (proto field names), or one built from what was seen. */
  | { send: PlainMessage | ((ctx: ScriptContext) => PlainMessage); on?: string }
  /** ACKs the latest response of `ack` (short type name); SotW resource_names = names ?? []. */
  | { ack: string; names?: string[]; on?: string }
  /**
   * NACKs the latest response of `nack` with error_detail; SotW carries the version the client
   * still runs (its latest ACKed one of the type, '' if none) and resource_names = names ?? [].
   */
  | { nack: string; message: string; names?: string[]; on?: string }
  /** The responses written since the previous `expect` on that stream, as summaries. */
  | { expect: string[]; on?: string }
  /** The stream's final status (runs the engine first); `undefined` code: still open. */
  | { status: AdsStatusCode | undefined; details?: RegExp; on?: string }
  /** The proxy half-closes or cancels its stream. */
  | { peer: 'half-close' | 'cancel' | 'pause' | 'resume'; on?: string }
  /** Advances the manual clock (timers fire). */
  | { advance: number }
  /** Any other assertion. */
  | { check: (ctx: ScriptContext) => void | Promise<void> };

export interface Row {
  rule: string;
  options?: MemoryAdsOptions;
  steps: Step[];
}

function isSotw(r: AnyResponse): r is SotwResponse {
  return !('removed_resources' in r);
}

/** One-line summary of a response (see the header). */
export function summary(r: AnyResponse): string {
  const parts = [shortTypeName(r.type_url)];
  const names = [...r.names].sort();
  const removed = isSotw(r) ? [] : [...r.removed_resources].sort().map((n) => `-${n}`);
  if (names.length > 0) parts.push(names.join(','));
  if (removed.length > 0) parts.push(removed.join(','));
  return parts.join(' ');
}

interface StreamEntry {
  protocol: Protocol;
  s: AnyStream;
  /** Every response taken from the stream, oldest first. */
  seen: AnyResponse[];
  /** How many of `seen` an `expect` step already covered. */
  expected: number;
}

class Script implements ScriptContext {
  readonly h: MemoryAds;
  private readonly streams = new Map<string, StreamEntry>();
  /** Latest ACKed version per stream and type, for SotW NACKs. */
  private readonly acked = new Map<string, string>();

  constructor(
    private readonly protocol: Protocol,
    options: MemoryAdsOptions | undefined,
  ) {
    this.h = new MemoryAds(options);
    this.open('a', protocol);
  }

  private open(name: string, protocol: Protocol): void {
    const s = (protocol === 'sotw' ? this.h.sotw() : this.h.delta()) as AnyStream;
    this.streams.set(name, { protocol, s, seen: [], expected: 0 });
  }

  private entry(on = 'a'): StreamEntry {
    const e = this.streams.get(on);
    if (!e) throw new Error(`script: no stream named ${on}`);
    return e;
  }

  client(on?: string): AnyStream {
    return this.entry(on).s;
  }

  server<S>(on?: string): S {
    const s = this.entry(on).s.server;
    if (!s) throw new Error(`script: the engine refused stream ${on ?? 'a'}`);
    return s as S;
  }

  /** Runs the engine and takes what was written into `seen`. */
  private collect(on?: string): StreamEntry {
    const e = this.entry(on);
    e.seen.push(...e.s.takeAll());
    return e;
  }

  seen(on?: string): AnyResponse[] {
    return this.collect(on).seen;
  }

  last<R>(type: string, on?: string): R {
    const seen = this.seen(on);
    for (let i = seen.length - 1; i >= 0; i--) {
      if (shortTypeName(seen[i]!.type_url) === type) return seen[i] as R;
    }
    throw new Error(`script: no ${type} response seen on ${on ?? 'a'}`);
  }

  async step(step: Step): Promise<void> {
    if ('set' in step) {
      this.h.cache.setSnapshot(step.node ?? 'n1', step.set);
    } else if ('clear' in step) {
      this.h.cache.clearSnapshot(step.clear);
    } else if ('open' in step) {
      this.open(step.open, step.protocol ?? this.protocol);
    } else if ('send' in step) {
      this.client(step.on).send(typeof step.send === 'function' ? step.send(this) : step.send);
    } else if ('ack' in step) {
      this.client(step.on).send(this.ackOf(step.ack, step.names, step.on));
    } else if ('nack' in step) {
      this.client(step.on).send(this.nackOf(step.nack, step.message, step.names, step.on));
    } else if ('expect' in step) {
      const e = this.collect(step.on);
      const fresh = e.seen.slice(e.expected);
      e.expected = e.seen.length;
      assert.deepEqual(fresh.map(summary), step.expect);
    } else if ('status' in step) {
      this.collect(step.on);
      const st = this.client(step.on).status();
      assert.equal(st?.code, step.status, `status ${JSON.stringify(st)}, expected code ${step.status}`);
      if (step.details) assert.match(st?.details ?? '', step.details);
    } else if ('peer' in step) {
      const t = this.client(step.on).transport;
      if (step.peer === 'half-close') t.halfClose();
      else if (step.peer === 'cancel') t.cancel();
      else if (step.peer === 'pause') t.pause();
      else t.resume();
    } else if ('advance' in step) {
      this.h.scheduler.advance(step.advance);
    } else {
      this.h.run();
      await step.check(this);
    }
  }

  private ackOf(type: string, names: string[] | undefined, on?: string): PlainMessage {
    const r = this.last<AnyResponse>(type, on);
    if (this.entry(on).protocol === 'delta') return { type_url: r.type_url, response_nonce: r.nonce };
    const version = (r as SotwResponse).version_info;
    this.acked.set(`${on ?? 'a'}|${type}`, version);
    return {
      type_url: r.type_url,
      version_info: version,
      response_nonce: r.nonce,
      resource_names: names ?? [],
    };
  }

  private nackOf(type: string, message: string, names: string[] | undefined, on?: string): PlainMessage {
    const r = this.last<AnyResponse>(type, on);
    const error_detail = { code: 3, message };
    if (this.entry(on).protocol === 'delta')
      return { type_url: r.type_url, response_nonce: r.nonce, error_detail };
    return {
      type_url: r.type_url,
      version_info: this.acked.get(`${on ?? 'a'}|${type}`) ?? '',
      response_nonce: r.nonce,
      resource_names: names ?? [],
      error_detail,
    };
  }
}

/** Runs one row. */
export async function runRow(protocol: Protocol, row: Row): Promise<MemoryAds> {
  const script = new Script(protocol, row.options);
  for (const [i, step] of row.steps.entries()) {
    try {
      await script.step(step);
    } catch (err) {
      if (err instanceof Error)
        err.message = `step ${i} ${JSON.stringify(Object.keys(step))}: ${err.message}`;
      throw err;
    }
  }
  return script.h;
}
