/**
 * SDS resources and the TLS transport socket of the sidecar's ADS cluster. Pure.
 *
 * - tlsCertificateSecret / validationContextSecret: the two `Secret` resources each proxy gets on
 *   its ADS stream (its workload certificate, the mesh trust bundle), PEM inline;
 * - sdsFile: the content of a file Envoy reads through an SDS `path_config_source` (a
 *   DiscoveryResponse-shaped JSON document). The bootstrap credential is delivered that way, with
 *   `watched_directory` on the mounted Secret volume: when kubelet swaps the volume's content
 *   (the controller renewed the Secret), Envoy re-reads the files;
 * - adsTransportSocket: the UpstreamTlsContext of the ADS cluster: client certificate and trust
 *   bundle from those files, and the controller's identity matched on its DNS SAN.
 */
import { SECRET_TYPE_URL, UPSTREAM_TLS_CONTEXT_TYPE_URL } from '../type-urls.js';
import { typed } from './common.js';
import type { TypedConfig } from './types.js';

export const TLS_TRANSPORT_SOCKET = 'envoy.transport_sockets.tls';

export interface TlsCertificateSecret {
  name: string;
  tls_certificate: { certificate_chain: { inline_string: string }; private_key: { inline_string: string } };
}

export interface ValidationContextSecret {
  name: string;
  validation_context: { trusted_ca: { inline_string: string } };
}

export type SdsSecret = TlsCertificateSecret | ValidationContextSecret;

export function tlsCertificateSecret(name: string, certPem: string, keyPem: string): TlsCertificateSecret {
  return {
    name,
    tls_certificate: {
      certificate_chain: { inline_string: certPem },
      private_key: { inline_string: keyPem },
    },
  };
}

export function validationContextSecret(name: string, bundlePem: string): ValidationContextSecret {
  return { name, validation_context: { trusted_ca: { inline_string: bundlePem } } };
}

/** A file-based SDS config source, reloaded when the directory's content is swapped (Kubernetes volumes). */
export function sdsFileConfigSource(path: string, watchedDirectory: string): Record<string, unknown> {
  return {
    path_config_source: { path, watched_directory: { path: watchedDirectory } },
    resource_api_version: 'V3',
  };
}

/** What an SDS path_config_source file holds: `{ resources: [ <Secret as Any> ] }` (JSON is valid YAML). */
export function sdsFile(secret: SdsSecret): string {
  return JSON.stringify({ resources: [{ '@type': SECRET_TYPE_URL, ...secret }] });
}

export interface AdsTransportSocketOptions {
  /** SDS name and file of the client certificate, and of the trust bundle. */
  certSecretName: string;
  certFile: string;
  caSecretName: string;
  caFile: string;
  /** The directory the files are in (the mounted Secret volume). */
  directory: string;
  /** The controller's DNS name: SNI, and the SAN its serving certificate must carry. */
  serverName: string;
}

export interface TransportSocket {
  name: string;
  typed_config: TypedConfig;
}

export function adsTransportSocket(o: AdsTransportSocketOptions): TransportSocket {
  return {
    name: TLS_TRANSPORT_SOCKET,
    typed_config: typed(UPSTREAM_TLS_CONTEXT_TYPE_URL, {
      sni: o.serverName,
      common_tls_context: {
        tls_params: { tls_minimum_protocol_version: 'TLSv1_2' },
        alpn_protocols: ['h2'],
        tls_certificate_sds_secret_configs: [
          { name: o.certSecretName, sds_config: sdsFileConfigSource(o.certFile, o.directory) },
        ],
        combined_validation_context: {
          default_validation_context: {
            match_typed_subject_alt_names: [{ san_type: 'DNS', matcher: { exact: o.serverName } }],
          },
          validation_context_sds_secret_config: {
            name: o.caSecretName,
            sds_config: sdsFileConfigSource(o.caFile, o.directory),
          },
        },
      },
    }),
  };
}
