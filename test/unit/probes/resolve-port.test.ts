/** resolveProbePort: a probe's port resolved against its container, as kubelet does. */
import type { V1Container } from '@kubernetes/client-node';
import { resolveProbePort } from '../../../pkg/probes/index.js';

describe('resolveProbePort', () => {
  const c: V1Container = {
    name: 'app',
    ports: [
      { name: 'http', containerPort: 8080 },
      { name: 'zero', containerPort: 0 },
      { containerPort: 9090 },
    ],
  };
  it.each<[unknown, number | undefined]>([
    [8080, 8080],
    [1, 1],
    [65535, 65535],
    [0, undefined],
    [65536, undefined],
    [-1, undefined],
    [80.5, undefined],
    ['http', 8080],
    ['zero', undefined],
    ['missing', undefined],
    ['9090', 9090],
    ['0', undefined],
    ['', undefined],
    [null, undefined],
    [true, undefined],
  ])('%p → %p', (port, expected) => {
    expect(resolveProbePort(port, c)).toBe(expected);
  });
  it('finds nothing by name in a container without ports', () => {
    expect(resolveProbePort('http', { name: 'x' })).toBeUndefined();
  });
});
