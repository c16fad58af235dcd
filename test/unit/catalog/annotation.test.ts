/** podOriginalProbes: a pod's record, read with the probe contract's decoder (test/unit/probes/record.test.ts). */
import { podOriginalProbes } from '../../../pkg/catalog/index.js';
import { ORIGINAL_PROBES_ANNOTATION } from '../../../pkg/constants/index.js';
import { http, injectedPod } from '../../support/pods.js';

describe('podOriginalProbes', () => {
  it('podOriginalProbes reads the pod annotation and names the pod', () => {
    const pod = injectedPod({ name: 'p', namespace: 'n', containers: [{ name: 'c', liveness: http(80) }] });
    expect(podOriginalProbes(pod).status).toBe('valid');
    const bad = injectedPod({ name: 'p', namespace: 'n', rawAnnotation: '{', containers: [{ name: 'c' }] });
    const r = podOriginalProbes(bad);
    expect(
      r.status === 'invalid' &&
        r.error.startsWith(`pod n/p: annotation ${ORIGINAL_PROBES_ANNOTATION}: not valid JSON`),
    ).toBe(true);
  });
});
