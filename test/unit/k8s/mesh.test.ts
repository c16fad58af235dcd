import { isIgnoredNamespace, meshOfNamespace, meshNamespaceSelector } from '../../../pkg/k8s/mesh.js';
import { isMonitoredNamespace, MeshMembership } from '../../../pkg/k8s/index.js';
import { IGNORE_LABEL, MONITORED_BY_LABEL } from '../../../pkg/constants/index.js';

const ns = (labels?: Record<string, string>) => ({ metadata: { name: 'n', labels } });

describe('mesh membership', () => {
  it.each([
    ['no labels', ns(), 'fsm', false],
    ['monitored by fsm', ns({ [MONITORED_BY_LABEL]: 'fsm' }), 'fsm', true],
    ['monitored by another mesh', ns({ [MONITORED_BY_LABEL]: 'fsm2' }), 'fsm', false],
    ['monitored but ignored', ns({ [MONITORED_BY_LABEL]: 'fsm', [IGNORE_LABEL]: 'true' }), 'fsm', false],
    ['ignored with an empty value', ns({ [MONITORED_BY_LABEL]: 'fsm', [IGNORE_LABEL]: '' }), 'fsm', false],
    ['empty monitored-by value', ns({ [MONITORED_BY_LABEL]: '' }), 'fsm', false],
    ['case matters', ns({ [MONITORED_BY_LABEL]: 'FSM' }), 'fsm', false],
    ['missing namespace', undefined, 'fsm', false],
  ])('%s', (_name, namespace, mesh, expected) => {
    expect(isMonitoredNamespace(namespace, mesh)).toBe(expected);
  });

  it('meshOfNamespace / isIgnoredNamespace / selector', () => {
    expect(meshOfNamespace(ns({ [MONITORED_BY_LABEL]: 'm' }))).toBe('m');
    expect(meshOfNamespace(ns())).toBeUndefined();
    expect(isIgnoredNamespace(ns({ [IGNORE_LABEL]: 'x' }))).toBe(true);
    expect(isIgnoredNamespace(ns())).toBe(false);
    expect(meshNamespaceSelector('fsm')).toBe(`${MONITORED_BY_LABEL}=fsm,!${IGNORE_LABEL}`);
  });

  it('MeshMembership reads through a namespace lookup', () => {
    const cache = new Map([['a', ns({ [MONITORED_BY_LABEL]: 'fsm' })]]);
    const m = new MeshMembership('fsm', (n) => cache.get(n));
    expect(m.has('a')).toBe(true);
    expect(m.has('b')).toBe(false);
    cache.set('a', ns({ [MONITORED_BY_LABEL]: 'fsm', [IGNORE_LABEL]: '1' }));
    expect(m.has('a')).toBe(false);
  });
});
