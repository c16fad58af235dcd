import { desiredProxy, diffResources } from '../../../pkg/catalog/index.js';
import type { DesiredProxy } from '../../../pkg/catalog/index.js';
import type { ProxyResources } from '../../../pkg/envoy/builders/index.js';
import { http, injectedPod, tcp } from '../../support/pods.js';
import type { ContainerSpec } from '../../support/pods.js';

function resources(containers: ContainerSpec[]): ProxyResources {
  return (desiredProxy(injectedPod({ name: 'p', containers })) as DesiredProxy).resources;
}

describe('diffResources', () => {
  const base: ContainerSpec[] = [{ name: 'app', ports: [80], liveness: http(80, '/l') }];
  it.each<[string, ProxyResources | undefined, ContainerSpec[], object]>([
    [
      'new proxy: everything added',
      undefined,
      base,
      {
        changed: true,
        listeners: {
          added: ['inbound_80', 'inbound_listener', 'liveness_listener'],
          removed: [],
          updated: [],
        },
        clusters: {
          added: ['app_liveness_cluster', 'inbound_app_80_cluster', 'inbound_passthrough_cluster'],
          removed: [],
          updated: [],
        },
      },
    ],
    [
      'same pod again: no change',
      resources(base),
      base,
      {
        changed: false,
        listeners: { added: [], removed: [], updated: [] },
        clusters: { added: [], removed: [], updated: [] },
      },
    ],
    [
      'path changed: the listener is updated, clusters untouched',
      resources(base),
      [{ name: 'app', ports: [80], liveness: http(80, '/other') }],
      {
        changed: true,
        listeners: { added: [], removed: [], updated: ['liveness_listener'] },
        clusters: { added: [], removed: [], updated: [] },
      },
    ],
    [
      'timeout changed: listener (route) and cluster (connect timeout) updated',
      resources(base),
      [{ name: 'app', ports: [80], liveness: http(80, '/l', { timeoutSeconds: 9 }) }],
      {
        changed: true,
        listeners: { added: [], removed: [], updated: ['liveness_listener'] },
        clusters: { added: [], removed: [], updated: ['app_liveness_cluster'] },
      },
    ],
    [
      'probe became TCP, port added: probe listener/cluster removed, inbound added',
      resources(base),
      [{ name: 'app', ports: [80, 81], liveness: tcp(80) }],
      {
        changed: true,
        listeners: { added: ['inbound_81'], removed: ['liveness_listener'], updated: [] },
        clusters: { added: ['inbound_app_81_cluster'], removed: ['app_liveness_cluster'], updated: [] },
      },
    ],
  ])('%s', (_name, previous, containers, want) => {
    expect(diffResources(previous, resources(containers))).toEqual(want);
  });
});
