/**
 * A minimal OpenAPI v3 surface: the /openapi/v3 index and one document per group/version listing the
 * item paths with their PATCH operation, the group-version-kind extension and the fieldValidation
 * query parameter. That is what kubectl reads to learn that the server validates fields itself
 * (`kubectl apply` then sends fieldValidation=Strict instead of downloading schemas). No schemas are
 * published, so kubectl falls back to its built-in patch metadata for strategic merge patches.
 */
import { RESOURCES, type ResourceInfo } from './resources.js';

function gvPath(group: string, version: string): string {
  return group ? `apis/${group}/${version}` : `api/${version}`;
}

export function openapiV3Index(served: readonly ResourceInfo[] = RESOURCES): Record<string, unknown> {
  const paths: Record<string, { serverRelativeURL: string }> = {};
  for (const info of served) {
    const p = gvPath(info.group, info.version);
    paths[p] = { serverRelativeURL: `/openapi/v3/${p}?hash=fsm-sandbox-1` };
  }
  return { paths };
}

function itemPath(info: ResourceInfo): string {
  const base = `/${gvPath(info.group, info.version)}`;
  return info.namespaced
    ? `${base}/namespaces/{namespace}/${info.resource}/{name}`
    : `${base}/${info.resource}/{name}`;
}

const QUERY_PARAMS = ['dryRun', 'fieldManager', 'fieldValidation', 'force', 'pretty'];

/** The document of one group/version, or undefined when we serve none. */
export function openapiV3Document(
  group: string,
  version: string,
  served: readonly ResourceInfo[] = RESOURCES,
): Record<string, unknown> | undefined {
  const infos = served.filter((x) => x.group === group && x.version === version);
  if (infos.length === 0) return undefined;
  const paths: Record<string, unknown> = {};
  for (const info of infos) {
    const gvk = { group: info.group, version: info.version, kind: info.kind };
    const op = (verb: string): Record<string, unknown> => ({
      operationId: `${verb}${info.kind}`,
      'x-kubernetes-action': verb,
      'x-kubernetes-group-version-kind': gvk,
      parameters: QUERY_PARAMS.map((name) => ({
        name,
        in: 'query',
        description: name,
        schema: { type: name === 'force' ? 'boolean' : 'string', uniqueItems: true },
      })),
      responses: { '200': { description: 'OK' } },
    });
    paths[itemPath(info)] = { patch: op('patch'), put: op('put') };
  }
  return {
    openapi: '3.0.0',
    info: { title: 'Kubernetes', version: 'v1.32.0' },
    paths,
    components: { schemas: {} },
  };
}
