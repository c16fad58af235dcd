/**
 * Issue 17 item 6 on the built fsm-controller, in a process of its own (so the figure is not
 * another test's garbage): 300 connections each pipelining 200 GET /metrics without reading the
 * answers. Printed: the controller's RSS growth; asserted: a generous bound, and that
 * /health/alive still answers.
 */
import { CoreV1Api } from '@kubernetes/client-node';
import { startTestApiServer, type TestApiServer } from '../../support/apiserver.js';
import { controllerReady, startControllerBinary } from '../../support/controller-binary.js';
import type { RunningBinary } from '../../support/process.js';
import { pipelineFlood, rssMiB, timedGet, type Attack } from '../../support/slow-clients.js';

describe('fsm-controller binary: clients pipelining without reading on :9091 (issue 17 item 6)', () => {
  let api: TestApiServer;
  let bin: RunningBinary;
  let port: number;
  const attacks: Attack[] = [];

  beforeAll(async () => {
    api = await startTestApiServer();
    // The control plane's own namespace, as in a cluster: the mesh CA Secret lives there.
    await api.kc.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: 'fsm-system' } } });
    ({ bin, healthPort: port } = await startControllerBinary(api.kubeconfigPath));
    await controllerReady(`http://127.0.0.1:${port}`);
  });
  afterAll(async () => {
    for (const a of attacks.splice(0)) a.destroy();
    bin?.kill('SIGKILL');
    if (bin) await bin.exited;
    await api?.stop();
  });

  it('300 connections pipelining 200 GET /metrics without reading: bounded memory', async () => {
    const pid = bin.child.pid!;
    const before = rssMiB(pid);
    const flood = await pipelineFlood(port, 300, 200, '/metrics');
    attacks.push(flood);
    let peak = rssMiB(pid);
    for (let i = 0; i < 30; i++) {
      await new Promise((r) => setTimeout(r, 100));
      peak = Math.max(peak, rssMiB(pid));
    }
    const probe = await timedGet(`http://127.0.0.1:${port}/health/alive`);
    flood.read();
    await flood.allClosed(5000);
    console.log(
      `pipelined /metrics flood (300 × 200, never read): RSS ${before.toFixed(0)} MiB → peak ` +
        `${peak.toFixed(0)} MiB (+${(peak - before).toFixed(0)} MiB); connections closed by the server ` +
        `${flood.closed()}/${flood.opened}; /health/alive ${'status' in probe ? probe.status : probe.error} in ` +
        `${probe.ms.toFixed(0)} ms`,
    );
    expect('status' in probe && probe.status).toBe(200);
    expect(peak - before).toBeLessThan(50);
  }, 60_000);
});
