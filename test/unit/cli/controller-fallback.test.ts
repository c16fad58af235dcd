/**
 * fsm proxy get config / fsm check probes reach the controller through the API server's service
 * proxy, and through a pod port-forward only when the controller itself refuses the service proxy's
 * (non-loopback) peer with 403: a table over what the first path answers.
 */
import { ControllerError, type ControllerClient } from '../../../pkg/cli/controller.js';
import { withPortForwardFallback } from '../../../pkg/cli/controller-port-forward.js';

function fake(where: string, answer: unknown | ControllerError): ControllerClient & { calls: string[] } {
  const calls: string[] = [];
  return {
    where,
    calls,
    getJson(path) {
      calls.push(path);
      return answer instanceof ControllerError ? Promise.reject(answer) : Promise.resolve(answer);
    },
  };
}

describe('withPortForwardFallback', () => {
  test.each([
    ['the service proxy answers', { ok: 'proxy' }, 'proxy', 0, { ok: 'proxy' }],
    [
      "the controller refuses the API server's peer (403): port-forward",
      new ControllerError('answers loopback clients only', 403, false),
      'port-forward',
      1,
      { ok: 'forwarded' },
    ],
  ])('%s', async (_name, first, expectedWhere, forwardCalls, expected) => {
    const proxy = fake('proxy', first);
    const forward = fake('port-forward', { ok: 'forwarded' });
    const c = withPortForwardFallback(proxy, () => forward);
    expect(await c.getJson('/debug/proxies')).toEqual(expected);
    expect(c.where).toBe(expectedWhere);
    expect(forward.calls).toHaveLength(forwardCalls);
    // The choice sticks: the next request goes straight to the same path.
    await c.getJson('/debug/proxies/ns/pod');
    expect(proxy.calls).toHaveLength(expectedWhere === 'proxy' ? 2 : 1);
    expect(forward.calls).toHaveLength(forwardCalls === 0 ? 0 : 2);
  });

  test.each([
    ['the API server refuses (403 Status: RBAC)', new ControllerError('forbidden', 403, true)],
    [
      'the Service does not exist (404)',
      new ControllerError('services "fsm-controller" not found', 404, true),
    ],
    ['the controller has no such proxy (404)', new ControllerError('not found', 404, false)],
    ['the controller is unreachable', new ControllerError('no answer within 10000 ms')],
  ])('%s: the error stands, no port-forward', async (_name, err) => {
    const forward = fake('port-forward', { ok: 'forwarded' });
    const c = withPortForwardFallback(fake('proxy', err), () => forward);
    await expect(c.getJson('/debug/proxies')).rejects.toBe(err);
    expect(forward.calls).toHaveLength(0);
  });
});
