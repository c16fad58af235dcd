/**
 * TLS from the proxy to the app, for the HTTPS probes (and hooks) whose TLS the proxy originates:
 * kubelet calls the probe listener over plain HTTP and the proxy speaks HTTPS to the app.
 *
 * The UpstreamTlsContext has no validation context, so the app's certificate is not verified — exactly
 * kubelet's behaviour: kubelet's HTTPS probes skip certificate verification (InsecureSkipVerify), so a
 * probe against a self-signed or expired certificate passes with the mesh as it does without it. No
 * SNI is sent, as kubelet sends none when it calls a pod IP.
 */
import { UPSTREAM_TLS_CONTEXT_TYPE_URL } from '../type-urls.js';
import { typed } from './common.js';
import type { Cluster, TransportSocket } from './types.js';

/** Envoy's name of the TLS transport socket. */
export const TLS_TRANSPORT_SOCKET = 'envoy.transport_sockets.tls';

/** TLS to the upstream without verifying it (kubelet's HTTPS probe semantics). */
export function probeUpstreamTls(): TransportSocket {
  return {
    name: TLS_TRANSPORT_SOCKET,
    typed_config: typed(UPSTREAM_TLS_CONTEXT_TYPE_URL, { common_tls_context: {} }),
  };
}

/** `cluster` speaking TLS to its endpoint (a fresh object). */
export function withProbeUpstreamTls(cluster: Cluster): Cluster {
  return { ...cluster, transport_socket: probeUpstreamTls() };
}
