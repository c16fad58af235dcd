/**
 * The kinds a server serves are per instance: custom resources are discovered and stored as if their
 * CRDs were installed (cert-manager's, for the install tests), and a kind left out answers 404 as on
 * a cluster without it.
 */
import { ApisApi, KubernetesObjectApi, type KubernetesObject } from '@kubernetes/client-node';
import { customResource, RESOURCES } from '../../../../pkg/sandbox/apiserver/index.js';
import { startTestApiServer, type TestApiServer } from '../../../support/apiserver.js';

const WIDGETS = customResource('example.io', 'v1', 'Widget', { shortNames: ['wd'] });
const GADGETS = customResource('example.io', 'v1', 'Gadget', { namespaced: false });

describe('a server with custom resources and without PodDisruptionBudgets', () => {
  let h: TestApiServer;
  beforeAll(async () => {
    h = await startTestApiServer({
      resources: [...RESOURCES.filter((r) => r.kind !== 'PodDisruptionBudget'), WIDGETS, GADGETS],
    });
  });
  afterAll(() => h.stop());

  it('discovery lists the custom group and drops policy', async () => {
    const groups = await h.kc.makeApiClient(ApisApi).getAPIVersions();
    const names = groups.groups.map((g) => g.name);
    expect(names).toContain('example.io');
    expect(names).not.toContain('policy');
  });

  it('namespaced and cluster-scoped custom objects are created, read, listed and deleted', async () => {
    const api = KubernetesObjectApi.makeApiClient(h.kc);
    const widget = {
      apiVersion: 'example.io/v1',
      kind: 'Widget',
      metadata: { name: 'w1', namespace: 'default' },
      spec: { size: 3 },
    } as KubernetesObject;
    const gadget = {
      apiVersion: 'example.io/v1',
      kind: 'Gadget',
      metadata: { name: 'g1' },
    } as KubernetesObject;
    await api.create(widget);
    await api.create(gadget);
    const read = (await api.read(widget as never)) as KubernetesObject & { spec: unknown };
    expect(read.spec).toEqual({ size: 3 });
    expect(read.metadata?.uid).toBeDefined();
    expect((await api.list('example.io/v1', 'Widget', 'default')).items).toHaveLength(1);
    expect((await api.read(gadget as never)).metadata?.namespace).toBeUndefined();
    await api.delete(widget);
    await expect(api.read(widget as never)).rejects.toMatchObject({ code: 404 });
  });

  it('a kind left out is not found, as on a cluster without it', async () => {
    const api = KubernetesObjectApi.makeApiClient(h.kc);
    await expect(api.list('policy/v1', 'PodDisruptionBudget', 'default')).rejects.toThrow(
      /PodDisruptionBudget|policy\/v1|404/,
    );
  });
});

it('a default server serves no custom group', async () => {
  const h = await startTestApiServer();
  try {
    const groups = await h.kc.makeApiClient(ApisApi).getAPIVersions();
    expect(groups.groups.map((g) => g.name)).not.toContain('example.io');
  } finally {
    await h.stop();
  }
});
