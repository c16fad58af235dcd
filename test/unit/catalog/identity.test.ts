import type { V1Pod } from '@kubernetes/client-node';
import { proxyIdentity } from '../../../pkg/catalog/index.js';
import type { PodLike } from '../../../pkg/catalog/pod.js';
import { PROXY_UUID_LABEL } from '../../../pkg/constants/index.js';
import { appPod, fixtureUuid, http, injectedPod } from '../../support/pods.js';

// A client-node V1Pod is a PodLike (compile-time check: typecheck fails otherwise).
const asPodLike = (p: V1Pod): PodLike => p;

describe('proxyIdentity: proxies', () => {
  it.each<[string, PodLike, object]>([
    [
      'injected pod with a service account',
      injectedPod({
        name: 'web-1',
        namespace: 'shop',
        serviceAccount: 'web',
        uid: 'u-1',
        containers: [{ name: 'app' }],
      }),
      {
        uuid: fixtureUuid('shop', 'web-1'),
        namespace: 'shop',
        name: 'web-1',
        serviceAccount: 'web',
        podUid: 'u-1',
      },
    ],
    [
      'no serviceAccountName → default',
      injectedPod({
        name: 'p',
        namespace: 'ns',
        uid: 'u',
        containers: [{ name: 'app', liveness: http(80) }],
      }),
      { uuid: fixtureUuid('ns', 'p'), namespace: 'ns', name: 'p', serviceAccount: 'default', podUid: 'u' },
    ],
    [
      'minimal object with only the label (no spec, no uid)',
      { metadata: { name: 'x', namespace: 'y', labels: { [PROXY_UUID_LABEL]: 'abc' } } },
      { uuid: 'abc', namespace: 'y', name: 'x', serviceAccount: 'default' },
    ],
  ])('%s', (_name, pod, want) => {
    expect(proxyIdentity(pod)).toEqual({ isProxy: true, proxy: want });
  });
});

describe('proxyIdentity: not a proxy (reason names the pod and what is missing)', () => {
  const label = { [PROXY_UUID_LABEL]: 'u' };
  it.each<[string, PodLike, RegExp]>([
    [
      'user pod, never injected',
      asPodLike(appPod({ name: 'a', namespace: 'n', containers: [{ name: 'c' }] })),
      /^pod n\/a: no flomesh.io\/proxy-uuid label$/,
    ],
    [
      'other labels only',
      { metadata: { name: 'a', namespace: 'n', labels: { app: 'x' } } },
      /pod n\/a: no flomesh.io\/proxy-uuid label/,
    ],
    [
      'empty label',
      { metadata: { name: 'a', namespace: 'n', labels: { [PROXY_UUID_LABEL]: '' } } },
      /pod n\/a: label flomesh.io\/proxy-uuid is empty/,
    ],
    [
      'blank label',
      { metadata: { name: 'a', namespace: 'n', labels: { [PROXY_UUID_LABEL]: '  ' } } },
      /is empty/,
    ],
    ['no metadata', {}, /pod <no namespace>\/<no name>: metadata.name is missing/],
    [
      'no name',
      { metadata: { namespace: 'n', labels: label } },
      /pod n\/<no name>: metadata.name is missing/,
    ],
    [
      'no namespace',
      { metadata: { name: 'a', labels: label } },
      /pod <no namespace>\/a: metadata.namespace is missing/,
    ],
    [
      'hostNetwork',
      { metadata: { name: 'a', namespace: 'n', labels: label }, spec: { hostNetwork: true } },
      /spec.hostNetwork is true/,
    ],
  ])('%s', (_name, pod, reason) => {
    const r = proxyIdentity(pod);
    expect(r.isProxy).toBe(false);
    if (!r.isProxy) expect(r.reason).toMatch(reason);
  });
});
