/**
 * Issue 17 items 5 and 6 on the built fsm-healthcheck (:15904 in every meshed pod): slowloris and
 * idle connections are closed within the documented timeouts while kubelet's rewritten probe keeps
 * getting its answer, and a client pipelining checks without reading them gets at most
 * HTTP_MAX_PIPELINED_REQUESTS answered (each one a TCP dial) before its connection is closed.
 */
import {
  HTTP_HEADERS_TIMEOUT_MS,
  HTTP_IDLE_TIMEOUT_MS,
  HTTP_MAX_PIPELINED_REQUESTS,
} from '../../../pkg/constants/index.js';
import { startTcpListener } from '../../support/net.js';
import { startBinary, type RunningBinary } from '../../support/process.js';
import {
  idleConnections,
  pipelineFlood,
  slowloris,
  spread,
  timedGet,
  type Attack,
} from '../../support/slow-clients.js';

describe('fsm-healthcheck binary: slow, idle and pipelining clients (issue 17 items 5, 6)', () => {
  let bin: RunningBinary;
  let port: number;
  let target: Awaited<ReturnType<typeof startTcpListener>>;
  const attacks: Attack[] = [];

  beforeAll(async () => {
    target = await startTcpListener();
    bin = startBinary('fsm-healthcheck', ['--port', '0', '--bind-address', '127.0.0.1'], {
      FSM_HEALTHCHECK_ALLOWED_PORTS: String(target.port),
    });
    port = Number(
      String((await bin.waitForLog(/fsm-healthcheck listening/))['address'])
        .split(':')
        .pop(),
    );
  });
  afterEach(() => {
    for (const a of attacks.splice(0)) a.destroy();
  });
  afterAll(async () => {
    bin?.kill('SIGKILL');
    if (bin) await bin.exited;
    await target?.close();
  });

  const probe = () => timedGet(`http://127.0.0.1:${port}/fsm-healthcheck`).then((r) => r); // status 400 (no header): answered

  it('closes slowloris and idle connections within the timeouts; probes answer meanwhile', async () => {
    const loris = await slowloris(port, 300, { path: '/fsm-healthcheck' });
    const idle = await idleConnections(port, 300);
    attacks.push(loris, idle);
    const lines: string[] = [];
    let answered = 0;
    for (let i = 0; i < 6; i++) {
      const r = await probe();
      lines.push(`${'status' in r ? r.status : r.error} in ${r.ms.toFixed(0)} ms`);
      if ('status' in r && r.status === 400) answered++;
      await new Promise((res) => setTimeout(res, 500));
    }
    const bound = 2 * Math.max(HTTP_HEADERS_TIMEOUT_MS, HTTP_IDLE_TIMEOUT_MS) + 5000;
    const closed = await Promise.all([loris.allClosed(bound), idle.allClosed(bound)]);
    console.log(
      `fsm-healthcheck under attack: probes ${lines.join('; ')}\n` +
        `slowloris closed ${loris.closed()}/${loris.opened} (${spread(loris.closeTimes())}); ` +
        `idle closed ${idle.closed()}/${idle.opened} (${spread(idle.closeTimes())}); bound ${bound / 1000} s`,
    );
    expect(answered).toBe(6);
    expect(closed).toEqual([true, true]);
  }, 120_000);

  it('a client pipelining 200 checks without reading gets its connection closed after a few dials', async () => {
    const before = target.accepted();
    const flood = await pipelineFlood(port, 20, 200, '/fsm-healthcheck', {
      'Original-Tcp-Port': String(target.port),
    });
    attacks.push(flood);
    await new Promise((r) => setTimeout(r, 2000));
    const dials = target.accepted() - before;
    flood.read();
    const closed = await flood.allClosed(5000);
    console.log(
      `fsm-healthcheck pipelining (20 connections × 200 checks, never read): ${dials} dials ` +
        `(${(dials / 20).toFixed(1)} per connection); connections closed by the server ${flood.closed()}/20`,
    );
    expect(closed).toBe(true);
    expect(dials).toBeLessThanOrEqual(20 * (HTTP_MAX_PIPELINED_REQUESTS + 1));
  }, 60_000);
});
