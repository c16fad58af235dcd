/**
 * mTLS between sidecars, with the identity material the proxy already has on its ADS stream: its
 * workload certificate (SDS `fsm-workload-cert`) and the mesh trust bundle (SDS `fsm-trust-bundle`),
 * both referenced by name with an `ads` config source, never inline — a certificate renewal or a
 * root rotation is one SDS push, the listeners and clusters that use them do not change. Pure.
 *
 * - Inbound (DownstreamTlsContext): the proxy presents its workload certificate and requires a client
 *   certificate that chains to the bundle AND carries a URI SAN of the mesh's trust domain
 *   (`spiffe://<trust-domain>/…`). The mesh CA also signs the sidecars' bootstrap credentials (client
 *   certificates for the ADS, no URI SAN): the SAN check keeps them from passing as a workload.
 * - Outbound (UpstreamTlsContext): the proxy presents its workload certificate and requires the
 *   server's to chain to the bundle and carry one of the expected SPIFFE IDs exactly (the service
 *   accounts of the Service's endpoints).
 */
import { SDS_TRUST_BUNDLE_NAME, SDS_WORKLOAD_CERT_NAME } from '../../constants/index.js';
import { DOWNSTREAM_TLS_CONTEXT_TYPE_URL, UPSTREAM_TLS_CONTEXT_TYPE_URL } from '../type-urls.js';
import { typed } from './common.js';
import { TLS_TRANSPORT_SOCKET } from './secrets.js';
import type { AdsConfigSource, TransportSocket } from './types.js';

/** The ADS stream as a config source (SDS secrets and EDS assignments come over it). */
export function adsConfigSource(): AdsConfigSource {
  return { ads: {}, resource_api_version: 'V3' };
}

/** An SdsSecretConfig naming a secret delivered on the ADS stream. */
function sdsByName(name: string): { name: string; sds_config: AdsConfigSource } {
  return { name, sds_config: adsConfigSource() };
}

const TLS_PARAMS = { tls_minimum_protocol_version: 'TLSv1_2' } as const;

/** `spiffe://<trust-domain>/`: every workload identity of the mesh starts with it. */
export function trustDomainPrefix(trustDomain: string): string {
  return `spiffe://${trustDomain}/`;
}

/**
 * TLS termination requiring a mesh workload identity from the client: certificate chained to the
 * bundle and URI SAN under `spiffe://<trust-domain>/`.
 */
export function inboundMtlsTransportSocket(trustDomain: string): TransportSocket {
  return {
    name: TLS_TRANSPORT_SOCKET,
    typed_config: typed(DOWNSTREAM_TLS_CONTEXT_TYPE_URL, {
      require_client_certificate: { value: true },
      common_tls_context: {
        tls_params: TLS_PARAMS,
        tls_certificate_sds_secret_configs: [sdsByName(SDS_WORKLOAD_CERT_NAME)],
        combined_validation_context: {
          default_validation_context: {
            match_typed_subject_alt_names: [
              { san_type: 'URI', matcher: { prefix: trustDomainPrefix(trustDomain) } },
            ],
          },
          validation_context_sds_secret_config: sdsByName(SDS_TRUST_BUNDLE_NAME),
        },
      },
    }),
  };
}

/**
 * The server's identity as the outbound cluster checks it: each SPIFFE ID exactly, or (no endpoint
 * known yet, so no service account) any identity of the Service's namespace — never "anything the
 * bundle signed", which is what an empty SAN list would mean to Envoy.
 */
export interface ServerIdentity {
  /** Exact SPIFFE IDs (sorted); empty: `namespacePrefix` applies. */
  spiffeIds: readonly string[];
  /** `spiffe://<trust-domain>/ns/<namespace>/sa/`. */
  namespacePrefix: string;
}

/** TLS origination presenting the workload certificate and verifying the server's SPIFFE ID. */
export function outboundMtlsTransportSocket(server: ServerIdentity): TransportSocket {
  const sans =
    server.spiffeIds.length > 0
      ? server.spiffeIds.map((id) => ({ san_type: 'URI', matcher: { exact: id } }))
      : [{ san_type: 'URI', matcher: { prefix: server.namespacePrefix } }];
  return {
    name: TLS_TRANSPORT_SOCKET,
    typed_config: typed(UPSTREAM_TLS_CONTEXT_TYPE_URL, {
      common_tls_context: {
        tls_params: TLS_PARAMS,
        tls_certificate_sds_secret_configs: [sdsByName(SDS_WORKLOAD_CERT_NAME)],
        combined_validation_context: {
          default_validation_context: { match_typed_subject_alt_names: sans },
          validation_context_sds_secret_config: sdsByName(SDS_TRUST_BUNDLE_NAME),
        },
      },
    }),
  };
}
