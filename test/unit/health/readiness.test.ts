import { aliveAnswer, readyAnswer, type ReadinessCheck } from '../../../pkg/health/readiness.js';
import type { LifecycleState } from '../../../pkg/ads/index.js';

const ok = (name: string): ReadinessCheck => ({ name, check: () => ({ ok: true }) });
const bad = (name: string, reason: string): ReadinessCheck => ({
  name,
  check: () => ({ ok: false, reason }),
});

describe('aliveAnswer', () => {
  it.each<[LifecycleState, string | undefined, number, string]>([
    ['starting', undefined, 503, 'Service is not alive: ADS server is starting'],
    ['serving', undefined, 200, 'Service is alive'],
    ['draining', undefined, 200, 'Service is alive'],
    ['stopped', undefined, 503, 'Service is not alive: ADS server is stopped'],
    ['serving', 'grpc server crashed', 503, 'Service is not alive: fatal error: grpc server crashed'],
  ])('%s (fatal=%s) → %d', (state, fatal, status, body) => {
    expect(aliveAnswer(state, fatal, 'Service is alive')).toEqual({ status, body });
  });
});

describe('readyAnswer', () => {
  it.each<[string, LifecycleState, string | undefined, ReadinessCheck[], number, string]>([
    [
      'all good',
      'serving',
      undefined,
      [ok('informer pods'), ok('informer namespaces')],
      200,
      'Service is ready',
    ],
    ['no checks', 'serving', undefined, [], 200, 'Service is ready'],
    ['starting', 'starting', undefined, [ok('a')], 503, 'Service is not ready: ADS server is starting'],
    ['draining', 'draining', undefined, [ok('a')], 503, 'Service is not ready: ADS server is draining'],
    [
      'informer not synced',
      'serving',
      undefined,
      [ok('informer namespaces'), bad('informer pods', 'not synced yet')],
      503,
      'Service is not ready: informer pods: not synced yet',
    ],
    [
      'everything wrong, all named',
      'starting',
      'boom',
      [bad('informer pods', 'out of sync for 45s'), bad('informer namespaces', 'not synced yet')],
      503,
      'Service is not ready: fatal error: boom; ADS server is starting; informer pods: out of sync for 45s; informer namespaces: not synced yet',
    ],
  ])('%s', (_n, state, fatal, checks, status, body) => {
    expect(readyAnswer(state, fatal, checks, 'Service is ready')).toEqual({ status, body });
  });
});
