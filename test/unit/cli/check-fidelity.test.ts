/**
 * `fsm check probes` on issue 19's pods: native sidecars, HTTPS probes the proxy originates, rewritten
 * hooks, outdated injections (warnings), root causes and probe warnings from the pod's events.
 */
import type { CoreV1Event, V1Container, V1Namespace, V1Pod } from '@kubernetes/client-node';
import { MONITORED_BY_LABEL } from '../../../pkg/constants/index.js';
import { desiredProxy } from '../../../pkg/catalog/index.js';
import { evaluateProbeChecks } from '../../../pkg/cli/check/checks.js';
import { probeCheckText } from '../../../pkg/cli/check/render.js';
import type { CheckResult, ProbeCheckInput } from '../../../pkg/cli/check/types.js';
import { defaultInjectorConfig, mutatePod, serverSupport } from '../../../pkg/injector/index.js';
import { http, injectedPod } from '../../support/pods.js';

const NOW = new Date(Date.UTC(2026, 10, 24, 12, 0, 0));
const mesh: V1Namespace = { metadata: { name: 'app', labels: { [MONITORED_BY_LABEL]: 'fsm' } } };

function running(pod: V1Pod): V1Pod {
  pod.metadata!.uid = 'uid-1';
  pod.status = {
    containerStatuses: (pod.spec?.containers ?? []).map((c) => ({
      name: c.name,
      image: '',
      imageID: '',
      ready: true,
      restartCount: 0,
      state: { running: {} },
    })),
  };
  return pod;
}

function inject(containers: V1Container[], native: boolean): V1Pod {
  const r = mutatePod({
    object: { metadata: { name: 'web', namespace: 'app' }, spec: { containers } },
    namespace: 'app',
    namespaceObject: mesh,
    config: defaultInjectorConfig({ injectorVersion: 'test' }),
    newProxyUuid: () => '00000000-0000-4000-8000-000000000019',
    ...(native ? { server: serverSupport({ major: 1, minor: 32, gitVersion: 'v1.32.0' }) } : {}),
  });
  return running(r.desired!);
}

function input(pod: V1Pod, over: Partial<ProbeCheckInput> = {}): ProbeCheckInput {
  const d = desiredProxy(pod);
  return {
    pod,
    podNamespace: mesh,
    mesh: 'fsm',
    fsmNamespace: 'fsm-system',
    fsmNamespaceObject: { metadata: { name: 'fsm-system' } },
    controlPlanePods: [],
    events: [],
    controller: { config: d.isProxy ? JSON.parse(JSON.stringify(d)) : undefined },
    now: NOW,
    eventsSinceMs: 3600_000,
    eventsSince: '1h',
    ...over,
  };
}

function byId(checks: CheckResult[], id: CheckResult['id']): CheckResult {
  return checks.find((x) => x.id === id)!;
}

function event(reason: string, message: string, type = 'Warning'): CoreV1Event {
  return {
    metadata: { name: `e-${reason}`, namespace: 'app' },
    involvedObject: { kind: 'Pod', name: 'web', namespace: 'app', uid: 'uid-1' },
    reason,
    message,
    type,
    count: 1,
    lastTimestamp: new Date(NOW.getTime() - 60_000),
  };
}

const containers: V1Container[] = [
  {
    name: 'a',
    readinessProbe: { httpGet: { port: 8443, path: '/a', scheme: 'HTTPS' } },
    lifecycle: { preStop: { httpGet: { port: 8080, path: '/drain' } } },
  },
  { name: 'b', readinessProbe: { httpGet: { port: 9443, path: '/b', scheme: 'HTTPS' } } },
];

