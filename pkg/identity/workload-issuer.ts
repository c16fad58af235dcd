/**
 * WorkloadRef certificates over SDS. For each proxy whose ADS stream was authorized, the issuer
 * produces two Envoy `Secret` resources — its workload certificate (URI SAN
 * spiffe://<trust-domain>/ns/<ns>/sa/<sa>) and the mesh trust bundle — and hands them to a sink
 * (the controller puts them in that node's ADS snapshot, beside the catalog's listeners and
 * clusters). Issued lazily at the first authorized stream of a node (never for every pod), renewed
 * at 2/3 of its life (± jitter) with no stream restart, re-issued for every node when the signing
 * root changes (`activate`), and the bundle re-sent when it changes (`stage`, `retire`). Released
 * when the node's last stream closes.
 *
 * Key generation and signing run on libuv's thread pool (pkg/tls); at most `maxConcurrent` (8)
 * issuances are in flight, so 10,000 proxies connecting at once queue instead of flooding the pool.
 */
import {
  DEFAULT_WORKLOAD_CERT_VALIDITY_MS,
  SDS_TRUST_BUNDLE_NAME,
  SDS_WORKLOAD_CERT_NAME,
  WORKLOAD_CERT_RENEW_AT,
  WORKLOAD_CERT_RENEW_JITTER,
} from '../constants/index.js';
import { tlsCertificateSecret, validationContextSecret, type SdsSecret } from '../envoy/builders/index.js';
import { errorMessage, type Logger } from '../logger/index.js';
import type { IssuedCertificate, MeshAuthority } from './authority.js';

/** Where a node's SDS resources go (the controller: its ADS snapshot). */
export interface SecretSink {
  set(nodeId: string, secrets: readonly SdsSecret[]): void;
  clear(nodeId: string): void;
}

/** The current authority (undefined while the CA is missing or corrupt) and its changes. */
export interface AuthoritySource {
  readonly authority: MeshAuthority | undefined;
  onChange(listener: (authority: MeshAuthority, previous: MeshAuthority | undefined) => void): () => void;
}

export interface WorkloadIssuerOptions {
  ca: AuthoritySource;
  sink: SecretSink;
  trustDomain: string;
  validityMs?: number;
  logger: Logger;
  maxConcurrent?: number;
  now?: () => number;
  random?: () => number;
  /** Delay before a failed issuance is tried again. */
  retryMs?: number;
}

export interface WorkloadRef {
  namespace: string;
  serviceAccount: string;
}

interface NodeState {
  who: WorkloadRef;
  refs: number;
  cert?: IssuedCertificate & { spiffeId: string };
  /** The authority that signed `cert`. */
  signer?: MeshAuthority;
  bundlePem?: string;
  timer?: NodeJS.Timeout;
  issuing?: Promise<void>;
  issued: number;
}

export class WorkloadCertIssuer {
  private readonly nodes = new Map<string, NodeState>();
  private readonly log: Logger;
  private readonly unwatch: () => void;
  private inFlight = 0;
  private readonly waiting: (() => void)[] = [];
  /** Certificates issued since start (metrics, bench). */
  issuedTotal = 0;

  constructor(private readonly opts: WorkloadIssuerOptions) {
    this.log = opts.logger.child({ component: 'workload-certs' });
    this.unwatch = opts.ca.onChange((a, prev) => this.caChanged(a, prev));
  }

  get validityMs(): number {
    return this.opts.validityMs ?? DEFAULT_WORKLOAD_CERT_VALIDITY_MS;
  }

  /** Nodes holding a certificate (or getting one). */
  get size(): number {
    return this.nodes.size;
  }

  /** The certificate a node currently holds (tests, debug). */
  certificateOf(nodeId: string): (IssuedCertificate & { spiffeId: string }) | undefined {
    return this.nodes.get(nodeId)?.cert;
  }

  /**
   * A stream of `nodeId` was authorized as `who`: make sure the node has a certificate. Returns
   * the release function the stream calls when it closes. The promise settles when the first
   * certificate is in the sink (or issuance failed and a retry is scheduled).
   */
  acquire(nodeId: string, who: WorkloadRef): { ready: Promise<void>; release: () => void } {
    let st = this.nodes.get(nodeId);
    if (st && (st.who.namespace !== who.namespace || st.who.serviceAccount !== who.serviceAccount)) {
      // Same proxy UUID, other workload (only after a pod was replaced): start over.
      this.drop(nodeId, st);
      st = undefined;
    }
    if (!st) {
      st = { who, refs: 0, issued: 0 };
      this.nodes.set(nodeId, st);
    }
    st.refs++;
    const node = st;
    const ready = node.cert ? Promise.resolve() : this.issue(nodeId, node);
    let released = false;
    return {
      ready,
      release: () => {
        if (released) return;
        released = true;
        node.refs--;
        if (node.refs <= 0 && this.nodes.get(nodeId) === node) this.drop(nodeId, node);
      },
    };
  }

