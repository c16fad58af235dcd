/** PROXY protocol v1 (loopback mode's original-destination seam): header format, parse table, reader on real sockets. */
import net from 'node:net';
import {
  parseProxyProtocolHeader,
  proxyProtocolHeader,
  proxyProtocolOriginalDestination,
} from '../../../../pkg/sandbox/agent/proxy-protocol.js';

describe('PROXY v1 headers', () => {
  it('formats TCP4 and TCP6', () => {
    expect(
      proxyProtocolHeader({ address: '127.0.0.2', port: 5000 }, { address: '10.96.0.1', port: 80 }),
    ).toBe('PROXY TCP4 127.0.0.2 10.96.0.1 5000 80\r\n');
    expect(proxyProtocolHeader({ address: '::1', port: 1 }, { address: 'fd00::1', port: 443 })).toBe(
      'PROXY TCP6 ::1 fd00::1 1 443\r\n',
    );
  });

  it.each<[string, string | { address: string; port: number }]>([
    ['PROXY TCP4 1.2.3.4 10.0.0.1 1234 8080', { address: '10.0.0.1', port: 8080 }],
    ['PROXY TCP6 ::1 fd00::2 1 443', { address: 'fd00::2', port: 443 }],
    ['PROXY UNKNOWN', 'PROXY UNKNOWN: the header names no destination'],
    ['GET / HTTP/1.1', 'not a PROXY protocol header: "GET / HTTP/1.1"'],
    ['PROXY TCP4 1.2.3.4 10.0.0.1 1234', 'malformed PROXY header: "PROXY TCP4 1.2.3.4 10.0.0.1 1234"'],
    ['PROXY TCP4 ::1 10.0.0.1 1 2', 'PROXY header addresses are not TCP4: PROXY TCP4 ::1 10.0.0.1 1 2'],
    ['PROXY TCP4 1.2.3.4 10.0.0.1 1 0', 'PROXY header ports are invalid: PROXY TCP4 1.2.3.4 10.0.0.1 1 0'],
    [
      'PROXY TCP4 1.2.3.4 10.0.0.1 1 70000',
      'PROXY header ports are invalid: PROXY TCP4 1.2.3.4 10.0.0.1 1 70000',
    ],
  ])('%s', (line, want) => {
    if (typeof want === 'string') expect(() => parseProxyProtocolHeader(line)).toThrow(want);
    else expect(parseProxyProtocolHeader(line)).toEqual(want);
  });
});

describe('the seam on a real socket', () => {
  async function accept(
    send: (c: net.Socket) => void,
    timeoutMs = 2000,
  ): Promise<{ dest?: unknown; rest?: string; error?: string }> {
    const od = proxyProtocolOriginalDestination({ timeoutMs });
    return new Promise((resolve) => {
      const server = net.createServer((socket) => {
        od.prepare!(socket).then(
          () => {
            const dest = od(socket);
            let rest = '';
            socket.on('data', (d: Buffer) => (rest += d.toString()));
            socket.on('end', () => {
              resolve({ dest, rest });
              server.close();
            });
            socket.resume();
          },
          (err: Error) => {
            resolve({ error: err.message });
            socket.destroy();
            server.close();
          },
        );
      });
      server.listen(0, '127.0.0.1', () => {
        const c = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1', () => send(c));
        c.on('error', () => undefined);
      });
    });
  }

  it('the header names the destination; the bytes after it stay for the next reader (split writes too)', async () => {
    const r = await accept((c) => {
      c.write('PROXY TCP4 127.0.0.1 10.96.0.9 ');
      setTimeout(() => c.end('1 8080\r\nGET / HTTP/1.1\r\n\r\n'), 20);
    });
    expect(r).toEqual({ dest: { address: '10.96.0.9', port: 8080 }, rest: 'GET / HTTP/1.1\r\n\r\n' });
  });

  it('no header: refused with the reason', async () => {
    expect(await accept((c) => c.end('GET / HTTP/1.1\r\n\r\n'))).toEqual({
      error: 'not a PROXY protocol header: "GET / HTTP/1.1"',
    });
  });

  it('silence: refused after the timeout', async () => {
    expect(await accept(() => undefined, 50)).toEqual({ error: 'no PROXY header within 50 ms' });
  });

  it('announces peers on the inbound capture port (15003) by default', () => {
    expect(proxyProtocolOriginalDestination().announceTo?.port).toBe(15003);
  });
});
