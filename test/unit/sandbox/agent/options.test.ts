/** startProbeAgent refuses bad options before opening anything, naming the option and the value. */
import { startProbeAgent, type ProbeAgentOptions } from '../../../../pkg/sandbox/agent/index.js';

const good: ProbeAgentOptions = { adsAddress: '127.0.0.1:15128', nodeId: 'uuid', podAddress: '127.0.5.1' };

describe('startProbeAgent options', () => {
  test.each<[Partial<ProbeAgentOptions>, string]>([
    [{ nodeId: '' }, 'nodeId: must be a non-empty string, got ""'],
    [{ podAddress: 'pod-a' }, 'podAddress: must be an IP address, got "pod-a"'],
    [{ podAddress: '127.0.0.1:80' }, 'podAddress: must be an IP address, got "127.0.0.1:80"'],
    [{ adsAddress: 'controller' }, 'adsAddress: must be host:port, got "controller"'],
    [{ portMap: { 15901: -1 } }, 'portMap: invalid entry 15901 → -1'],
    [{ portMap: { 0: 1 } }, 'portMap: invalid entry 0 → 1'],
    [{ portMap: { 15901: 70000 } }, 'portMap: invalid entry 15901 → 70000'],
    [
      { endpointHostMap: { localhost: '127.0.5.1' } },
      'endpointHostMap: entries must map an IP to an IP, got localhost → 127.0.5.1',
    ],
    [
      { endpointHostMap: { '127.0.0.1': 'pod' } },
      'endpointHostMap: entries must map an IP to an IP, got 127.0.0.1 → pod',
    ],
  ])('%o', async (bad, message) => {
    await expect(startProbeAgent({ ...good, ...bad })).rejects.toThrow(message);
  });
});
