/**
 * The built agent entry as the sandbox will spawn it: flags, a probe served through the pod
 * address, SIGTERM → exit 0, bad flags → exit 2 naming the flag.
 */
import { AdsServer, SnapshotCache } from '../../../../pkg/ads/index.js';
import { LIVENESS_PROBE_PATH } from '../../../../pkg/constants/index.js';
import { httpRequest } from '../../../support/net.js';
import { proxySnapshot, startHttpApp, type RecordingApp } from '../../../support/agent.js';
import { startAgentProcess, type AgentProcess } from '../../../support/agent-process.js';

const POD = '127.0.63.1';
let server: AdsServer;
let app: RecordingApp;
let proc: AgentProcess | undefined;

beforeEach(async () => {
  server = new AdsServer({ cache: new SnapshotCache() });
  await server.start({ port: 0, host: '127.0.0.1' });
  app = await startHttpApp(POD);
});

afterEach(async () => {
  if (proc) {
    proc.kill('SIGKILL');
    await proc.exited;
    proc = undefined;
  }
  await app.close();
  await server.stop(0);
});

test('serves the liveness probe from the controller config, then stops on SIGTERM with exit 0', async () => {
  server.cache.setSnapshot(
    'cli-node',
    proxySnapshot({
      probes: [
        {
          type: 'liveness',
          http: [
            {
              container: 'c',
              matchPath: LIVENESS_PROBE_PATH,
              originalPath: '/alive',
              port: app.port,
              headers: [],
              timeoutSeconds: 1,
            },
          ],
        },
      ],
      inboundPorts: [],
    }),
  );
  proc = startAgentProcess([
    '--ads-address',
    `127.0.0.1:${server.port}`,
    '--node-id',
    'cli-node',
    '--pod-address',
    POD,
    '--port-map',
    '15901=0',
    '--loopback-to-pod',
  ]);
  const bound = await proc.waitForLog(
    (l) => l.message === 'listener bound' && l.listener === 'liveness_listener',
  );
  expect(String(bound.address)).toMatch(/^127\.0\.63\.1:\d+$/);
  expect(bound.component).toBe('probe-agent');
  const res = await httpRequest(`http://${String(bound.address)}${LIVENESS_PROBE_PATH}`);
  expect(res.status).toBe(200);
  expect(app.requests.map((r) => r.url)).toEqual(['/alive']);
  proc.kill('SIGTERM');
  expect(await proc.exited).toBe(0);
  proc = undefined;
});

// One bad flag through the real process (every parser is table-tested in test/unit/sandbox/agent/cli.test.ts).
test.each([
  [
    ['--ads-address', '127.0.0.1:1', '--node-id', 'n', '--pod-address', 'pod'],
    "option '--pod-address <ip>' argument 'pod' is invalid",
  ],
])('bad flags %j exit 2 naming the flag', async (args, message) => {
  proc = startAgentProcess(args);
  expect(await proc.exited).toBe(2);
  expect(proc.stderr()).toContain(message);
  proc = undefined;
});
