export {
  HTTP_CONNECTION_MANAGER_FILTER,
  ROUTER_FILTER,
  TCP_PROXY_FILTER,
  TLS_INSPECTOR_FILTER,
  TLS_INSPECTOR_TYPE_URL,
} from './common.js';
export {
  INBOUND_HTTP_ACCESS_LOG_FORMAT,
  INBOUND_TCP_ACCESS_LOG_FORMAT,
  STDOUT_ACCESS_LOGGER,
} from './access-log.js';
export { INBOUND_CAPTURE_LISTENER, inboundListenerName } from './inbound.js';
export type { InboundOptions, InboundPort } from './inbound.js';
export { inboundMtlsTransportSocket, outboundMtlsTransportSocket, trustDomainPrefix } from './mesh-tls.js';
export type { ServerIdentity } from './mesh-tls.js';
export {
  OUTBOUND_CAPTURE_LISTENER,
  OUTBOUND_PASSTHROUGH_CLUSTER,
  buildMeshServiceResources,
  buildOutboundBase,
  meshClusterName,
  meshListenerName,
} from './outbound.js';
export type { MeshEndpoint, MeshServiceInput, MeshServicePort } from './outbound.js';
export { rewriteTarget } from './probe-listener.js';
export type { HttpProbeRoute, ProbeListenerInput } from './probe-listener.js';
export { buildProxyResources, resourcesByTypeUrl, sharedResourcesByTypeUrl } from './proxy.js';
export type { NamedResource, ProxyBuildInput } from './proxy.js';
export type {
  Cluster,
  ClusterLoadAssignment,
  Listener,
  ProxyResources,
  Route,
  SharedResources,
} from './types.js';
export {
  TLS_TRANSPORT_SOCKET,
  adsTransportSocket,
  sdsFile,
  sdsFileConfigSource,
  tlsCertificateSecret,
  validationContextSecret,
} from './secrets.js';
export type {
  AdsTransportSocketOptions,
  SdsSecret,
  TlsCertificateSecret,
  TransportSocket,
  ValidationContextSecret,
} from './secrets.js';
