/**
 * The agent's cluster transport sockets and path_separated_prefix routes (issue 19 items 1 and 7):
 * TLS without verification is served; mTLS (issue 15) only with SDS material over the ADS; anything
 * else that asks to verify or to present a certificate is refused by name (never silently
 * weakened); a separated prefix matches at a `/` boundary only.
 */
import {
  CLUSTER_TYPE_URL,
  UPSTREAM_TLS_CONTEXT_TYPE_URL,
  decodeMessage,
  encodeMessage,
  packAny,
  type PlainMessage,
} from '../../../../../pkg/envoy/index.js';
import { SDS_TRUST_BUNDLE_NAME, SDS_WORKLOAD_CERT_NAME } from '../../../../../pkg/constants/index.js';
import { outboundMtlsTransportSocket } from '../../../../../pkg/envoy/builders/index.js';
import { routeMatches } from '../../../../../pkg/sandbox/agent/routing.js';
import { parseCluster, parseRouteConfiguration } from '../../../../../pkg/sandbox/agent/xds-config.js';
import type { RouteModel } from '../../../../../pkg/sandbox/agent/model.js';

function cluster(transportSocket: PlainMessage | undefined): PlainMessage {
  const c: PlainMessage = {
    name: 'c',
    type: 'STATIC',
    connect_timeout: { seconds: 1 },
    load_assignment: {
      cluster_name: 'c',
      endpoints: [
        {
          lb_endpoints: [
            { endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: 8443 } } } },
          ],
        },
      ],
    },
  };
  if (transportSocket) c.transport_socket = transportSocket;
  return decodeMessage(CLUSTER_TYPE_URL, encodeMessage(CLUSTER_TYPE_URL, c));
}

const tls = (ctx: PlainMessage): PlainMessage => ({
  name: 'envoy.transport_sockets.tls',
  typed_config: packAny(UPSTREAM_TLS_CONTEXT_TYPE_URL, ctx),
});

describe('cluster transport_socket', () => {
  it.each<[string, PlainMessage | undefined, unknown]>([
    ['none: plain TCP', undefined, undefined],
    ["fsm's probe TLS (no validation context)", tls({ common_tls_context: {} }), { alpn: [] }],
    [
      'with SNI and ALPN',
      tls({ sni: 'app.local', common_tls_context: { alpn_protocols: ['http/1.1'] } }),
      { sni: 'app.local', alpn: ['http/1.1'] },
    ],
    [
      "fsm's mesh mTLS (SDS certificate, SDS bundle, exact SPIFFE IDs)",
      outboundMtlsTransportSocket({
        spiffeIds: ['spiffe://td/ns/a/sa/x'],
        namespacePrefix: 'spiffe://td/ns/a/sa/',
      }) as unknown as PlainMessage,
      {
        alpn: [],
        certSecret: SDS_WORKLOAD_CERT_NAME,
        verify: {
          bundleSecret: SDS_TRUST_BUNDLE_NAME,
          sans: [{ kind: 'exact', value: 'spiffe://td/ns/a/sa/x' }],
        },
        minVersion: 'TLSv1.2',
      },
    ],
  ])('accepted: %s', (_n, ts, want) => {
    expect(parseCluster(cluster(ts)).tls).toEqual(want);
  });

  it.each<[string, PlainMessage, string]>([
    [
      'an inline validation context (verification asked for, not over SDS)',
      tls({ common_tls_context: { validation_context: { trusted_ca: { inline_string: 'x' } } } }),
      'Cluster "c".transport_socket.typed_config<UpstreamTlsContext>.common_tls_context.validation_context: not supported by the probe agent (it verifies against a trust bundle delivered over SDS only',
    ],
    [
      'a DNS SAN matcher',
      tls({
        common_tls_context: {
          combined_validation_context: {
            default_validation_context: {
              match_typed_subject_alt_names: [{ san_type: 'DNS', matcher: { exact: 'x' } }],
            },
            validation_context_sds_secret_config: { name: 'b', sds_config: { ads: {} } },
          },
        },
      }),
      'combined_validation_context.default_validation_context.match_typed_subject_alt_names[0].san_type: only URI SANs (SPIFFE IDs) are checked by the probe agent, got "DNS"',
    ],
    [
      'a client certificate',
      tls({ common_tls_context: { tls_certificates: [{ certificate_chain: { inline_string: 'x' } }] } }),
      'common_tls_context.tls_certificates: not supported by the probe agent',
    ],
    [
      'SDS certificates from another source than the ADS',
      tls({ common_tls_context: { tls_certificate_sds_secret_configs: [{ name: 's' }] } }),
      'common_tls_context.tls_certificate_sds_secret_configs[0].sds_config: missing: the probe agent fetches secrets over its ADS stream (sds_config.ads)',
    ],
    [
      'another transport socket',
      { name: 'envoy.transport_sockets.raw_buffer' },
      'Cluster "c".transport_socket: not supported by the probe agent: only envoy.transport_sockets.tls with an UpstreamTlsContext typed_config (got name "envoy.transport_sockets.raw_buffer", typed_config "none")',
    ],
  ])('refused: %s', (_n, ts, message) => {
    expect(() => parseCluster(cluster(ts))).toThrow(message);
  });
});

describe('path_separated_prefix', () => {
  const route = (prefix: string): RouteModel =>
    parseRouteConfiguration({
      name: 'r',
      virtual_hosts: [
        {
          name: 'v',
          domains: ['*'],
          routes: [{ match: { path_separated_prefix: prefix }, route: { cluster: 'c' } }],
        },
      ],
    }).virtualHosts[0]!.routes[0]!;

  it.each<[string, string, boolean]>([
    ['/healthz', '/healthz', true],
    ['/healthz', '/healthz/', true],
    ['/healthz', '/healthz/live?x=1', true],
    ['/healthz', '/healthzz', false],
    ['/healthz', '/health', false],
    ['/a/b', '/a/b/c', true],
    ['/a/b', '/a', false],
  ])('%s matches %s: %s', (prefix, target, match) => {
    expect(routeMatches(route(prefix), target)).toBe(match);
  });

  it.each(['/healthz/', '/h?x', '/h#f'])("refuses %s (Envoy's rule)", (prefix) => {
    expect(() => route(prefix)).toThrow('path_separated_prefix: invalid prefix');
  });
});
