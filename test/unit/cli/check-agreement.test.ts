/**
 * `fsm check probes` and the controller's catalog judge a live probe against its record with one
 * comparison (pkg/probes compareProbe): for every probe shape and every edit of the live probe after
 * injection, the rewrite check fails exactly when the catalog reports the probe as drifted.
 */
import type { V1Pod, V1Probe } from '@kubernetes/client-node';
import { desiredProxy } from '../../../pkg/catalog/index.js';
import { MONITORED_BY_LABEL, ORIGINAL_PROBES_ANNOTATION } from '../../../pkg/constants/index.js';
import { evaluateProbeChecks } from '../../../pkg/cli/check/checks.js';
import type { ProbeCheckInput } from '../../../pkg/cli/check/types.js';
import { grpc, http, https, injectedPod, tcp } from '../../support/pods.js';
import type { ProbeSpec } from '../../support/pods.js';

const SHAPES: [string, ProbeSpec][] = [
  ['http', http(8080, '/live')],
  ['http with headers', http(8080, '/live', { headers: [{ name: 'X-A', value: '1' }] })],
  ['https', https(8443, '/secure')],
  ['https, empty path', https(8443, '')],
  ['tcp', tcp(5432)],
  ['grpc', grpc(9000)],
  ['grpc with a service', grpc(9000, 'health')],
];

/** Edits of the live readiness probe after injection (undefined: as injected). */
const EDITS: [string, ((p: V1Probe) => V1Probe | undefined) | undefined][] = [
  ['as injected', undefined],
  ['port as a decimal string', (p) => ({ ...p, httpGet: { ...p.httpGet!, port: String(p.httpGet!.port) } })],
  ['port back to the app', (p) => ({ ...p, httpGet: { ...p.httpGet!, port: 8080 } })],
  ['path changed', (p) => ({ ...p, httpGet: { ...p.httpGet!, path: '/other' } })],
  [
    'scheme flipped',
    (p) => ({ ...p, httpGet: { ...p.httpGet!, scheme: p.httpGet!.scheme === 'HTTPS' ? 'HTTP' : 'HTTPS' } }),
  ],
  [
    'a header added',
    (p) => ({
      ...p,
      httpGet: {
        ...p.httpGet!,
        httpHeaders: [...(p.httpGet!.httpHeaders ?? []), { name: 'X-B', value: '2' }],
      },
    }),
  ],
  ['headers dropped', (p) => ({ ...p, httpGet: { ...p.httpGet!, httpHeaders: [] } })],
  ['host set', (p) => ({ ...p, httpGet: { ...p.httpGet!, host: '10.0.0.9' } })],
  ['made an exec probe', (p) => ({ periodSeconds: p.periodSeconds, exec: { command: ['true'] } })],
  ['removed', () => undefined],
];

function input(pod: V1Pod): ProbeCheckInput {
  return {
    pod,
    podNamespace: { metadata: { name: 'app', labels: { [MONITORED_BY_LABEL]: 'fsm' } } },
    mesh: 'fsm',
    fsmNamespace: 'fsm-system',
    fsmNamespaceObject: { metadata: { name: 'fsm-system' } },
    controlPlanePods: [],
    events: [],
    controller: { notAsked: 'not needed here' },
    now: new Date(0),
    eventsSinceMs: 3600_000,
    eventsSince: '1h',
  };
}

const rows = SHAPES.flatMap(([shape, spec]) =>
  EDITS.map(([edit, change]) => ({ shape, edit, spec, change })),
);

describe('the rewrite check and the catalog agree on drift', () => {
  it.each(rows)('$shape, $edit', ({ spec, change }) => {
    const pod = injectedPod({
      name: 'web',
      namespace: 'app',
      containers: [{ name: 'app', readiness: spec }],
    });
    const app = pod.spec!.containers[0]!;
    if (change) {
      const edited = change(app.readinessProbe!);
      if (edited) app.readinessProbe = edited;
      else delete app.readinessProbe;
    }
    const d = desiredProxy(pod);
    if (!d.isProxy) throw new Error(d.reason);
    expect(d.annotation).toBe('valid');
    const catalogDrift = d.probes.ReadinessProbes[0]!.problem;

    const check = evaluateProbeChecks(input(pod)).checks.find((c) => c.id === 'probes-rewritten')!;
    expect(check.status).toBe(catalogDrift === undefined ? 'pass' : 'fail');
    expect(d.problems).toEqual(catalogDrift === undefined ? [] : [`pod app/web: ${catalogDrift}`]);
    if (catalogDrift !== undefined) {
      expect(check.details[0]).toMatch(
        new RegExp(
          `^readiness probe of container app: kubelet calls .*, but ${ORIGINAL_PROBES_ANNOTATION} expects `,
        ),
      );
    }
    // The probe as injected, or with a port kubelet reads as the same number, is not drift; every other edit is.
    expect(catalogDrift === undefined).toBe(change === undefined || isSameCall(spec, change));
  });
});

/** Edits that leave kubelet calling the same target. */
function isSameCall(spec: ProbeSpec, change: (p: V1Probe) => V1Probe | undefined): boolean {
  const name = EDITS.find(([, c]) => c === change)![0];
  if (name === 'port as a decimal string') return true;
  // Dropping headers changes nothing for a probe that has none of its own.
  if (name === 'headers dropped') return (spec.kind === 'http' || spec.kind === 'https') && !spec.headers;
  return false;
}
