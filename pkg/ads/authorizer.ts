/**
 * Who may open an ADS stream and read which node's configuration. pkg/ads knows no Kubernetes
 * and no certificates: the controller implements this interface (mesh identity, pkg/identity) and
 * the engine asks it twice, before any configuration byte is written:
 * - admit(peer) when a stream opens: a peer that cannot be authenticated at all (no client
 *   certificate) is refused at once, before it can send a request;
 * - authorize(peer, node) on the stream's first request: the stream is bound to the identity the
 *   peer proved, and may only ever read the node it is (node.id must be that identity's).
 * A refusal ends the stream with its status and reason (UNAUTHENTICATED, PERMISSION_DENIED,
 * UNAVAILABLE); the engine logs it with what the peer presented.
 */
import type { AdsStatusCode, PeerInfo } from './transport.js';
import type { NodeInfo } from './wire.js';

export type StreamVerdict =
  | {
      ok: true;
      /** Who the stream is, for logs (e.g. `bookstore/bookbuyer-1`). */
      identity: string;
      /** Called once when the stream ends (e.g. to release the node's workload certificate). */
      release?: () => void;
    }
  | {
      ok: false;
      code: AdsStatusCode;
      reason: string;
      /** What the peer presented, for the log line (e.g. a certificate's CN). */
      presented?: string;
    };

export interface StreamAuthorizer {
  /** At stream open: refuse what can never be authorized (no client certificate). */
  admit(peer: PeerInfo): StreamVerdict;
  /** At the first request: bind the stream to the peer's identity and this node, or refuse. */
  authorize(peer: PeerInfo, node: NodeInfo): StreamVerdict;
}
