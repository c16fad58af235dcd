/**
 * Decoded xDS resources → the agent's model (model.ts). Pure. One parser per resource type under
 * config/, each reporting every problem it finds (resource, field path, value) rather than the
 * first; a response is parsed as a whole into `{ config, problems }`, and the ADS client NACKs a
 * response with problems with all of them listed (bounded), keeping the last good configuration.
 *
 * Adding a resource type: a parser file under config/ exporting a ResourceType, and one line in
 * RESOURCE_TYPES (the agent's apply then fails to typecheck until it handles the new type).
 */
import {
  CLUSTER_LOAD_ASSIGNMENT_TYPE_URL,
  CLUSTER_TYPE_URL,
  LISTENER_TYPE_URL,
  ROUTE_CONFIGURATION_TYPE_URL,
  SECRET_TYPE_URL,
} from '../../envoy/index.js';
import { CLUSTER_RESOURCE } from './config/cluster.js';
import { LISTENER_RESOURCE } from './config/listener.js';
import { LOAD_ASSIGNMENT_RESOURCE } from './config/load-assignment.js';
import { ConfigError, Problems } from './config/problems.js';
import { parseResources, type ParsedConfig, type ResourceType } from './config/resource-type.js';
import { SECRET_RESOURCE } from './config/secret.js';
import {
  ROUTE_CONFIGURATION_RESOURCE,
  parseRouteConfiguration as parseRouteConfigurationInto,
} from './config/route.js';
import type { ClusterModel, ListenerModel, RouteConfigModel } from './model.js';

export { DEFAULT_CONNECT_TIMEOUT_MS } from './config/cluster.js';
export { POD_LOCAL_HOSTS } from './config/listener.js';
export { DEFAULT_TCP_IDLE_TIMEOUT_MS } from './config/network-filters.js';
export {
  ConfigError,
  NACK_DETAIL_LIMITS,
  Problems,
  formatProblems,
  problemText,
  type DetailLimits,
  type Problem,
} from './config/problems.js';
export { parseResources, type ParsedConfig, type ResourceType } from './config/resource-type.js';
export { DEFAULT_ROUTE_TIMEOUT_MS } from './config/route.js';

/** Every xDS resource type the agent understands, by type URL. */
export const RESOURCE_TYPES = {
  [CLUSTER_TYPE_URL]: CLUSTER_RESOURCE,
  [CLUSTER_LOAD_ASSIGNMENT_TYPE_URL]: LOAD_ASSIGNMENT_RESOURCE,
  [LISTENER_TYPE_URL]: LISTENER_RESOURCE,
  [ROUTE_CONFIGURATION_TYPE_URL]: ROUTE_CONFIGURATION_RESOURCE,
  [SECRET_TYPE_URL]: SECRET_RESOURCE,
} as const satisfies Record<string, ResourceType<{ name: string }>>;

export type AgentTypeUrl = keyof typeof RESOURCE_TYPES;

/** The model a resource type parses into. */
export type ModelOf<T extends AgentTypeUrl> =
  (typeof RESOURCE_TYPES)[T] extends ResourceType<infer M> ? M : never;

export function isAgentTypeUrl(typeUrl: string): typeUrl is AgentTypeUrl {
  return Object.hasOwn(RESOURCE_TYPES, typeUrl);
}

/** Every resource of one response → the models and every problem (config valid only without problems). */
export function parseResponse<T extends AgentTypeUrl>(
  typeUrl: T,
  messages: readonly unknown[],
): ParsedConfig<ModelOf<T>> {
  // RESOURCE_TYPES[T] is ResourceType<ModelOf<T>> by ModelOf's definition; TypeScript cannot see it.
  return parseResources(RESOURCE_TYPES[typeUrl] as unknown as ResourceType<ModelOf<T>>, messages);
}

/** The models of a response; a ConfigError listing every problem (bounded) when it has any. */
export function acceptResponse<T extends AgentTypeUrl>(
  typeUrl: T,
  messages: readonly unknown[],
): ModelOf<T>[] {
  const { config, problems } = parseResponse(typeUrl, messages);
  if (problems.length > 0) throw ConfigError.of(problems);
  return config;
}

function parseOne<M>(parse: (p: Problems) => M | undefined): M {
  const p = new Problems();
  const model = parse(p);
  if (p.count > 0) throw ConfigError.of(p.list());
  // A parser that gives up always says why: undefined without a problem would be a parser bug.
  if (model === undefined) throw new ConfigError('the resource could not be parsed');
  return model;
}

/** One Listener; a ConfigError lists every problem it has. */
export function parseListener(v: unknown): ListenerModel {
  return parseOne((p) => LISTENER_RESOURCE.parse(v, p));
}

/** One Cluster; a ConfigError lists every problem it has. */
export function parseCluster(v: unknown): ClusterModel {
  return parseOne((p) => CLUSTER_RESOURCE.parse(v, p));
}

/** One RouteConfiguration (`where` names it in problem paths); a ConfigError lists every problem. */
export function parseRouteConfiguration(v: unknown, where?: string): RouteConfigModel {
  return parseOne((p) => parseRouteConfigurationInto(p, v, where));
}
