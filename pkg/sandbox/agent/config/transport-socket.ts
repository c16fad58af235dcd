/**
 * A cluster's transport_socket → how the agent connects to its endpoints: TLS
 * (envoy.transport_sockets.tls with an UpstreamTlsContext) or, absent, plain TCP.
 *
 * The agent speaks TLS the way fsm's probe clusters ask for it (pkg/envoy/builders/probe-tls.ts): no
 * validation context, so the upstream certificate is not verified (kubelet's behaviour for HTTPS
 * probes); an optional SNI and ALPN list. Certificates, validation contexts and SDS are refused by
 * name rather than ignored: a cluster asking to verify must never connect without verifying.
 */
import { UPSTREAM_TLS_CONTEXT_TYPE_URL } from '../../../envoy/index.js';
import type { UpstreamTlsModel } from '../model.js';
import { isObj, list, obj, refuse, show, str, unpack, type Obj } from './fields.js';
import type { Problems } from './problems.js';

export const TLS_TRANSPORT_SOCKET = 'envoy.transport_sockets.tls';

function parseCommonTlsContext(p: Problems, v: unknown, path: string): string[] {
  if (v === undefined || v === null) return [];
  const ctx = obj(p, v, path);
  if (!ctx) return [];
  refuse(
    p,
    ctx,
    [
      'tls_certificates',
      'tls_certificate_sds_secret_configs',
      'tls_certificate_provider_instance',
      'tls_certificate_certificate_provider',
      'tls_certificate_certificate_provider_instance',
      'validation_context',
      'validation_context_sds_secret_config',
      'combined_validation_context',
      'validation_context_certificate_provider',
      'validation_context_certificate_provider_instance',
      'custom_handshaker',
      'key_log',
    ],
    path,
    'not supported by the probe agent (it connects without client certificates and without verifying, as kubelet does)',
  );
  const alpn: string[] = [];
  list(p, ctx.alpn_protocols, `${path}.alpn_protocols`)?.forEach((a, i) => {
    const proto = str(p, a, `${path}.alpn_protocols[${i}]`);
    if (proto) alpn.push(proto);
  });
  return alpn;
}

/** The cluster's TLS, undefined for plain TCP (no transport_socket) or when it is refused (reported). */
export function parseTransportSocket(p: Problems, v: unknown, path: string): UpstreamTlsModel | undefined {
  if (v === undefined || v === null) return undefined;
  const ts = obj(p, v, path);
  if (!ts) return undefined;
  const name = str(p, ts.name, `${path}.name`, '');
  const tc = isObj(ts.typed_config) ? (ts.typed_config as Obj) : undefined;
  const typeUrl = tc ? str(p, tc.type_url, `${path}.typed_config.type_url`, '') : '';
  if (typeUrl !== UPSTREAM_TLS_CONTEXT_TYPE_URL) {
    return p.add(
      path,
      `not supported by the probe agent: only ${TLS_TRANSPORT_SOCKET} with an UpstreamTlsContext typed_config ` +
        `(got name ${show(name)}, typed_config ${show(typeUrl || 'none')})`,
    );
  }
  const ctx = unpack(p, tc!, `${path}.typed_config`);
  if (!ctx) return undefined;
  const cp = `${path}.typed_config<UpstreamTlsContext>`;
  refuse(p, ctx, ['max_session_keys', 'enforce_rsa_key_usage'], cp);
  const sni = str(p, ctx.sni, `${cp}.sni`, '');
  const alpn = parseCommonTlsContext(p, ctx.common_tls_context, `${cp}.common_tls_context`);
  return { ...(sni ? { sni } : {}), alpn };
}
