/** The agent entry's flag parsers. */
import { parseAdsAddress, parseIpAddress, parsePortMap } from '../../../../pkg/sandbox/agent/cli.js';

describe('agent flags', () => {
  test.each([
    ['127.0.0.1:15128', '127.0.0.1:15128'],
    ['fsm-controller.fsm-system.svc:15128', 'fsm-controller.fsm-system.svc:15128'],
    [' 127.0.0.1:1 ', '127.0.0.1:1'],
  ])('ads address %s', (v, expected) => expect(parseAdsAddress(v)).toBe(expected));

  test.each(['127.0.0.1', '127.0.0.1:0', '127.0.0.1:65536', ':15128', 'http://x:1', 'a b:1'])(
    'bad ads address %s',
    (v) => expect(() => parseAdsAddress(v)).toThrow('must be host:port'),
  );

  test.each([
    ['127.0.5.1', '127.0.5.1'],
    ['::1', '::1'],
  ])('ip %s', (v, expected) => expect(parseIpAddress(v)).toBe(expected));

  test.each(['localhost', '127.0.0.256', '', '127.0.0.1:80'])('bad ip %s', (v) =>
    expect(() => parseIpAddress(v)).toThrow('must be an IP address'),
  );

  test.each<[string, Record<number, number>]>([
    ['', {}],
    ['15901=0', { 15901: 0 }],
    ['15901=0, 15902=16002', { 15901: 0, 15902: 16002 }],
    ['15901=1,15901=2', { 15901: 2 }],
  ])('port map %s', (v, expected) => expect(parsePortMap(v)).toEqual(expected));

  test.each([
    ['15901', "'15901' is not <port>=<port>"],
    ['15901=x', "'15901=x' is not <port>=<port>"],
    ['0=1', "'0=1' is not <port>=<port>"],
    ['15901=70000', "'15901=70000' is not <port>=<port>"],
    ['15901=0,,', "'' is not <port>=<port>"],
  ])('bad port map %s', (v, message) => expect(() => parsePortMap(v)).toThrow(message));
});
