/**
 * Access logs of the inbound app chains, written to the sidecar's stdout (`kubectl logs -c
 * sidecar`): one line per connection (TCP) or request (HTTP) naming the caller's verified identity
 * (`%DOWNSTREAM_PEER_URI_SAN%`, `-` for a plaintext caller of a permissive port). Pure.
 */
import { STDOUT_ACCESS_LOG_TYPE_URL } from '../type-urls.js';
import { typed } from './common.js';
import type { TypedConfig } from './types.js';

/** Envoy's name of the stdout access logger. */
export const STDOUT_ACCESS_LOGGER = 'envoy.access_loggers.stdout';

/** envoy.config.accesslog.v3.AccessLog */
export interface AccessLog {
  name: string;
  typed_config: TypedConfig;
}

/** One line per inbound TCP connection, when it closes. */
export const INBOUND_TCP_ACCESS_LOG_FORMAT =
  '[%START_TIME%] inbound tcp %DOWNSTREAM_REMOTE_ADDRESS% peer=%DOWNSTREAM_PEER_URI_SAN% ' +
  '-> %UPSTREAM_CLUSTER% flags=%RESPONSE_FLAGS% received=%BYTES_RECEIVED% sent=%BYTES_SENT% %DURATION%ms\n';

/** One line per inbound HTTP request. */
export const INBOUND_HTTP_ACCESS_LOG_FORMAT =
  '[%START_TIME%] inbound "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" ' +
  '%RESPONSE_CODE% peer=%DOWNSTREAM_PEER_URI_SAN% from=%DOWNSTREAM_REMOTE_ADDRESS% ' +
  '-> %UPSTREAM_CLUSTER% flags=%RESPONSE_FLAGS% %DURATION%ms\n';

/** A stdout access log with a text format. */
export function stdoutAccessLog(format: string): AccessLog {
  return {
    name: STDOUT_ACCESS_LOGGER,
    typed_config: typed(STDOUT_ACCESS_LOG_TYPE_URL, {
      log_format: { text_format_source: { inline_string: format } },
    }),
  };
}