describe('issue 19 pods in fsm check probes', () => {
  it('a native sidecar, an HTTPS probe the proxy originates and a hook: every check passes, each named', () => {
    const r = evaluateProbeChecks(input(inject(containers, true)));
    expect(r.failed).toBe(0);
    expect(byId(r.checks, 'sidecar').details).toEqual([
      'proxy 00000000-0000-4000-8000-000000000019 (native sidecar: init container sidecar, restartPolicy Always)',
    ]);
    expect(byId(r.checks, 'sidecar').warnings).toBeUndefined();
    expect(byId(r.checks, 'probes-rewritten').details).toEqual([
      'readiness probe of container a: httpGet HTTPS :15902/a → httpGet HTTPS :8443/a',
      'readiness probe of container b: httpGet :15902/fsm-readiness-probe/b → httpGet HTTPS :9443/b (TLS from the proxy)',
      'preStop hook of container a: httpGet :15903/fsm-prestop-hook/a → httpGet :8080/drain',
    ]);
  });

  it('a hook edited after injection fails the rewrite check', () => {
    const pod = inject(containers, false);
    pod.spec!.containers[0]!.lifecycle!.preStop!.httpGet!.port = 8080;
    const c = byId(evaluateProbeChecks(input(pod)).checks, 'probes-rewritten');
    expect(c.status).toBe('fail');
    expect(c.details).toContain(
      'preStop hook of container a: kubelet calls httpGet :8080/fsm-prestop-hook/a, but flomesh.io/original-probes expects httpGet :15903/fsm-prestop-hook/a (original httpGet :8080/drain)',
    );
  });

  it('a pod injected in an older format: served (passes), flagged as a warning in text and JSON', () => {
    const pod = running(
      injectedPod({
        name: 'web',
        namespace: 'app',
        stamp: null,
        containers: [{ name: 'app', liveness: http(8080, '/h') }],
      }),
    );
    const r = evaluateProbeChecks(input(pod));
    expect(r.failed).toBe(0);
    expect(byId(r.checks, 'sidecar').warnings).toEqual([
      'probes rewritten in format 1 by an injector that wrote no stamp (the seed); the control plane now writes format 2: still served; recreate the pod to update it (recreate the pod so fsm-injector handles it again: kubectl -n app delete pod web (its Deployment re-creates it))',
    ]);
    const text = probeCheckText(r);
    expect(text).toContain('\n    ! probes rewritten in format 1');
    expect(text.trimEnd().endsWith('All 6 checks passed (1 warning)')).toBe(true);
  });

  it("the running control plane's judgement wins over the CLI's own", () => {
    const pod = running(
      injectedPod({
        name: 'web',
        namespace: 'app',
        containers: [{ name: 'app', liveness: http(8080, '/h') }],
      }),
    );
    const inp = input(pod);
    const config = {
      ...(inp.controller as { config: object }).config,
      injection: {
        format: 2,
        bootstrap: 1,
        current: { format: 3, bootstrap: 1 },
        outdated: [
          'probes rewritten in format 2 by fsm-injector test; the control plane now writes format 3',
        ],
      },
    };
    const c = byId(evaluateProbeChecks({ ...inp, controller: { config } }).checks, 'sidecar');
    expect(c.warnings?.[0]).toMatch(
      /^probes rewritten in format 2 by fsm-injector test; the control plane now writes format 3: still served/,
    );
  });

  it('root causes are listed with the probe events, and the fix points at them', () => {
    const pod = inject(containers, false);
    const c = byId(
      evaluateProbeChecks(
        input(pod, {
          events: [
            event('Unhealthy', 'Readiness probe failed: HTTP probe failed with statuscode: 503'),
            event(
              'ProbeTargetFailed',
              'Readiness probe of container b: TLS failure: the TLS handshake with the app on 127.0.0.1:9443 failed (x) (original target httpGet https://:9443/b; kubelet calls :15902/fsm-readiness-probe/b)',
            ),
          ],
        }),
      ).checks,
      'events',
    );
    expect(c.status).toBe('fail');
    expect(c.details).toEqual([
      'Warning Unhealthy: Readiness probe failed: HTTP probe failed with statuscode: 503',
      'root cause: ProbeTargetFailed: Readiness probe of container b: TLS failure: the TLS handshake with the app on 127.0.0.1:9443 failed (x) (original target httpGet https://:9443/b; kubelet calls :15902/fsm-readiness-probe/b)',
    ]);
    expect(c.fix).toMatch(/^the root cause above \(recorded by fsm-controller\)/);
  });

  it("kubelet's probe warnings (an off-host redirect) are warnings, not failures", () => {
    const pod = inject(containers, false);
    const c = byId(
      evaluateProbeChecks(
        input(pod, {
          events: [
            event('ProbeWarning', 'Readiness probe warning: Probe terminated redirects, Response body: x'),
          ],
        }),
      ).checks,
      'events',
    );
    expect(c).toMatchObject({
      status: 'pass',
      details: ['none'],
      warnings: ['ProbeWarning: Readiness probe warning: Probe terminated redirects, Response body: x'],
    });
  });
});
