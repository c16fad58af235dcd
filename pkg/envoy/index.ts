export {
  decodeMessage,
  encodeMessage,
  envoyRoot,
  hasMessageType,
  messageType,
  packAny,
  unpackAny,
} from './protos.js';
export type { PlainMessage } from './protos.js';
export {
  CLUSTER_LOAD_ASSIGNMENT_TYPE_URL,
  CLUSTER_TYPE_URL,
  DOWNSTREAM_TLS_CONTEXT_TYPE_URL,
  HTTP_CONNECTION_MANAGER_TYPE_URL,
  LISTENER_TYPE_URL,
  ROUTER_TYPE_URL,
  ROUTE_CONFIGURATION_TYPE_URL,
  SECRET_TYPE_URL,
  STDOUT_ACCESS_LOG_TYPE_URL,
  TCP_PROXY_TYPE_URL,
  UPSTREAM_TLS_CONTEXT_TYPE_URL,
  XDS_PUSH_ORDER,
  messageNameOf,
  shortTypeName,
} from './type-urls.js';
