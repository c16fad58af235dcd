/** evaluateProbeChecks: the pure judgement of `fsm check probes`, case by case. */
import type { CoreV1Event, V1Namespace, V1Pod } from '@kubernetes/client-node';
import {
  HEALTHCHECK_CONTAINER_NAME,
  IGNORE_LABEL,
  MONITORED_BY_LABEL,
  ORIGINAL_PROBES_ANNOTATION,
  INBOUND_MTLS_ANNOTATION,
  PROBE_REWRITE_ANNOTATION,
  PROXY_UUID_LABEL,
  SIDECAR_CONTAINER_NAME,
  SIDECAR_INJECTION_ANNOTATION,
} from '../../../pkg/constants/index.js';
import { desiredProxy } from '../../../pkg/catalog/index.js';
import { evaluateProbeChecks } from '../../../pkg/cli/check/checks.js';
import { describeProbe } from '../../../pkg/cli/check/describe.js';
import { MAX_EVENT_LINES } from '../../../pkg/cli/check/events.js';
import type { CheckResult, ProbeCheckInput } from '../../../pkg/cli/check/types.js';
import { appPod, fixtureUuid, grpc, http, https, injectedPod, tcp } from '../../../test/support/pods.js';

const NOW = new Date(Date.UTC(2026, 10, 24, 12, 0, 0));

function ns(
  name: string,
  labels: Record<string, string> = {},
  annotations: Record<string, string> = {},
): V1Namespace {
  return { metadata: { name, labels, annotations } };
}

