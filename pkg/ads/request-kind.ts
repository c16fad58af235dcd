/**
 * What a discovery request says about the stream's previous response of its type, the same
 * for SotW and Delta (xds_protocol.rst, "ACK/NACK and resource type instance version" and
 * "ACK and NACK semantics summary"):
 * - 'ack'   answers our latest nonce of that type, without error_detail;
 * - 'nack'  answers our latest nonce of that type, with error_detail. error_detail decides, never
 *           a comparison of versions (a NACK carries the version the client keeps running);
 * - 'stale' answers an older nonce (or one we never sent on this stream): neither ACK nor NACK;
 * - 'new'   carries no nonce, or is the type's first request on this stream (a nonce from a
 *           previous stream means nothing here: "the nonce is valid only in the context of an
 *           individual xDS stream").
 * Every kind still updates the subscription.
 */
export type RequestKind = 'new' | 'ack' | 'nack' | 'stale';

export function classifyRequest(
  firstOfType: boolean,
  responseNonce: string,
  latestNonce: string | undefined,
  hasErrorDetail: boolean,
): RequestKind {
  if (firstOfType || responseNonce === '') return 'new';
  if (responseNonce !== latestNonce) return 'stale';
  return hasErrorDetail ? 'nack' : 'ack';
}
