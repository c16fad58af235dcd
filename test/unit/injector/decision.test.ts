import type { V1Namespace } from '@kubernetes/client-node';
import { decideInjection, parseSwitch } from '../../../pkg/injector/index.js';
import { namespace, pod } from '../../support/injector.js';

describe('parseSwitch', () => {
  it.each<[string, boolean | undefined]>([
    ['enabled', true],
    ['yes', true],
    ['true', true],
    ['Enabled', true],
    ['YES', true],
    [' True ', true],
    ['disabled', false],
    ['no', false],
    ['false', false],
    ['DISABLED', false],
    ['No', false],
    ['', undefined],
    ['on', undefined],
    ['1', undefined],
    ['enable', undefined],
  ])('%p → %p', (v, expected) => expect(parseSwitch(v)).toBe(expected));
});

interface Case {
  name: string;
  podNs?: string;
  ns?: V1Namespace;
  podAnnotation?: string;
  hostNetwork?: boolean;
  action: 'inject' | 'skip' | 'deny';
  reason: RegExp;
}

const monitored = namespace('app', { mesh: 'fsm' });

const cases: Case[] = [
  {
    name: 'monitored namespace, no annotation',
    ns: monitored,
    action: 'inject',
    reason: /monitored by mesh fsm/,
  },
  ...['enabled', 'yes', 'true', 'ENABLED', 'Yes'].map((v): Case => ({
    name: `pod annotation ${v}`,
    ns: monitored,
    podAnnotation: v,
    action: 'inject',
    reason: new RegExp(`pod annotation flomesh.io/sidecar-injection=${v}`),
  })),
  ...['disabled', 'no', 'false', 'False', 'NO'].map((v): Case => ({
    name: `pod annotation ${v}`,
    ns: monitored,
    podAnnotation: v,
    action: 'skip',
    reason: /pod annotation/,
  })),
  ...['maybe', '', 'enable', '0'].map((v): Case => ({
    name: `invalid pod annotation ${JSON.stringify(v)}`,
    ns: monitored,
    podAnnotation: v,
    action: 'deny',
    reason: new RegExp(`pod annotation flomesh.io/sidecar-injection=${JSON.stringify(v)} is invalid`),
  })),
  {
    name: 'namespace annotation disabled',
    ns: namespace('app', { mesh: 'fsm', injection: 'disabled' }),
    action: 'skip',
    reason: /namespace annotation flomesh.io\/sidecar-injection=disabled/,
  },
  {
    name: 'namespace annotation enabled',
    ns: namespace('app', { mesh: 'fsm', injection: 'enabled' }),
    action: 'inject',
    reason: /namespace annotation/,
  },
  {
    name: 'pod enabled overrides namespace disabled',
    ns: namespace('app', { mesh: 'fsm', injection: 'disabled' }),
    podAnnotation: 'true',
    action: 'inject',
    reason: /pod annotation/,
  },
  {
    name: 'pod disabled overrides namespace enabled',
    ns: namespace('app', { mesh: 'fsm', injection: 'yes' }),
    podAnnotation: 'no',
    action: 'skip',
    reason: /pod annotation/,
  },
  {
    name: 'invalid namespace annotation',
    ns: namespace('app', { mesh: 'fsm', injection: 'sometimes' }),
    action: 'deny',
    reason: /namespace app annotation flomesh.io\/sidecar-injection="sometimes" is invalid/,
  },
  { name: 'namespace unknown', ns: undefined, action: 'skip', reason: /namespace app is not known/ },
  {
    name: 'namespace without monitored-by',
    ns: namespace('app'),
    action: 'skip',
    reason: /not monitored by mesh fsm/,
  },
  {
    name: 'namespace monitored by another mesh',
    ns: namespace('app', { mesh: 'other' }),
    podAnnotation: 'enabled',
    action: 'skip',
    reason: /not monitored by mesh fsm/,
  },
  {
    name: 'ignored namespace, even with pod annotation enabled',
    ns: namespace('app', { mesh: 'fsm', ignore: true }),
    podAnnotation: 'enabled',
    action: 'skip',
    reason: /carries flomesh.io\/ignore/,
  },
  {
    name: 'hostNetwork pod',
    ns: monitored,
    podAnnotation: 'enabled',
    hostNetwork: true,
    action: 'skip',
    reason: /hostNetwork/,
  },
  { name: 'hostNetwork false', ns: monitored, hostNetwork: false, action: 'inject', reason: /monitored/ },
  ...['kube-system', 'kube-public', 'kube-node-lease'].map((n): Case => ({
    name: `system namespace ${n}`,
    podNs: n,
    ns: namespace(n, { mesh: 'fsm' }),
    podAnnotation: 'enabled',
    action: 'skip',
    reason: /system namespace/,
  })),
  {
    name: 'the fsm namespace',
    podNs: 'fsm-system',
    ns: namespace('fsm-system', { mesh: 'fsm' }),
    podAnnotation: 'enabled',
    action: 'skip',
    reason: /fsm control-plane namespace/,
  },
  {
    name: 'invalid pod annotation in an unmonitored namespace is not looked at',
    ns: namespace('app'),
    podAnnotation: 'bogus',
    action: 'skip',
    reason: /not monitored/,
  },
];

describe('decideInjection', () => {
  it.each(cases)('$name → $action', (c) => {
    const p = pod('p', [{ name: 'app' }], {
      namespace: c.podNs ?? 'app',
      ...(c.podAnnotation !== undefined
        ? { annotations: { 'flomesh.io/sidecar-injection': c.podAnnotation } }
        : {}),
      ...(c.hostNetwork !== undefined ? { hostNetwork: c.hostNetwork } : {}),
    });
    const d = decideInjection({
      pod: p,
      namespace: c.podNs ?? 'app',
      namespaceObject: c.ns,
      meshName: 'fsm',
      fsmNamespace: 'fsm-system',
    });
    expect(d.action).toBe(c.action);
    expect(d.reason).toMatch(c.reason);
  });
});
