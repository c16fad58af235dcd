/**
 * trimPod: what fsm-controller keeps of a pod in its informer cache. The pods fsm-injector really
 * produces (every probe kind, several containers, hooks, a native sidecar) give the very same proxy
 * config trimmed as whole, the dropped fields are gone, the input is untouched; and no controller
 * code reads a field the trim drops (a tripwire for the next reader).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { V1Namespace, V1Pod } from '@kubernetes/client-node';
import { desiredProxy } from '../../../pkg/catalog/index.js';
import { MONITORED_BY_LABEL } from '../../../pkg/constants/index.js';
import {
  DROPPED_CONTAINER_FIELDS,
  DROPPED_SPEC_FIELDS,
  DROPPED_STATUS_FIELDS,
  trimPod,
} from '../../../pkg/controller/pod-trim.js';
import { defaultInjectorConfig, mutatePod } from '../../../pkg/injector/index.js';
import { appPod, grpc, http, https, tcp } from '../../support/pods.js';
import type { ContainerSpec } from '../../support/pods.js';

const namespaceObject: V1Namespace = { metadata: { name: 'shop', labels: { [MONITORED_BY_LABEL]: 'fsm' } } };

function injected(
  name: string,
  containers: ContainerSpec[],
  annotations: Record<string, string> = {},
): V1Pod {
  let n = 0;
  const pod = appPod({ name, namespace: 'shop', serviceAccount: 'shop-sa', containers, annotations });
  // What a kubelet-run pod carries beside the spec: statuses, managedFields, volumes, env.
  pod.spec!.volumes = [{ name: 'kube-api-access', projected: { sources: [] } }];
  pod.spec!.tolerations = [{ key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' }];
  for (const c of pod.spec!.containers) {
    c.env = [{ name: 'A', value: 'b' }];
    c.volumeMounts = [{ name: 'kube-api-access', mountPath: '/var/run/secrets' }];
    c.terminationMessagePath = '/dev/termination-log';
    c.imagePullPolicy = 'IfNotPresent';
  }
  const r = mutatePod({
    object: pod,
    namespace: 'shop',
    namespaceObject,
    config: defaultInjectorConfig(),
    newProxyUuid: () => `00000000-0000-4000-8000-${String(++n).padStart(12, '0')}`,
  });
  if (r.outcome !== 'injected' || !r.desired) throw new Error(`not injected: ${r.outcome} ${r.reason}`);
  const out = r.desired;
  out.metadata!.managedFields = [{ manager: 'kubectl', operation: 'Update', fieldsType: 'FieldsV1' }];
  out.status = {
    phase: 'Running',
    podIP: '10.244.0.7',
    podIPs: [{ ip: '10.244.0.7' }],
    containerStatuses: [
      { name: 'app', ready: true, restartCount: 0, image: 'app:1', imageID: '', state: { running: {} } },
    ],
  };
  return out;
}

const pods: V1Pod[] = [
  injected('http', [{ name: 'app', ports: [8080], liveness: http(8080), readiness: http(8080, '/ready') }]),
  injected('https-tcp-grpc', [
    { name: 'web', ports: [8443, 9000], liveness: https(8443), readiness: tcp(9000), startup: grpc(9000) },
    { name: 'side', ports: [7000], liveness: https(7000, '/h'), readiness: http(7000, '/r') },
  ]),
  injected('native', [{ name: 'app', ports: [8080], liveness: http(8080) }], {
    'flomesh.io/native-sidecar': 'enabled',
  }),
];

describe('trimPod', () => {
  it.each(pods.map((p) => [p.metadata!.name!, p] as const))(
    '%s: the same proxy config from the trimmed pod, without the dropped fields, the input untouched',
    (_name, pod) => {
      const before = JSON.stringify(pod);
      const trimmed = trimPod(pod);
      expect(JSON.stringify(pod)).toBe(before);
      const full = desiredProxy(pod, { namespace: namespaceObject });
      expect(full.isProxy).toBe(true);
      expect(desiredProxy(trimmed, { namespace: namespaceObject })).toEqual(full);
      expect(trimmed.metadata).not.toHaveProperty('managedFields');
      expect(trimmed.metadata!.annotations).toEqual(pod.metadata!.annotations);
      for (const f of DROPPED_SPEC_FIELDS) expect(trimmed.spec).not.toHaveProperty(f);
      for (const c of [...trimmed.spec!.containers, ...(trimmed.spec!.initContainers ?? [])])
        for (const f of DROPPED_CONTAINER_FIELDS) expect(c).not.toHaveProperty(f);
      for (const f of DROPPED_STATUS_FIELDS) expect(trimmed.status).not.toHaveProperty(f);
      expect(trimmed.status).toEqual({
        phase: 'Running',
        podIP: '10.244.0.7',
        podIPs: [{ ip: '10.244.0.7' }],
      });
      expect(trimmed.spec!.serviceAccountName).toBe('shop-sa');
      expect(JSON.stringify(trimmed).length).toBeLessThan(JSON.stringify(pod).length);
    },
  );

  it('no code that reads the controller pod cache reads a field trimPod drops', () => {
    const dirs = ['pkg/controller', 'pkg/catalog', 'pkg/identity', 'pkg/probes'];
    const files = dirs.flatMap(function walk(d: string): string[] {
      return readdirSync(d).flatMap((f) => {
        const p = path.join(d, f);
        return statSync(p).isDirectory()
          ? walk(p)
          : p.endsWith('.ts') && !p.endsWith('pod-trim.ts')
            ? [p]
            : [];
      });
    });
    expect(files.length).toBeGreaterThan(10);
    const fields = [
      ...DROPPED_CONTAINER_FIELDS,
      ...DROPPED_SPEC_FIELDS,
      ...DROPPED_STATUS_FIELDS,
      'managedFields',
    ];
    // A desired proxy's Envoy resources share the name of a container's resources: `d.resources`,
    // `r.resources` (the desired proxy and its debug view) and `….resources.listeners/clusters`.
    const desiredResources = /\b(d|r|desired)\.resources\b|\.resources(?=\.(listeners|clusters)\b)/g;
    const reads: string[] = [];
    for (const f of files) {
      const src = readFileSync(f, 'utf8').replace(desiredResources, '');
      for (const field of fields) {
        if (new RegExp(`\\??\\.${field}\\b`).test(src)) reads.push(`${f}: .${field}`);
      }
    }
    expect(reads).toEqual([]);
  });
});
