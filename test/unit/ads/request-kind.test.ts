/** classifyRequest: one table for SotW and Delta (pkg/ads/request-kind.ts). */
import { classifyRequest, type RequestKind } from '../../../pkg/ads/request-kind.js';

describe('classifyRequest', () => {
  it.each<[string, boolean, string, string | undefined, boolean, RequestKind]>([
    ['first request of a type, no nonce', true, '', undefined, false, 'new'],
    ['first request of a type carrying a nonce of a previous stream', true, '7', undefined, false, 'new'],
    ['first request of a type carrying a nonce and an error', true, '7', undefined, true, 'new'],
    ['later request without a nonce (a new subscription)', false, '', '3', false, 'new'],
    ['later request without a nonce but with an error', false, '', '3', true, 'new'],
    ['answers the latest nonce', false, '3', '3', false, 'ack'],
    ['answers the latest nonce with error_detail', false, '3', '3', true, 'nack'],
    ['answers an older nonce', false, '2', '3', false, 'stale'],
    ['answers an older nonce with error_detail', false, '2', '3', true, 'stale'],
    ['answers a nonce before any response of the type was sent', false, '1', undefined, false, 'stale'],
  ])('%s', (_case, first, nonce, latest, hasError, want) => {
    expect(classifyRequest(first, nonce, latest, hasError)).toBe(want);
  });
});
