/**
 * The agent's mesh mTLS on real sockets (127.0.0.1, port 0) with certificates of a real mesh CA:
 * inbound termination admits only a client whose certificate chains to the bundle and whose URI SAN
 * matches; outbound origination verifies the server's SPIFFE ID exactly. Failures name the reason.
 */
import net from 'node:net';
import tls from 'node:tls';
import { MeshAuthority, newMeshCaData, readMeshCa } from '../../../../pkg/identity/index.js';
import type { DownstreamTlsModel, SecretModel } from '../../../../pkg/sandbox/agent/model.js';
import { terminateTls, uriSans, sanMatches } from '../../../../pkg/sandbox/agent/peer-tls.js';
import { upgradeUpstreamTls } from '../../../../pkg/sandbox/agent/upstream.js';

const TD = 'cluster.local';
let mesh: MeshAuthority;
let other: MeshAuthority;
const secrets = new Map<string, SecretModel>();

async function authority(): Promise<MeshAuthority> {
  const r = readMeshCa(await newMeshCaData('fsm'), 'test');
  if (!r.ok) throw new Error(r.problem);
  return MeshAuthority.load(r.material);
}

async function workload(a: MeshAuthority, sa: string): Promise<{ certPem: string; keyPem: string }> {
  return a.workload({ trustDomain: TD, namespace: 'ns', serviceAccount: sa, validityMs: 3_600_000 });
}

function cert(name: string, pair: { certPem: string; keyPem: string }): SecretModel {
  return {
    name,
    kind: 'tls_certificate',
    certPem: pair.certPem,
    keyPem: pair.keyPem,
    notAfter: 0,
    serial: '',
    uris: [],
  };
}

const STRICT: DownstreamTlsModel = {
  certSecret: 'server-cert',
  requireClientCertificate: true,
  verify: { bundleSecret: 'bundle', sans: [{ kind: 'prefix', value: `spiffe://${TD}/` }] },
};

beforeAll(async () => {
  mesh = await authority();
  other = await authority();
  secrets.set('server-cert', cert('server-cert', await workload(mesh, 'server')));
  secrets.set('client-cert', cert('client-cert', await workload(mesh, 'client')));
  secrets.set('bundle', { name: 'bundle', kind: 'validation_context', bundlePem: mesh.bundlePem, roots: 1 });
}, 30_000);

/** A server terminating with `model`; each accepted connection's outcome. */
async function server(
  model: DownstreamTlsModel,
): Promise<{ port: number; outcome: Promise<string>; close(): void }> {
  let report: (s: string) => void = () => undefined;
  const outcome = new Promise<string>((r) => (report = r));
  const s = net.createServer((socket) => {
    terminateTls(socket, model, (n) => secrets.get(n), 5000).then(
      ({ socket: secure, peerUri }) => {
        report(`ok ${peerUri ?? '-'}`);
        secure.end('hello');
      },
      (err: Error) => report(`refused: ${err.message}`),
    );
  });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return { port: (s.address() as net.AddressInfo).port, outcome, close: () => s.close() };
}

function client(port: number, options: tls.ConnectionOptions): Promise<void> {
  return new Promise((resolve) => {
    const c = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false, ...options });
    c.on('error', () => resolve());
    c.on('close', () => resolve());
    c.on('data', () => undefined);
  });
}

