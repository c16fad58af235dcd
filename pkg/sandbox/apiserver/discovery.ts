/**
 * Discovery documents, generated from the served table: /version, /api (APIVersions), /apis
 * (APIGroupList), /apis/<group> (APIGroup), /api/v1 and /apis/<group>/<version> (APIResourceList),
 * and the OpenAPI v3 index and per-group/version documents kubectl reads (see openapi.ts). Pure:
 * the router has already answered 404 for anything not served.
 */
import type { DiscoveryDoc } from './router.js';
import { apiResourceList, groups, type ResourceInfo } from './resources.js';
import { openapiV3Document, openapiV3Index } from './openapi.js';

type O = Record<string, unknown>;

export interface DiscoveryContext {
  resources: readonly ResourceInfo[];
  /** `host:port` clients reach the server at (APIVersions.serverAddressByClientCIDRs). */
  serverAddress: string;
  /** Reported by /version (default 1.32). */
  version?: { major: string; minor: string };
}

export function versionInfo(version: { major: string; minor: string } = { major: '1', minor: '32' }): O {
  return {
    major: version.major,
    minor: version.minor,
    gitVersion: `v${version.major}.${version.minor}.0`,
    gitCommit: '0000000000000000000000000000000000000000',
    gitTreeState: 'clean',
    buildDate: '2026-01-01T00:00:00Z',
    goVersion: 'go1.23.0',
    compiler: 'gc',
    platform: 'linux/amd64',
  };
}

function apiGroup(name: string, versions: string[]): O {
  const gvs = versions.map((v) => ({ groupVersion: `${name}/${v}`, version: v }));
  return { name, versions: gvs, preferredVersion: gvs[0] };
}

/** The body of one discovery document; undefined when nothing is served there. */
export function discoveryDocument(doc: DiscoveryDoc, ctx: DiscoveryContext): O | undefined {
  switch (doc.type) {
    case 'version':
      return versionInfo(ctx.version);
    case 'api-versions':
      return {
        kind: 'APIVersions',
        versions: ['v1'],
        serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: ctx.serverAddress }],
      };
    case 'api-groups':
      return {
        kind: 'APIGroupList',
        apiVersion: 'v1',
        groups: groups(ctx.resources).map((g) => apiGroup(g.name, g.versions)),
      };
    case 'api-group': {
      const g = groups(ctx.resources).find((x) => x.name === doc.group);
      return g && { ...apiGroup(g.name, g.versions), kind: 'APIGroup', apiVersion: 'v1' };
    }
    case 'api-resources':
      return apiResourceList(doc.group, doc.version, ctx.resources);
    case 'openapi-index':
      return openapiV3Index(ctx.resources);
    case 'openapi':
      return openapiV3Document(doc.group, doc.version, ctx.resources);
  }
}