  stop(): void {
    this.unwatch();
    for (const [id, st] of this.nodes) this.drop(id, st);
  }

  private drop(nodeId: string, st: NodeState): void {
    if (st.timer) clearTimeout(st.timer);
    st.timer = undefined;
    st.refs = 0;
    this.nodes.delete(nodeId);
    this.opts.sink.clear(nodeId);
  }

  private issue(nodeId: string, st: NodeState): Promise<void> {
    st.issuing ??= this.doIssue(nodeId, st).finally(() => {
      st.issuing = undefined;
    });
    return st.issuing;
  }

  private async slot(): Promise<() => void> {
    const max = this.opts.maxConcurrent ?? 8;
    if (this.inFlight >= max) await new Promise<void>((r) => this.waiting.push(r));
    this.inFlight++;
    return () => {
      this.inFlight--;
      this.waiting.shift()?.();
    };
  }

  private async doIssue(nodeId: string, st: NodeState): Promise<void> {
    const done = await this.slot();
    try {
      if (this.nodes.get(nodeId) !== st) return; // released while queued
      const authority = this.opts.ca.authority;
      if (!authority) throw new Error('the mesh CA is not available');
      const issuedAt = this.now();
      const cert = await authority.workload({
        ...st.who,
        trustDomain: this.opts.trustDomain,
        validityMs: this.validityMs,
      });
      if (this.nodes.get(nodeId) !== st) return;
      st.cert = cert;
      st.signer = authority;
      st.issued++;
      this.issuedTotal++;
      const current = this.opts.ca.authority ?? authority;
      this.publish(nodeId, st, current);
      if (current.material.signingId !== authority.material.signingId) {
        this.setTimer(st, 0, () => void this.issue(nodeId, st)); // the root changed while signing
      } else {
        this.schedule(nodeId, st, issuedAt);
      }
      this.log.debug('workload certificate issued', {
        node: nodeId,
        spiffeId: cert.spiffeId,
        notAfter: new Date(cert.notAfter).toISOString(),
      });
    } catch (e) {
      if (this.nodes.get(nodeId) !== st) return;
      const retry = this.opts.retryMs ?? 5000;
      this.log.warn('cannot issue a workload certificate: retrying', {
        node: nodeId,
        error: errorMessage(e),
        retryMs: retry,
      });
      this.setTimer(st, retry, () => void this.issue(nodeId, st));
    } finally {
      done();
    }
  }

  private publish(nodeId: string, st: NodeState, authority: MeshAuthority): void {
    if (!st.cert) return;
    st.bundlePem = authority.bundlePem;
    this.opts.sink.set(nodeId, [
      tlsCertificateSecret(SDS_WORKLOAD_CERT_NAME, st.cert.certPem, st.cert.keyPem),
      validationContextSecret(SDS_TRUST_BUNDLE_NAME, authority.bundlePem),
    ]);
  }

  /** Renewal at issuedAt + (notAfter − issuedAt) × (2/3 ± jitter). */
  private schedule(nodeId: string, st: NodeState, issuedAt: number): void {
    const life = st.cert!.notAfter - issuedAt;
    const jitter = ((this.opts.random ?? Math.random)() * 2 - 1) * WORKLOAD_CERT_RENEW_JITTER;
    const at = issuedAt + life * (WORKLOAD_CERT_RENEW_AT + jitter);
    this.setTimer(st, Math.max(0, at - this.now()), () => void this.issue(nodeId, st));
  }

  private setTimer(st: NodeState, ms: number, fn: () => void): void {
    if (st.timer) clearTimeout(st.timer);
    // setTimeout's limit is 2^31-1 ms (24.8 days): longer lives are re-armed on the way.
    const MAX = 2 ** 31 - 1;
    st.timer = setTimeout(ms > MAX ? () => this.setTimer(st, ms - MAX, fn) : fn, Math.min(ms, MAX));
    st.timer.unref();
  }

  private caChanged(authority: MeshAuthority, previous: MeshAuthority | undefined): void {
    const resign = previous !== undefined && previous.material.signingId !== authority.material.signingId;
    let n = 0;
    for (const [nodeId, st] of this.nodes) {
      if (!st.cert) continue;
      if (resign || st.signer?.material.signingId !== authority.material.signingId) {
        void this.issue(nodeId, st);
        n++;
      } else if (st.bundlePem !== authority.bundlePem) {
        this.publish(nodeId, st, authority);
        n++;
      }
    }
    if (n > 0)
      this.log.info(
        resign ? 'signing root changed: re-issuing workload certificates' : 'trust bundle changed: pushed',
        { proxies: n },
      );
  }

  private now(): number {
    return (this.opts.now ?? Date.now)();
  }
}