describe('inbound termination (strict)', () => {
  it('a mesh workload certificate: admitted, its SPIFFE ID known', async () => {
    const s = await server(STRICT);
    const c = await workload(mesh, 'client');
    await client(s.port, { cert: c.certPem, key: c.keyPem });
    expect(await s.outcome).toBe(`ok spiffe://${TD}/ns/ns/sa/client`);
    s.close();
  });

  it('no client certificate: refused', async () => {
    const s = await server(STRICT);
    await client(s.port, {});
    expect(await s.outcome).toMatch(/^refused: /);
    s.close();
  });

  it('a certificate of another CA: refused', async () => {
    const s = await server(STRICT);
    const c = await workload(other, 'client');
    await client(s.port, { cert: c.certPem, key: c.keyPem });
    expect(await s.outcome).toMatch(
      /^refused: client certificate \(issuer .*\) is not signed by the mesh trust bundle$/,
    );
    s.close();
  });

  it('a mesh certificate whose SAN matches none of the matchers: refused, naming the SAN', async () => {
    const s = await server({
      ...STRICT,
      verify: { bundleSecret: 'bundle', sans: [{ kind: 'exact', value: `spiffe://${TD}/ns/ns/sa/only` }] },
    });
    const c = await workload(mesh, 'client');
    await client(s.port, { cert: c.certPem, key: c.keyPem });
    expect(await s.outcome).toBe(
      `refused: client certificate SAN ["spiffe://${TD}/ns/ns/sa/client"] matches none of spiffe://${TD}/ns/ns/sa/only`,
    );
    s.close();
  });

  it('the SDS certificate has not arrived: refused, naming the secret', async () => {
    const s = await server({ ...STRICT, certSecret: 'missing' });
    await client(s.port, {});
    expect(await s.outcome).toBe('refused: SDS secret "missing" (tls_certificate) has not arrived');
    s.close();
  });
});

describe('outbound origination', () => {
  async function tlsServer(pair: {
    certPem: string;
    keyPem: string;
  }): Promise<{ port: number; close(): void }> {
    const s = tls.createServer({ cert: pair.certPem, key: pair.keyPem }, (c) => c.end('x'));
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    return { port: (s.address() as net.AddressInfo).port, close: () => s.close() };
  }
  const connect = (port: number): Promise<net.Socket> =>
    new Promise((r) => {
      const s = net.connect(port, '127.0.0.1', () => r(s));
    });
  const model = (id: string) => ({
    alpn: [],
    certSecret: 'client-cert',
    verify: { bundleSecret: 'bundle', sans: [{ kind: 'exact' as const, value: id }] },
  });

  it('the expected SPIFFE ID: connected', async () => {
    const s = await tlsServer(await workload(mesh, 'server'));
    const secure = await upgradeUpstreamTls(
      await connect(s.port),
      model(`spiffe://${TD}/ns/ns/sa/server`),
      5000,
      (n) => secrets.get(n),
    );
    expect(uriSans(secure.getPeerCertificate())).toEqual([`spiffe://${TD}/ns/ns/sa/server`]);
    secure.destroy();
    s.close();
  });

  it('another identity of the mesh: refused, naming it', async () => {
    const s = await tlsServer(await workload(mesh, 'impostor'));
    await expect(
      upgradeUpstreamTls(await connect(s.port), model(`spiffe://${TD}/ns/ns/sa/server`), 5000, (n) =>
        secrets.get(n),
      ),
    ).rejects.toThrow(
      `server certificate SAN ["spiffe://${TD}/ns/ns/sa/impostor"] matches none of spiffe://${TD}/ns/ns/sa/server`,
    );
    s.close();
  });

  it('a server of another CA: refused', async () => {
    const s = await tlsServer(await workload(other, 'server'));
    await expect(
      upgradeUpstreamTls(await connect(s.port), model(`spiffe://${TD}/ns/ns/sa/server`), 5000, (n) =>
        secrets.get(n),
      ),
    ).rejects.toThrow(/certificate/i);
    s.close();
  });
});

describe('sanMatches', () => {
  it.each<[string[], { kind: 'exact' | 'prefix'; value: string }[], boolean]>([
    [['spiffe://td/ns/a/sa/x'], [], true],
    [['spiffe://td/ns/a/sa/x'], [{ kind: 'exact', value: 'spiffe://td/ns/a/sa/x' }], true],
    [['spiffe://td/ns/a/sa/x'], [{ kind: 'exact', value: 'spiffe://td/ns/a/sa/y' }], false],
    [['spiffe://td/ns/a/sa/x'], [{ kind: 'prefix', value: 'spiffe://td/' }], true],
    [['spiffe://other/ns/a/sa/x'], [{ kind: 'prefix', value: 'spiffe://td/' }], false],
    [[], [{ kind: 'prefix', value: 'spiffe://td/' }], false],
  ])('%j against %j: %s', (uris, sans, want) => {
    expect(sanMatches(uris, sans)).toBe(want);
  });
});
