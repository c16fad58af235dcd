/**
 * The CommonTlsContext of an UpstreamTlsContext (a cluster's TLS) or a DownstreamTlsContext (a
 * filter chain's): what the agent implements, and nothing it would silently ignore.
 *
 * - The certificate to present: one `tls_certificate_sds_secret_configs` entry fetched over the ADS
 *   (sds_config `ads`) — the proxy's workload certificate. Inline certificates are refused.
 * - Verification of the peer: a trust bundle over the ADS (`validation_context_sds_secret_config`,
 *   or `combined_validation_context` whose default context may add `match_typed_subject_alt_names`
 *   URI matchers, exact or prefix). Inline validation contexts, other SAN types and matchers are
 *   refused: a context asking to verify must never connect without verifying as asked.
 * - Neither: TLS without a certificate and without verifying (fsm's HTTPS probe clusters, as kubelet).
 */
import type { PeerVerification, SanMatcher } from '../model.js';
import { isObj, list, obj, optObj, refuse, show, str } from './fields.js';
import type { Problems } from './problems.js';

/** What a CommonTlsContext asks for. */
export interface CommonTls {
  alpn: string[];
  /** tls_params.tls_minimum_protocol_version (absent: Node's default, TLS 1.2). */
  minVersion?: 'TLSv1.2' | 'TLSv1.3';
  certSecret?: string;
  verify?: PeerVerification;
}

/** An SdsSecretConfig: its name, fetched over the ADS stream (the agent has no other SDS source). */
function sdsSecretName(p: Problems, v: unknown, path: string): string | undefined {
  const c = obj(p, v, path);
  if (!c) return undefined;
  const name = str(p, c.name, `${path}.name`, '');
  if (!name) return p.add(`${path}.name`, 'must name a secret');
  const src = optObj(p, c.sds_config, `${path}.sds_config`);
  if (!src) {
    return p.add(
      `${path}.sds_config`,
      'missing: the probe agent fetches secrets over its ADS stream (sds_config.ads)',
    );
  }
  if (!isObj(src.ads)) {
    const kind =
      Object.keys(src).find((k) => k !== 'resource_api_version' && k !== 'initial_fetch_timeout') ?? 'none';
    return p.add(`${path}.sds_config`, `only ads config sources are supported (got ${kind})`);
  }
  const api = str(p, src.resource_api_version, `${path}.sds_config.resource_api_version`, 'V3');
  if (api !== 'V3' && api !== 'AUTO')
    p.add(`${path}.sds_config.resource_api_version`, `expected V3, got ${show(api)}`);
  return name;
}

function sanMatchers(p: Problems, v: unknown, path: string): SanMatcher[] {
  const out: SanMatcher[] = [];
  list(p, v, path)?.forEach((m, i) => {
    const mp = `${path}[${i}]`;
    const o = obj(p, m, mp);
    if (!o) return;
    const type = str(p, o.san_type, `${mp}.san_type`, '');
    if (type !== 'URI') {
      p.add(`${mp}.san_type`, `only URI SANs (SPIFFE IDs) are checked by the probe agent, got ${show(type)}`);
      return;
    }
    const matcher = obj(p, o.matcher, `${mp}.matcher`);
    if (!matcher) return;
    refuse(p, matcher, ['suffix', 'contains', 'safe_regex', 'custom'], `${mp}.matcher`);
    if (matcher.ignore_case === true) p.add(`${mp}.matcher.ignore_case`, 'not supported by the probe agent');
    if (typeof matcher.exact === 'string' && matcher.exact !== '')
      out.push({ kind: 'exact', value: matcher.exact });
    else if (typeof matcher.prefix === 'string' && matcher.prefix !== '')
      out.push({ kind: 'prefix', value: matcher.prefix });
    else if (
      !['suffix', 'contains', 'safe_regex', 'custom'].some(
        (k) => matcher[k] !== undefined && matcher[k] !== null,
      )
    ) {
      p.add(`${mp}.matcher`, 'needs exact or prefix');
    }
  });
  return out;
}

