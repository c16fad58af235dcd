/**
 * Issue 19 item 5 through the probe contract: the root cause of a failing rewritten probe from what
 * its endpoint answers — Envoy's local replies (the sandbox agent answers in the same words), the
 * app's own status, fsm-healthcheck's answers — and the ProbeTargetFailed message naming the cause
 * with the original port and path.
 */
import { createHealthcheckServer } from '../../../pkg/healthcheck/index.js';
import { silentLogger } from '../../../pkg/logger/index.js';
import {
  describeOriginalTarget,
  diagnoseProbeAnswer,
  probeFailureMessage,
  recordProbe,
  type OriginalProbe,
  type ProbeAnswer,
} from '../../../pkg/probes/index.js';
import { LOCAL_REPLY, tlsFailureReply } from '../../../pkg/sandbox/agent/index.js';
import { closedPort, httpRequest } from '../../support/net.js';

const slot = { type: 'readiness' as const, container: 'app', perContainerPath: false };
const http = recordProbe({ kind: 'http', port: 14001, path: '/ready' }, slot, 2);
const originated = recordProbe(
  { kind: 'https', port: 9443, path: '/b' },
  { ...slot, container: 'b', tls: 'originate' },
  1,
);
const passthrough = recordProbe({ kind: 'https', port: 8443, path: '/s' }, slot, 1);
const tcp = recordProbe({ kind: 'tcp', port: 5432 }, slot, 1);
const grpc = recordProbe({ kind: 'grpc', port: 9000 }, slot, 1);

const ENVOY_REFUSED_NEW =
  'upstream connect error or disconnect/reset before headers. retried and the latest reset reason: remote connection failure, transport failure reason: delayed connect error: Connection refused';

const rows: [string, OriginalProbe, ProbeAnswer, string | undefined, string | undefined][] = [
  ['200: passes', http, { status: 200, body: 'ok' }, undefined, undefined],
  ['302: passes (kubelet counts 3xx)', http, { status: 302, body: '' }, undefined, undefined],
  [
    'the app answers 503',
    http,
    { status: 503, body: 'app unhealthy /ready\n' },
    'app status',
    'the app on 127.0.0.1:14001 answered 503',
  ],
  ['the app answers 404', http, { status: 404, body: 'no' }, 'app status', 'answered 404'],
  [
    'Envoy/agent: connection refused (111)',
    http,
    { status: 503, body: LOCAL_REPLY.connectRefused },
    'connection refused',
    'connection refused by 127.0.0.1:14001: nothing listens there',
  ],
  [
    'Envoy (1.30+ wording): connection refused',
    http,
    { status: 503, body: ENVOY_REFUSED_NEW },
    'connection refused',
    'nothing listens there',
  ],
  [
    'Envoy/agent: connect timeout',
    http,
    { status: 503, body: LOCAL_REPLY.connectTimeout },
    'timeout',
    'connecting to the app on 127.0.0.1:14001 timed out',
  ],
  [
    'Envoy/agent: route timeout (UT)',
    http,
    { status: 504, body: LOCAL_REPLY.timeout },
    'timeout',
    'the app on 127.0.0.1:14001 did not answer within 2s',
  ],
  [
    'Envoy/agent: connection termination (UC)',
    http,
    { status: 503, body: LOCAL_REPLY.termination },
    'connection closed',
    'closed the connection before answering',
  ],
  [
    'Envoy/agent: no healthy upstream (UH)',
    http,
    { status: 503, body: LOCAL_REPLY.noHealthyUpstream },
    'proxy configuration',
    'no endpoint',
  ],
  [
    'Envoy/agent: connection failure',
    http,
    { status: 503, body: LOCAL_REPLY.connectFailure },
    'connection failure',
    'connecting to the app on 127.0.0.1:14001 failed',
  ],
  [
    'TLS origination: handshake fails',
    originated,
    { status: 503, body: tlsFailureReply('ERR_SSL_WRONG_VERSION_NUMBER: wrong version number') },
    'TLS failure',
    'the TLS handshake with the app on 127.0.0.1:9443 failed',
  ],
  [
    'TLS origination: the app answers 500 over TLS',
    originated,
    { status: 500, body: 'boom' },
    'app status',
    'answered 500',
  ],
  [
    'passthrough: the app answers 503 over TLS',
    passthrough,
    { status: 503, body: LOCAL_REPLY.connectRefused },
    'app status',
    'answered 503',
  ],
  [
    'passthrough: closed before the handshake',
    passthrough,
    {
      error: {
        code: 'ECONNRESET',
        message: 'Client network socket disconnected before secure TLS connection was established',
      },
    },
    'connection failure',
    'TLS passes through the proxy',
  ],
  [
    'passthrough: the app speaks no TLS',
    passthrough,
    { error: { code: 'EPROTO', message: 'wrong version number' } },
    'TLS failure',
    'the TLS handshake with the app on 127.0.0.1:8443 failed',
  ],
  ['passthrough: no answer in time', passthrough, { timedOut: true }, 'timeout', 'did not answer within 1s'],
  [
    'the probe port refuses (no sidecar config)',
    http,
    { error: { code: 'ECONNREFUSED', message: 'connect ECONNREFUSED' } },
    'probe endpoint unreachable',
    'nothing listens on :15902',
  ],
  ['the probe port does not answer', http, { timedOut: true }, 'timeout', 'no answer on :15902 within 2s'],
  [
    'fsm-healthcheck: refused',
    tcp,
    { status: 503, body: 'Failed to establish connection to 127.0.0.1:5432: connection refused\n' },
    'connection refused',
    'connection refused by 127.0.0.1:5432',
  ],
  [
    'fsm-healthcheck: timed out',
    tcp,
    { status: 503, body: 'Failed to establish connection to 127.0.0.1:5432: timed out after 1000ms\n' },
    'timeout',
    'connecting to the app on 127.0.0.1:5432 timed out',
  ],
  [
    'fsm-healthcheck: gRPC NOT_SERVING',
    grpc,
    { status: 503, body: 'gRPC health check of 127.0.0.1:9000: NOT_SERVING\n' },
    'app status',
    "the app's gRPC health service on 127.0.0.1:9000 answered NOT_SERVING",
  ],
  [
    'fsm-healthcheck: refuses the check',
    tcp,
    { status: 403, body: 'port 5432 is not allowed\n' },
    'probe endpoint unreachable',
    'fsm-healthcheck answered 403',
  ],
];