function running(pod: V1Pod): V1Pod {
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

function configOf(pod: V1Pod): unknown {
  const d = desiredProxy(pod);
  return d.isProxy ? JSON.parse(JSON.stringify(d)) : undefined;
}

function input(pod: V1Pod, over: Partial<ProbeCheckInput> = {}): ProbeCheckInput {
  return {
    pod,
    podNamespace: ns('app', { [MONITORED_BY_LABEL]: 'fsm' }),
    mesh: 'fsm',
    fsmNamespace: 'fsm-system',
    fsmNamespaceObject: ns('fsm-system'),
    controlPlanePods: [],
    events: [],
    controller: { config: configOf(pod) },
    now: NOW,
    eventsSinceMs: 3600_000,
    eventsSince: '1h',
    ...over,
  };
}

function byId(checks: CheckResult[], id: CheckResult['id']): CheckResult {
  const c = checks.find((x) => x.id === id);
  if (!c) throw new Error(`no check ${id}`);
  return c;
}

const webPod = (): V1Pod =>
  running(
    injectedPod({
      name: 'web',
      containers: [
        { name: 'app', ports: [8080], liveness: http(8080, '/live'), readiness: http(8080, '/ready') },
      ],
    }),
  );

describe('describeProbe', () => {
  it.each([
    [{ httpGet: { port: 15901, path: '/fsm-liveness-probe' } }, 'httpGet :15901/fsm-liveness-probe'],
    [{ httpGet: { port: 8443, path: '/h', scheme: 'HTTPS' } }, 'httpGet HTTPS :8443/h'],
    [
      {
        httpGet: {
          port: 15904,
          path: '/fsm-healthcheck',
          httpHeaders: [{ name: 'Original-Tcp-Port', value: '1' }],
        },
      },
      'httpGet :15904/fsm-healthcheck Original-Tcp-Port: 1',
    ],
    [{ httpGet: { port: 'http' } }, 'httpGet :http'],
    [{ tcpSocket: { port: 5432 } }, 'tcpSocket :5432'],
    [{ grpc: { port: 9090, service: 'health' } }, 'grpc :9090 service health'],
    [{ exec: { command: ['true'] } }, 'exec'],
    [{}, 'no handler'],
    [undefined, 'nothing'],
  ])('%j → %s', (probe, want) => {
    expect(describeProbe(probe)).toBe(want);
  });
});

describe('evaluateProbeChecks', () => {
  it('a healthy HTTP pod passes every check', () => {
    const r = evaluateProbeChecks(input(webPod()));
    expect(r.checks.map((c) => [c.id, c.status])).toEqual([
      ['sidecar', 'pass'],
      ['probes-rewritten', 'pass'],
      ['proxy-listeners', 'pass'],
      ['healthcheck', 'pass'],
      ['events', 'pass'],
      ['control-plane', 'pass'],
    ]);
    expect(r).toMatchObject({ namespace: 'app', pod: 'web', mesh: 'fsm', failed: 0 });
    expect(byId(r.checks, 'proxy-listeners').details).toEqual([
      'liveness_listener (:15901): liveness probe of container app',
      'readiness_listener (:15902): readiness probe of container app',
    ]);
  });

  it('HTTPS keeps its path; gRPC and TCP need fsm-healthcheck; exec is left alone', () => {
    const pod = running(
      injectedPod({
        name: 'mixed',
        containers: [
          { name: 'tls', ports: [8443], liveness: https(8443, '/secure') },
          { name: 'rpc', ports: [9090], readiness: grpc(9090, 'health') },
          { name: 'job', startup: { kind: 'exec' } },
        ],
      }),
    );
    const r = evaluateProbeChecks(input(pod));
    expect(r.failed).toBe(0);
    expect(byId(r.checks, 'probes-rewritten').details).toEqual([
      'liveness probe of container tls: httpGet HTTPS :15901/secure → httpGet HTTPS :8443/secure',
      'readiness probe of container rpc: httpGet :15904/fsm-healthcheck Original-Grpc-Port: 9090, Original-Grpc-Service: health → grpc :9090 service health',
      'startup probe of container job: exec, runs in the container (not rewritten)',
    ]);
    expect(byId(r.checks, 'healthcheck').details).toEqual([
      'container fsm-healthcheck is running; serves gRPC readiness probe of container rpc (port 9090)',
    ]);
  });

  it('a probe that no longer matches the record fails, naming both', () => {
    const pod = webPod();
    pod.spec!.containers[0]!.livenessProbe!.httpGet!.port = 8080;
    const c = byId(evaluateProbeChecks(input(pod)).checks, 'probes-rewritten');
    expect(c.status).toBe('fail');
    expect(c.details[0]).toBe(
      `liveness probe of container app: kubelet calls httpGet :8080/fsm-liveness-probe, but ${ORIGINAL_PROBES_ANNOTATION} expects httpGet :15901/fsm-liveness-probe (original httpGet :8080/live)`,
    );
    expect(c.fix).toBe(
      'recreate the pod so fsm-injector handles it again: kubectl -n app delete pod web (its Deployment re-creates it)',
    );
  });

  it('a TCP probe whose header names another port fails', () => {
    const pod = running(
      injectedPod({ name: 'db', containers: [{ name: 'pg', ports: [5432], liveness: tcp(5432) }] }),
    );
    pod.spec!.containers[0]!.livenessProbe!.httpGet!.httpHeaders = [
      { name: 'Original-Tcp-Port', value: '5433' },
    ];
    expect(byId(evaluateProbeChecks(input(pod)).checks, 'probes-rewritten').status).toBe('fail');
  });

  it('a rewritten-looking probe with no record (annotation removed) fails', () => {
    const pod = running(
      injectedPod({
        name: 'web',
        rawAnnotation: null,
        containers: [{ name: 'app', ports: [80], liveness: http(80) }],
      }),
    );
    const c = byId(evaluateProbeChecks(input(pod)).checks, 'probes-rewritten');
    expect(c.details).toEqual([
      `liveness probe of container app: kubelet calls httpGet :15901/fsm-liveness-probe, but ${ORIGINAL_PROBES_ANNOTATION} records no original target for it`,
    ]);
  });

  it('an invalid annotation fails the rewrite and listener checks with the parser message', () => {
    const pod = running(
      injectedPod({
        name: 'web',
        rawAnnotation: '{"v":2}',
        containers: [{ name: 'app', ports: [80], liveness: http(80) }],
      }),
    );
    const r = evaluateProbeChecks(input(pod));
    expect(byId(r.checks, 'probes-rewritten').details[0]).toContain(
      `pod app/web: annotation ${ORIGINAL_PROBES_ANNOTATION}: v: unsupported version 2`,
    );
    expect(byId(r.checks, 'proxy-listeners').details[0]).toMatch(
      /^no probe listener can be built: pod app\/web/,
    );
  });

  it('a probe the injector cannot rewrite says why', () => {
    const pod = appPod({
      name: 'named',
      labels: { [PROXY_UUID_LABEL]: fixtureUuid('app', 'named') },
      containers: [{ name: 'app', ports: [8080] }],
    });
    pod.spec!.containers[0]!.livenessProbe = { httpGet: { port: 'missing', path: '/x' } };
    pod.spec!.containers.push({ name: SIDECAR_CONTAINER_NAME });
    const c = byId(evaluateProbeChecks(input(running(pod))).checks, 'probes-rewritten');
    expect(c.status).toBe('fail');
    expect(c.details[0]).toBe(
      'liveness probe of container app: httpGet :missing/x cannot be rewritten: container app liveness probe: port "missing" does not resolve to a port (1-65535) of the container; left unchanged',
    );
  });

  it('a pod with no probes passes the rewrite check', () => {
    const pod = running(injectedPod({ name: 'quiet', containers: [{ name: 'app', ports: [80] }] }));
    expect(byId(evaluateProbeChecks(input(pod)).checks, 'probes-rewritten')).toMatchObject({
      status: 'pass',
      details: ['the pod defines no liveness, readiness or startup probe'],
    });
  });

  describe('sidecar fixes', () => {
    const plain = (annotations: Record<string, string> = {}): V1Pod =>
      appPod({ name: 'p', annotations, containers: [{ name: 'app', liveness: http(80) }] });
    it.each<[string, V1Pod, V1Namespace | undefined, string]>([
      [
        'namespace not in the mesh',
        plain(),
        ns('app'),
        'add the namespace to the mesh, then recreate the pod: fsm namespace add app --mesh-name fsm; kubectl -n app delete pod p',
      ],
      [
        'namespace in another mesh',
        plain(),
        ns('app', { [MONITORED_BY_LABEL]: 'other' }),
        'add the namespace to the mesh, then recreate the pod: fsm namespace add app --mesh-name fsm; kubectl -n app delete pod p',
      ],
      [
        'ignored namespace',
        plain(),
        ns('app', { [MONITORED_BY_LABEL]: 'fsm', [IGNORE_LABEL]: '1' }),
        'the namespace is ignored: kubectl label namespace app flomesh.io/ignore-, then recreate the pod',
      ],
      [
        'pod opts out',
        plain({ [SIDECAR_INJECTION_ANNOTATION]: 'disabled' }),
        ns('app', { [MONITORED_BY_LABEL]: 'fsm' }),
        "remove the pod's annotation flomesh.io/sidecar-injection=disabled (in its template), then recreate the pod",
      ],
      [
        'namespace disables injection',
        plain(),
        ns('app', { [MONITORED_BY_LABEL]: 'fsm' }, { [SIDECAR_INJECTION_ANNOTATION]: 'no' }),
        'enable injection: kubectl annotate namespace app flomesh.io/sidecar-injection=enabled --overwrite, then recreate the pod',
      ],
      [
        'would be injected now',
        plain(),
        ns('app', { [MONITORED_BY_LABEL]: 'fsm' }),
        'recreate the pod so fsm-injector handles it again: kubectl -n app delete pod p (its Deployment re-creates it); if it stays without a sidecar, check the injector: kubectl -n fsm-system get pods -l app=fsm-injector',
      ],
    ])('%s', (_name, pod, namespace, fix) => {
      const r = evaluateProbeChecks(
        input(pod, { podNamespace: namespace, controller: { notAsked: 'pod has no sidecar' } }),
      );
      const c = byId(r.checks, 'sidecar');
      expect(c.status).toBe('fail');
      expect(c.fix).toBe(fix);
      expect(r.checks.filter((x) => x.status === 'skip').map((x) => x.id)).toEqual([
        'probes-rewritten',
        'proxy-listeners',
        'healthcheck',
      ]);
    });

    it('a proxy label without the sidecar container is not injected', () => {
      const pod = webPod();
      pod.spec!.containers = pod.spec!.containers.filter((c) => c.name !== SIDECAR_CONTAINER_NAME);
      expect(byId(evaluateProbeChecks(input(pod)).checks, 'sidecar').details[0]).toBe(
        'pod app/web has no container named sidecar',
      );
    });
  });

  it('the probe-rewrite opt-out is named in the fix', () => {
    const pod = appPod({
      name: 'legacy',
      labels: { [PROXY_UUID_LABEL]: 'u-1' },
      annotations: { [PROBE_REWRITE_ANNOTATION]: 'disabled' },
      containers: [{ name: 'app', ports: [8080], liveness: http(8080, '/healthz') }],
    });
    pod.spec!.containers.push({ name: SIDECAR_CONTAINER_NAME });
    const c = byId(evaluateProbeChecks(input(running(pod))).checks, 'probes-rewritten');
    expect(c.details).toEqual([
      'liveness probe of container app: not rewritten: kubelet calls httpGet :8080/healthz, expected httpGet :15901/fsm-liveness-probe',
    ]);
    expect(c.fix).toMatch(/^the pod opts out with flomesh.io\/probe-rewrite=disabled: remove the annotation/);
  });

  it.each<[string, Record<string, string>, RegExp]>([
    [
      'strict (default)',
      {},
      /\(why: the proxy requires mTLS from the mesh on port 8080 \(inbound mode strict, the default\); kubelet's plaintext probe has no mesh certificate, so the proxy refuses it/,
    ],
    [
      'strict (pod annotation)',
      { [INBOUND_MTLS_ANNOTATION]: 'strict' },
      /inbound mode strict, the pod's flomesh.io\/inbound-mtls annotation\)/,
    ],
    [
      'permissive',
      { [INBOUND_MTLS_ANNOTATION]: 'permissive' },
      /\(why: inbound mode is permissive on port 8080 \(the pod's flomesh.io\/inbound-mtls annotation\), so kubelet's plaintext probe gets through/,
    ],
  ])('an opted-out probe: the fix explains the mTLS reason, %s', (_n, annotations, reason) => {
    const pod = appPod({
      name: 'legacy',
      labels: { [PROXY_UUID_LABEL]: 'u-1' },
      annotations: { [PROBE_REWRITE_ANNOTATION]: 'disabled', ...annotations },
      containers: [{ name: 'app', ports: [8080], liveness: http(8080, '/healthz') }],
    });
    pod.spec!.containers.push({ name: SIDECAR_CONTAINER_NAME });
    const c = byId(evaluateProbeChecks(input(running(pod))).checks, 'probes-rewritten');
    expect(c.status).toBe('fail');
    expect(c.fix).toMatch(/^the pod opts out with flomesh.io\/probe-rewrite=disabled: remove the annotation/);
    expect(c.fix).toMatch(reason);
  });

  describe('proxy listeners', () => {
    it.each<[string, ProbeCheckInput['controller'], string, string | undefined]>([
      [
        'controller 404',
        { error: 'x: 404 no proxy', status: 404, where: 'x' },
        'the controller has no config for proxy app/web (x: 404 no proxy)',
        'the controller builds configs',
      ],
      [
        'API server 404 (no Service)',
        { error: 'svc: 404 services "fsm-controller" not found', status: 404, apiServer: true, where: 'svc' },
        'cannot read the proxy config from the controller: svc: 404 services "fsm-controller" not found',
        'check that the controller runs',
      ],
      [
        'unreachable',
        { error: 'x: ECONNREFUSED', where: 'x' },
        'cannot read the proxy config from the controller: x: ECONNREFUSED',
        'check that the controller runs',
      ],
      [
        'no listener list',
        { config: { probes: {} } },
        'the controller answered without a listener list (resources.listeners)',
        'check that the controller runs',
      ],
      [
        'a listener missing',
        { config: { listeners: [{ name: 'liveness_listener' }] } },
        'liveness_listener (:15901): liveness probe of container app',
        "the controller has not pushed this pod's probe listeners",
      ],
    ])('%s', (_name, controller, firstDetail, fixStart) => {
      const c = byId(evaluateProbeChecks(input(webPod(), { controller })).checks, 'proxy-listeners');
      expect(c.status).toBe('fail');
      expect(c.details[0]).toBe(firstDetail);
      expect(c.fix?.startsWith(fixStart ?? '')).toBe(true);
    });

    it('two HTTP probes of one type on the same path: the second cannot be served', () => {
      const pod = webPod();
      const ann = JSON.parse(pod.metadata!.annotations![ORIGINAL_PROBES_ANNOTATION]!) as {
        containers: Record<string, unknown>;
      };
      ann.containers['second'] = ann.containers['app'];
      pod.metadata!.annotations![ORIGINAL_PROBES_ANNOTATION] = JSON.stringify(ann);
      const second = { ...pod.spec!.containers[0]!, name: 'second' };
      pod.spec!.containers.splice(1, 0, second);
      const c = byId(evaluateProbeChecks(input(running(pod))).checks, 'proxy-listeners');
      expect(c.status).toBe('fail');
      expect(c.details).toContain(
        "liveness probe of container second cannot be served: liveness probes of containers app and second both use path /fsm-liveness-probe; only app's is routed",
      );
    });
  });

  describe('fsm-healthcheck', () => {
    const tcpPod = (): V1Pod =>
      running(injectedPod({ name: 'db', containers: [{ name: 'pg', ports: [5432], readiness: tcp(5432) }] }));

    it('missing container', () => {
      const pod = tcpPod();
      pod.spec!.containers = pod.spec!.containers.filter((c) => c.name !== HEALTHCHECK_CONTAINER_NAME);
      const c = byId(evaluateProbeChecks(input(pod)).checks, 'healthcheck');
      expect(c.details).toEqual([
        "no fsm-healthcheck container, but kubelet's probes to :15904 need it: TCP readiness probe of container pg (port 5432)",
      ]);
    });

    it.each<[string, NonNullable<V1Pod['status']>['containerStatuses'], string]>([
      ['no status yet', [], 'container fsm-healthcheck has not started (no container status)'],
      [
        'crash looping',
        [
          {
            name: HEALTHCHECK_CONTAINER_NAME,
            image: '',
            imageID: '',
            ready: false,
            restartCount: 4,
            state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 40s' } },
          },
        ],
        'container fsm-healthcheck is waiting (CrashLoopBackOff: back-off 40s); restarts: 4',
      ],
      [
        'terminated',
        [
          {
            name: HEALTHCHECK_CONTAINER_NAME,
            image: '',
            imageID: '',
            ready: false,
            restartCount: 1,
            state: { terminated: { reason: 'Error', exitCode: 2 } },
          },
        ],
        'container fsm-healthcheck is terminated (Error, exit code 2); restarts: 1',
      ],
    ])('%s', (_name, statuses, detail) => {
      const pod = tcpPod();
      pod.status = { containerStatuses: statuses ?? [] };
      const c = byId(evaluateProbeChecks(input(pod)).checks, 'healthcheck');
      expect([c.status, c.details[0]]).toEqual(['fail', detail]);
      expect(c.fix).toBe('kubectl -n app logs db -c fsm-healthcheck; kubectl -n app describe pod db');
    });
  });

  describe('events', () => {
    const ev = (over: Partial<CoreV1Event> & { minutesAgo?: number }): CoreV1Event => {
      const { minutesAgo = 5, ...rest } = over;
      return {
        metadata: { name: `e${Math.random()}` },
        involvedObject: { kind: 'Pod', name: 'web', namespace: 'app' },
        reason: 'Unhealthy',
        type: 'Warning',
        message: 'Readiness probe failed',
        lastTimestamp: new Date(NOW.getTime() - minutesAgo * 60_000),
        ...rest,
      };
    };

    it('counts only recent Unhealthy/Killing events of this pod', () => {
      const pod = webPod();
      const events = [
        ev({ minutesAgo: 120, message: 'too old' }),
        ev({ involvedObject: { kind: 'Pod', name: 'other' }, message: 'other pod' }),
        ev({
          involvedObject: { kind: 'Pod', name: 'web', uid: 'old-uid' },
          message: 'previous pod of that name',
        }),
        ev({ reason: 'Pulled', type: 'Normal', message: 'image pulled' }),
        ev({
          minutesAgo: 2,
          reason: 'Killing',
          type: 'Normal',
          message: 'Container app failed liveness probe',
        }),
        ev({ minutesAgo: 3, count: 7, message: 'Liveness probe failed: connection refused' }),
      ];
      const c = byId(evaluateProbeChecks(input(pod, { events })).checks, 'events');
      expect(c.details).toEqual([
        'Warning Unhealthy (x7): Liveness probe failed: connection refused',
        'Normal Killing: Container app failed liveness probe',
      ]);
      expect(c.fix).toContain('and containers were restarted');
    });

    it(`shows at most ${MAX_EVENT_LINES} lines and says how many were left out`, () => {
      const events = Array.from({ length: MAX_EVENT_LINES + 3 }, (_, i) =>
        ev({ minutesAgo: 50 - i, message: `m${i}` }),
      );
      const c = byId(evaluateProbeChecks(input(webPod(), { events })).checks, 'events');
      expect(c.details).toHaveLength(MAX_EVENT_LINES + 1);
      expect(c.details[0]).toBe('3 older events not shown');
      expect(c.details.at(-1)).toBe(`Warning Unhealthy: m${MAX_EVENT_LINES + 2}`);
    });
  });

  describe('control plane', () => {
    const cpPod = (injected: boolean): V1Pod => ({
      metadata: { name: 'fsm-controller-0', labels: injected ? { [PROXY_UUID_LABEL]: 'u' } : {} },
      spec: { containers: [{ name: 'fsm-controller' }] },
    });
    it.each<[string, V1Namespace | undefined, V1Pod[], 'pass' | 'fail', string]>([
      ['not in a mesh', ns('fsm-system'), [cpPod(false)], 'pass', 'namespace fsm-system is not in any mesh'],
      [
        'in a mesh but ignored',
        ns('fsm-system', { [MONITORED_BY_LABEL]: 'fsm', [IGNORE_LABEL]: 'x' }),
        [],
        'pass',
        'namespace fsm-system is in mesh [fsm] but ignored (flomesh.io/ignore)',
      ],
      [
        'in a mesh, injection disabled',
        ns('fsm-system', { [MONITORED_BY_LABEL]: 'fsm' }, { [SIDECAR_INJECTION_ANNOTATION]: 'disabled' }),
        [],
        'pass',
        'namespace fsm-system is in mesh [fsm] with sidecar injection disabled',
      ],
      [
        'in a mesh, injection enabled',
        ns('fsm-system', { [MONITORED_BY_LABEL]: 'fsm2' }, { [SIDECAR_INJECTION_ANNOTATION]: 'enabled' }),
        [],
        'fail',
        'namespace fsm-system is in mesh [fsm2] with sidecar injection enabled',
      ],
      [
        'a control-plane pod with a sidecar',
        ns('fsm-system'),
        [cpPod(true)],
        'fail',
        'namespace fsm-system is not in any mesh',
      ],
      ['namespace missing', undefined, [], 'fail', 'control-plane namespace fsm-system not found'],
    ])('%s', (_name, fsmNamespaceObject, controlPlanePods, status, detail) => {
      const c = byId(
        evaluateProbeChecks(input(webPod(), { fsmNamespaceObject, controlPlanePods })).checks,
        'control-plane',
      );
      expect([c.status, c.details[0]]).toEqual([status, detail]);
    });

    it('the fix removes the namespace from its mesh and restarts injected pods', () => {
      const c = byId(
        evaluateProbeChecks(
          input(webPod(), {
            fsmNamespaceObject: ns('fsm-system', { [MONITORED_BY_LABEL]: 'fsm2' }),
            controlPlanePods: [cpPod(true)],
          }),
        ).checks,
        'control-plane',
      );
      expect(c.details).toEqual([
        'namespace fsm-system is in mesh [fsm2] with sidecar injection enabled (no annotation)',
        'pod fsm-system/fsm-controller-0 has a sidecar',
      ]);
      expect(c.fix).toBe(
        "take the control plane out of the mesh: fsm namespace remove fsm-system --mesh-name fsm2; then kubectl -n fsm-system rollout restart deployment -l 'app in (fsm-controller,fsm-injector)'",
      );
    });
  });

  it('is pure: the same input gives the same report', () => {
    const inp = input(webPod());
    expect(evaluateProbeChecks(inp)).toEqual(evaluateProbeChecks(inp));
  });
});
