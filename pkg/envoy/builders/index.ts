export {
  HTTP_CONNECTION_MANAGER_FILTER,
  ROUTER_FILTER,
  TCP_PROXY_FILTER,
  TLS_INSPECTOR_FILTER,
  TLS_INSPECTOR_TYPE_URL,
} from './common.js';
export type { InboundPort } from './inbound.js';
export { rewriteTarget } from './probe-listener.js';
export type { HttpProbeRoute, ProbeListenerInput } from './probe-listener.js';
export { buildProxyResources, resourcesByTypeUrl } from './proxy.js';
export type { ProxyBuildInput } from './proxy.js';
export type { Cluster, Listener, ProxyResources, Route } from './types.js';
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
