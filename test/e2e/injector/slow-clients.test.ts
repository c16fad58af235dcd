/**
 * Issue 17 item 5 on the built fsm-injector: TCP connections that never send a TLS ClientHello,
 * slowloris over TLS on the webhook, and idle connections on its metrics port are all closed
 * within the documented timeouts, while GET /healthz keeps answering (as kube-apiserver and
 * kubelet need). Figures printed; bounds generous.
 */
import {
  HTTP_HEADERS_TIMEOUT_MS,
  HTTP_IDLE_TIMEOUT_MS,
  TLS_HANDSHAKE_TIMEOUT_MS,
} from '../../../pkg/constants/index.js';
import { startInjectorBinary, type ServingInjector } from '../../support/injector-binary.js';
import { idleConnections, slowloris, spread, timedGet, type Attack } from '../../support/slow-clients.js';

describe('fsm-injector binary: slow and idle clients (issue 17 item 5)', () => {
  let inj: ServingInjector;
  const attacks: Attack[] = [];

  beforeAll(async () => {
    inj = await startInjectorBinary();
  });
  afterAll(async () => {
    for (const a of attacks.splice(0)) a.destroy();
    await inj?.stop();
  });

  it('closes silent TLS connections, TLS slowloris and idle metrics connections; /healthz answers meanwhile', async () => {
    const noHello = await idleConnections(inj.port, 300);
    const loris = await slowloris(inj.port, 200, { tls: { ca: inj.ca }, path: '/healthz' });
    const idleMetrics = await idleConnections(inj.metricsPort, 200);
    attacks.push(noHello, loris, idleMetrics);
    const lines: string[] = [];
    let answered = 0;
    for (let i = 0; i < 6; i++) {
      const r = await timedGet(`https://127.0.0.1:${inj.port}/healthz`, { ca: inj.ca });
      lines.push(`${'status' in r ? r.status : r.error} in ${r.ms.toFixed(0)} ms`);
      if ('status' in r && r.status === 200) answered++;
      await new Promise((res) => setTimeout(res, 500));
    }
    const bound =
      2 * Math.max(TLS_HANDSHAKE_TIMEOUT_MS, HTTP_HEADERS_TIMEOUT_MS, HTTP_IDLE_TIMEOUT_MS) + 5000;
    const closed = await Promise.all([
      noHello.allClosed(bound),
      loris.allClosed(bound),
      idleMetrics.allClosed(bound),
    ]);
    console.log(
      `webhook /healthz under attack: ${lines.join('; ')}\n` +
        `no ClientHello closed ${noHello.closed()}/${noHello.opened} (${spread(noHello.closeTimes())}); ` +
        `TLS slowloris closed ${loris.closed()}/${loris.opened} (${spread(loris.closeTimes())}); ` +
        `idle metrics closed ${idleMetrics.closed()}/${idleMetrics.opened} (${spread(idleMetrics.closeTimes())}); ` +
        `bound ${bound / 1000} s`,
    );
    expect(answered).toBe(6);
    expect(closed).toEqual([true, true, true]);
  }, 120_000);
});
