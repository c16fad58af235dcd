/**
 * The inbound mTLS mode of a meshed pod: pod annotation, else namespace annotation, else strict; a
 * bad value is served strict with a problem naming where it is and its value. And the port protocol
 * rule that picks an HTTP connection manager or tcp_proxy per declared port.
 */
import { desiredProxy, type DesiredProxy } from '../../../pkg/catalog/index.js';
import { inboundMode } from '../../../pkg/catalog/inbound-mode.js';
import { portProtocol } from '../../../pkg/catalog/ports.js';
import { INBOUND_MTLS_ANNOTATION } from '../../../pkg/constants/index.js';
import { http, injectedPod } from '../../support/pods.js';

const ns = (value?: string) => ({
  metadata: {
    name: 'shop',
    ...(value !== undefined ? { annotations: { [INBOUND_MTLS_ANNOTATION]: value } } : {}),
  },
});
const ann = (value?: string) => (value !== undefined ? { [INBOUND_MTLS_ANNOTATION]: value } : undefined);

describe('inboundMode', () => {
  it.each<[string, string | undefined, string | undefined, string, string, RegExp | undefined]>([
    ['neither: strict by default', undefined, undefined, 'strict', 'default', undefined],
    ['namespace permissive', undefined, 'permissive', 'permissive', 'namespace', undefined],
    ['namespace strict', undefined, 'strict', 'strict', 'namespace', undefined],
    ['pod wins over namespace', 'strict', 'permissive', 'strict', 'pod', undefined],
    ['pod permissive in a strict namespace', 'permissive', 'strict', 'permissive', 'pod', undefined],
    ['case and spaces are forgiven', ' Permissive ', undefined, 'permissive', 'pod', undefined],
    [
      'a bad pod value: strict, naming pod, annotation and value',
      'off',
      'permissive',
      'strict',
      'pod',
      /^pod shop\/p: annotation flomesh.io\/inbound-mtls="off" is not one of strict, permissive; serving strict$/,
    ],
    [
      'a bad namespace value: strict, naming the namespace',
      undefined,
      'disabled',
      'strict',
      'namespace',
      /namespace shop: annotation flomesh.io\/inbound-mtls="disabled" is not one of strict, permissive/,
    ],
    ['an empty value is a bad value', '', undefined, 'strict', 'pod', /inbound-mtls=""/],
  ])('%s', (_n, podValue, nsValue, mode, source, problem) => {
    const r = inboundMode('shop/p', ann(podValue), ns(nsValue));
    expect(r.mode).toBe(mode);
    expect(r.source).toBe(source);
    if (problem) expect(r.problem).toMatch(problem);
    else expect(r.problem).toBeUndefined();
  });
});

describe('desiredProxy serves the mode on every app port', () => {
  const pod = (podValue?: string) =>
    injectedPod({
      name: 'p',
      namespace: 'shop',
      containers: [{ name: 'app', ports: [8080], liveness: http(8080, '/healthz') }],
      ...(podValue !== undefined ? { annotations: { [INBOUND_MTLS_ANNOTATION]: podValue } } : {}),
    });
  const chains = (d: DesiredProxy) =>
    d.resources.listeners.find((l) => l.name === 'inbound_8080')!.filter_chains.map((c) => c.name);

  it('strict by default; permissive from the namespace; the view says which and from where', () => {
    const strict = desiredProxy(pod()) as DesiredProxy;
    expect(strict.inbound).toEqual({ mode: 'strict', source: 'default' });
    expect(chains(strict)).toEqual(['inbound_8080_mtls']);
    const permissive = desiredProxy(pod(), { namespace: ns('permissive') }) as DesiredProxy;
    expect(permissive.inbound).toEqual({ mode: 'permissive', source: 'namespace' });
    expect(chains(permissive)).toEqual(['inbound_8080_mtls', 'inbound_8080_plaintext']);
  });

  it('a bad value: strict chains, and the problem is reported with the others', () => {
    const d = desiredProxy(pod('yes'), { namespace: ns('permissive') }) as DesiredProxy;
    expect(chains(d)).toEqual(['inbound_8080_mtls']);
    expect(d.problems).toEqual([expect.stringMatching(/annotation flomesh.io\/inbound-mtls="yes"/)]);
  });

  it('the pod IP (status.podIP) is the inbound listeners’ address; before it is known, 0.0.0.0', () => {
    const addr = (d: DesiredProxy) =>
      d.resources.listeners.find((l) => l.name === 'inbound_8080')!.address.socket_address.address;
    expect(addr(desiredProxy(pod()) as DesiredProxy)).toBe('0.0.0.0');
    const withIp = { ...pod(), status: { podIP: '10.244.0.9' } };
    expect(addr(desiredProxy(withIp) as DesiredProxy)).toBe('10.244.0.9');
  });

  it('the trust domain reaches the client SAN check', () => {
    const d = desiredProxy(pod(), { trustDomain: 'prod.example' }) as DesiredProxy;
    const ctx = (
      d.resources.listeners.find((l) => l.name === 'inbound_8080')!.filter_chains[0]!.transport_socket!
        .typed_config as any
    ).common_tls_context;
    expect(ctx.combined_validation_context.default_validation_context.match_typed_subject_alt_names).toEqual([
      { san_type: 'URI', matcher: { prefix: 'spiffe://prod.example/' } },
    ]);
  });
});

describe('portProtocol (Istio’s port naming)', () => {
  it.each<[string | undefined, 'http' | 'tcp']>([
    ['http', 'http'],
    ['HTTP', 'http'],
    ['http-web', 'http'],
    ['http2', 'http'],
    ['grpc', 'http'],
    ['grpc-api', 'http'],
    ['grpc-web', 'http'],
    ['h2c', 'http'],
    ['https', 'tcp'], // TLS of the app's own: its bytes are passed through
    ['httpx', 'tcp'],
    ['web', 'tcp'],
    ['db', 'tcp'],
    ['', 'tcp'],
    [undefined, 'tcp'],
  ])('%j → %s', (name, protocol) => {
    expect(portProtocol(name)).toBe(protocol);
  });
});