/** The default validation context of a combined one: SAN matchers only (the bundle is the SDS secret's). */
function defaultValidation(p: Problems, v: unknown, path: string): SanMatcher[] {
  const d = optObj(p, v, path);
  if (!d) return [];
  const known = new Set(['match_typed_subject_alt_names']);
  for (const [k, val] of Object.entries(d)) {
    if (known.has(k) || val === undefined || val === null || val === false) continue;
    if (Array.isArray(val) && val.length === 0) continue;
    p.add(`${path}.${k}`, `not supported by the probe agent (got ${show(val)})`);
  }
  return sanMatchers(p, d.match_typed_subject_alt_names, `${path}.match_typed_subject_alt_names`);
}

export function parseCommonTls(p: Problems, v: unknown, path: string): CommonTls {
  if (v === undefined || v === null) return { alpn: [] };
  const ctx = obj(p, v, path);
  if (!ctx) return { alpn: [] };
  refuse(
    p,
    ctx,
    [
      'tls_certificate_provider_instance',
      'tls_certificate_certificate_provider',
      'tls_certificate_certificate_provider_instance',
      'validation_context_certificate_provider',
      'validation_context_certificate_provider_instance',
      'custom_handshaker',
      'key_log',
    ],
    path,
  );
  refuse(
    p,
    ctx,
    ['tls_certificates'],
    path,
    'not supported by the probe agent (it presents a certificate delivered over SDS only: tls_certificate_sds_secret_configs)',
  );
  refuse(
    p,
    ctx,
    ['validation_context'],
    path,
    'not supported by the probe agent (it verifies against a trust bundle delivered over SDS only: validation_context_sds_secret_config or combined_validation_context)',
  );
  const out: CommonTls = { alpn: [] };
  const params = optObj(p, ctx.tls_params, `${path}.tls_params`);
  if (params) {
    const pp = `${path}.tls_params`;
    refuse(p, params, ['cipher_suites', 'ecdh_curves', 'signature_algorithms', 'compliance_policies'], pp);
    const min = str(p, params.tls_minimum_protocol_version, `${pp}.tls_minimum_protocol_version`, 'TLS_AUTO');
    if (min === 'TLSv1_2') out.minVersion = 'TLSv1.2';
    else if (min === 'TLSv1_3') out.minVersion = 'TLSv1.3';
    else if (min !== 'TLS_AUTO') {
      p.add(`${pp}.tls_minimum_protocol_version`, `only TLSv1_2 or TLSv1_3 are supported, got ${show(min)}`);
    }
    const max = str(p, params.tls_maximum_protocol_version, `${pp}.tls_maximum_protocol_version`, 'TLS_AUTO');
    if (max !== 'TLS_AUTO' && max !== 'TLSv1_3') {
      p.add(`${pp}.tls_maximum_protocol_version`, `only TLS_AUTO or TLSv1_3 are supported, got ${show(max)}`);
    }
  }
  list(p, ctx.alpn_protocols, `${path}.alpn_protocols`)?.forEach((a, i) => {
    const proto = str(p, a, `${path}.alpn_protocols[${i}]`);
    if (proto) out.alpn.push(proto);
  });
  const certs =
    list(p, ctx.tls_certificate_sds_secret_configs, `${path}.tls_certificate_sds_secret_configs`) ?? [];
  if (certs.length > 1) {
    p.add(
      `${path}.tls_certificate_sds_secret_configs`,
      `at most one certificate is supported, got ${certs.length}`,
    );
  }
  if (certs.length > 0) {
    const name = sdsSecretName(p, certs[0], `${path}.tls_certificate_sds_secret_configs[0]`);
    if (name) out.certSecret = name;
  }
  if (isObj(ctx.validation_context_sds_secret_config)) {
    const bundle = sdsSecretName(
      p,
      ctx.validation_context_sds_secret_config,
      `${path}.validation_context_sds_secret_config`,
    );
    if (bundle) out.verify = { bundleSecret: bundle, sans: [] };
  } else if (ctx.combined_validation_context !== undefined && ctx.combined_validation_context !== null) {
    const cp = `${path}.combined_validation_context`;
    const c = obj(p, ctx.combined_validation_context, cp);
    if (c) {
      const sans = defaultValidation(p, c.default_validation_context, `${cp}.default_validation_context`);
      const bundle = sdsSecretName(
        p,
        c.validation_context_sds_secret_config,
        `${cp}.validation_context_sds_secret_config`,
      );
      refuse(
        p,
        c,
        ['validation_context_certificate_provider', 'validation_context_certificate_provider_instance'],
        cp,
      );
      if (bundle) out.verify = { bundleSecret: bundle, sans };
    }
  }
  return out;
}