describe('diagnoseProbeAnswer', () => {
  it.each(rows)('%s', (_name, record, answer, cause, detail) => {
    const got = diagnoseProbeAnswer(record, answer);
    if (cause === undefined) {
      expect(got).toBeUndefined();
      return;
    }
    expect(got?.cause).toBe(cause);
    expect(got?.detail).toContain(detail);
  });
});

describe('probeFailureMessage names the cause, the original target and the rewritten one', () => {
  it.each<[string, OriginalProbe, string]>([
    ['http', http, 'httpGet http://:14001/ready; kubelet calls :15902/fsm-readiness-probe'],
    [
      'https, TLS from the proxy',
      originated,
      'httpGet https://:9443/b; kubelet calls :15902/fsm-readiness-probe/b',
    ],
    ['tcp', tcp, 'tcpSocket :5432; kubelet calls :15904/fsm-healthcheck'],
  ])('%s', (_n, record, tail) => {
    const failure = { cause: 'connection refused' as const, detail: 'x' };
    expect(probeFailureMessage('readiness', 'app', record, failure)).toBe(
      `Readiness probe of container app: connection refused: x (original target ${tail})`,
    );
  });

  it('hooks and the root path', () => {
    const hook = recordProbe(
      { kind: 'http', port: 8080, path: '' },
      { type: 'preStop', container: 'app', perContainerPath: true },
      30,
    );
    expect(describeOriginalTarget(hook)).toBe('httpGet http://:8080/');
    expect(probeFailureMessage('preStop', 'app', hook, { cause: 'timeout', detail: 'y' })).toBe(
      'PreStop hook of container app: timeout: y (original target httpGet http://:8080/; kubelet calls :15903/fsm-prestop-hook/app)',
    );
  });
});

describe('fsm-healthcheck answers are read as they are written', () => {
  it('a real fsm-healthcheck, a closed port: connection refused', async () => {
    const port = await closedPort();
    const server = createHealthcheckServer({
      targetHost: '127.0.0.1',
      dialTimeoutMs: 1000,
      allowedPorts: [port],
      logger: silentLogger(),
    });
    const addr = await server.listen(0, '127.0.0.1');
    try {
      const r = await httpRequest(`http://127.0.0.1:${addr.port}/fsm-healthcheck`, {
        headers: { 'Original-Tcp-Port': String(port) },
      });
      const record = recordProbe({ kind: 'tcp', port }, slot, 1);
      const got = diagnoseProbeAnswer(record, { status: r.status, body: r.body });
      expect(got).toEqual({
        cause: 'connection refused',
        detail: `connection refused by 127.0.0.1:${port}: nothing listens there`,
      });
    } finally {
      await server.stop();
    }
  });
});
