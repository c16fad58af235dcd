/**
 * transport_socket → how the agent speaks TLS: a cluster's (envoy.transport_sockets.tls with an
 * UpstreamTlsContext) or a filter chain's (a DownstreamTlsContext); absent, plain TCP.
 *
 * Upstream: fsm's HTTPS probe clusters ask for TLS without a certificate and without verifying
 * (kubelet's behaviour); mesh clusters present the workload certificate and verify the server
 * against the trust bundle and its SPIFFE ID, both over SDS (tls-context.ts). Downstream: the
 * inbound mTLS chains terminate TLS with the workload certificate and, with
 * require_client_certificate, verify the client the same way. What the agent does not implement is
 * refused by name rather than ignored: a context asking to verify never connects without verifying.
 */
import { DOWNSTREAM_TLS_CONTEXT_TYPE_URL, UPSTREAM_TLS_CONTEXT_TYPE_URL } from '../../../envoy/index.js';
import type { DownstreamTlsModel, UpstreamTlsModel } from '../model.js';
import { boolValue, isObj, obj, refuse, show, str, unpack, type Obj } from './fields.js';
import type { Problems } from './problems.js';
import { parseCommonTls } from './tls-context.js';

export const TLS_TRANSPORT_SOCKET = 'envoy.transport_sockets.tls';

/** The TLS context packed in a transport socket of the expected type; undefined: refused (reported). */
function tlsContext(p: Problems, v: unknown, path: string, typeUrl: string, what: string): Obj | undefined {
  const ts = obj(p, v, path);
  if (!ts) return undefined;
  const name = str(p, ts.name, `${path}.name`, '');
  const tc = isObj(ts.typed_config) ? ts.typed_config : undefined;
  const got = tc ? str(p, tc.type_url, `${path}.typed_config.type_url`, '') : '';
  if (got !== typeUrl) {
    return p.add(
      path,
      `not supported by the probe agent: only ${TLS_TRANSPORT_SOCKET} with a${what} typed_config ` +
        `(got name ${show(name)}, typed_config ${show(got || 'none')})`,
    );
  }
  return unpack(p, tc!, `${path}.typed_config`);
}

/** The cluster's TLS, undefined for plain TCP (no transport_socket) or when it is refused (reported). */
export function parseTransportSocket(p: Problems, v: unknown, path: string): UpstreamTlsModel | undefined {
  if (v === undefined || v === null) return undefined;
  const ctx = tlsContext(p, v, path, UPSTREAM_TLS_CONTEXT_TYPE_URL, 'n UpstreamTlsContext');
  if (!ctx) return undefined;
  const cp = `${path}.typed_config<UpstreamTlsContext>`;
  refuse(p, ctx, ['max_session_keys', 'enforce_rsa_key_usage', 'allow_renegotiation'], cp);
  const sni = str(p, ctx.sni, `${cp}.sni`, '');
  const common = parseCommonTls(p, ctx.common_tls_context, `${cp}.common_tls_context`);
  return {
    ...(sni ? { sni } : {}),
    alpn: common.alpn,
    ...(common.certSecret ? { certSecret: common.certSecret } : {}),
    ...(common.verify ? { verify: common.verify } : {}),
    ...(common.minVersion ? { minVersion: common.minVersion } : {}),
  };
}

/** A filter chain's TLS termination; undefined for plaintext chains or when refused (reported). */
export function parseDownstreamTransportSocket(
  p: Problems,
  v: unknown,
  path: string,
): DownstreamTlsModel | undefined {
  if (v === undefined || v === null) return undefined;
  const ctx = tlsContext(p, v, path, DOWNSTREAM_TLS_CONTEXT_TYPE_URL, ' DownstreamTlsContext');
  if (!ctx) return undefined;
  const cp = `${path}.typed_config<DownstreamTlsContext>`;
  refuse(
    p,
    ctx,
    [
      'require_sni',
      'session_ticket_keys',
      'session_ticket_keys_sds_secret_config',
      'disable_stateless_session_resumption',
      'disable_stateful_session_resumption',
      'session_timeout',
      'ocsp_staple_policy',
      'full_scan_certs_for_sni',
    ],
    cp,
  );
  const common = parseCommonTls(p, ctx.common_tls_context, `${cp}.common_tls_context`);
  if (!common.certSecret) {
    return p.add(
      `${cp}.common_tls_context.tls_certificate_sds_secret_configs`,
      'TLS termination needs a certificate (one SDS secret)',
    );
  }
  const requireClientCertificate = boolValue(ctx.require_client_certificate, false);
  if (requireClientCertificate !== (common.verify !== undefined)) {
    p.add(
      `${cp}.require_client_certificate`,
      requireClientCertificate
        ? 'a client certificate is required but nothing verifies it (no validation context)'
        : 'a validation context without require_client_certificate (verify only when presented) is not supported by the probe agent',
    );
  }
  return {
    certSecret: common.certSecret,
    requireClientCertificate,
    ...(common.verify ? { verify: common.verify } : {}),
    ...(common.minVersion ? { minVersion: common.minVersion } : {}),
  };
}
