/** The controllers' pure parts as tables: template hash, rolling-update limits, slice grouping, Scale. */
import type { V1Deployment, V1Pod, V1Service } from '@kubernetes/client-node';
import { podTemplateHash } from '../../../../pkg/sandbox/controllers/owners.js';
import { resolveIntOrPercent, rollingLimits } from '../../../../pkg/sandbox/controllers/deployment.js';
import { desiredSlices, resolvePorts } from '../../../../pkg/sandbox/controllers/endpointslice.js';
import { selectorString, toScale, withScale } from '../../../../pkg/sandbox/apiserver/scale.js';

describe('pod-template-hash', () => {
  const tpl = { metadata: { labels: { app: 'a' } }, spec: { containers: [{ name: 'c', image: 'i:1' }] } };
  it('is stable, in the safe alphabet, blind to key order and to its own label', () => {
    const h = podTemplateHash(tpl);
    expect(h).toMatch(/^[bcdfghjklmnpqrstvwxz2456789]{1,10}$/);
    expect(podTemplateHash({ spec: tpl.spec, metadata: tpl.metadata })).toBe(h);
    expect(podTemplateHash({ ...tpl, metadata: { labels: { app: 'a', 'pod-template-hash': h } } })).toBe(h);
  });
  it('changes with the template and with the collision count', () => {
    const h = podTemplateHash(tpl);
    expect(podTemplateHash({ ...tpl, spec: { containers: [{ name: 'c', image: 'i:2' }] } })).not.toBe(h);
    expect(podTemplateHash(tpl, 1)).not.toBe(h);
  });
});

describe('rolling update limits', () => {
  it.each([
    [undefined, 4, true, 1],
    [undefined, 4, false, 1],
    [undefined, 1, true, 1],
    [undefined, 1, false, 0],
    ['25%', 10, true, 3],
    ['25%', 10, false, 2],
    [2, 10, true, 2],
    ['0%', 5, false, 0],
  ])('%s of %i (round up %s) is %i', (v, replicas, up, want) => {
    expect(resolveIntOrPercent(v as number | string | undefined, replicas, up)).toBe(want);
  });
  it('maxSurge 0 and maxUnavailable 0 becomes maxUnavailable 1', () => {
    const d: V1Deployment = {
      spec: {
        replicas: 3,
        selector: {},
        template: {},
        strategy: { rollingUpdate: { maxSurge: 0, maxUnavailable: 0 } },
      },
    };
    expect(rollingLimits(d)).toEqual({ surge: 0, unavailable: 1 });
  });
});

describe('EndpointSlices of a Service', () => {
  const svc: V1Service = {
    spec: {
      selector: { app: 'a' },
      ports: [
        { name: 'web', port: 80, targetPort: 'http' },
        { name: 'metrics', port: 9090, targetPort: 9091 },
      ],
    },
  };
  const pod = (
    name: string,
    ip: string | undefined,
    httpPort: number | undefined,
    ready: boolean,
  ): V1Pod => ({
    metadata: { name, namespace: 'n', uid: `uid-${name}` },
    spec: {
      nodeName: 'node',
      containers: [{ name: 'c', ports: httpPort ? [{ name: 'http', containerPort: httpPort }] : [] }],
    },
    status: { podIP: ip, conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
  });
  it('resolves a named targetPort per pod and skips ports the pod lacks', () => {
    expect(resolvePorts(svc, pod('p', '1.1.1.1', 8080, true))).toEqual([
      { name: 'web', port: 8080, protocol: 'TCP' },
      { name: 'metrics', port: 9091, protocol: 'TCP' },
    ]);
    expect(resolvePorts(svc, pod('p', '1.1.1.1', undefined, true))).toEqual([
      { name: 'metrics', port: 9091, protocol: 'TCP' },
    ]);
  });
  it('groups pods by resolved ports; no address, no endpoint; ready from the Ready condition', () => {
    const slices = desiredSlices(svc, [
      pod('b', '10.0.0.2', 8080, false),
      pod('a', '10.0.0.1', 8080, true),
      pod('c', '10.0.0.3', 8081, true),
      pod('d', undefined, 8080, true),
    ]);
    expect(slices).toHaveLength(2);
    expect(slices[0]!.endpoints.map((e) => [e.addresses[0], e.conditions?.ready])).toEqual([
      ['10.0.0.1', true],
      ['10.0.0.2', false],
    ]);
    expect(slices[1]!.ports[0]!.port).toBe(8081);
    expect(slices[0]!.endpoints[0]!.targetRef).toEqual({
      kind: 'Pod',
      namespace: 'n',
      name: 'a',
      uid: 'uid-a',
    });
  });
});

describe('the scale subresource', () => {
  const d = {
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'n', uid: 'u', resourceVersion: '7' },
    spec: { replicas: 2, selector: { matchLabels: { app: 'web', tier: 'x' } } },
    status: { replicas: 2 },
  };
  it('is an autoscaling/v1 Scale with the selector as a string', () => {
    expect(toScale(d)).toMatchObject({
      kind: 'Scale',
      apiVersion: 'autoscaling/v1',
      metadata: { name: 'web', resourceVersion: '7' },
      spec: { replicas: 2 },
      status: { replicas: 2, selector: 'app=web,tier=x' },
    });
  });
  it('changes spec.replicas only; a bad count is a 400 naming the field', () => {
    const next = withScale(d, { spec: { replicas: 5 } }) as typeof d;
    expect(next.spec).toEqual({ replicas: 5, selector: d.spec.selector });
    expect(next.status).toEqual(d.status);
    expect(() => withScale(d, { spec: { replicas: -1 } })).toThrow(/Scale.spec.replicas: Invalid value: -1/);
  });
  it.each([
    [{ matchLabels: { a: '1' } }, 'a=1'],
    [{ matchExpressions: [{ key: 'k', operator: 'In', values: ['x', 'y'] }] }, 'k in (x,y)'],
    [{ matchExpressions: [{ key: 'k', operator: 'DoesNotExist' }] }, '!k'],
    [undefined, ''],
  ])('selector %j → %s', (sel, text) => {
    expect(selectorString(sel)).toBe(text);
  });
});
