/**
 * envoy.config.endpoint.v3.ClusterLoadAssignment → LoadAssignmentModel: the endpoints of an EDS
 * cluster, delivered over the ADS under the cluster's eds service name. Endpoints not HEALTHY,
 * DEGRADED or UNKNOWN are left out (as Envoy routes around them); policy is refused.
 */
import type { LoadAssignmentModel } from '../model.js';
import { parseLocalityEndpoints } from './cluster.js';
import { obj, refuse, show, str } from './fields.js';
import type { Problems } from './problems.js';
import type { ResourceType } from './resource-type.js';

function parseLoadAssignment(p: Problems, v: unknown): LoadAssignmentModel | undefined {
  const a = obj(p, v, 'ClusterLoadAssignment');
  if (!a) return undefined;
  const name = str(p, a.cluster_name, 'ClusterLoadAssignment.cluster_name', '');
  if (!name) return p.add('ClusterLoadAssignment.cluster_name', 'must not be empty');
  const path = `ClusterLoadAssignment ${show(name)}`;
  refuse(p, a, ['named_endpoints', 'policy'], path);
  const { endpoints } = parseLocalityEndpoints(p, a, path);
  return { name, endpoints };
}

export const LOAD_ASSIGNMENT_RESOURCE: ResourceType<LoadAssignmentModel> = {
  kind: 'ClusterLoadAssignment',
  parse: (message, problems) => parseLoadAssignment(problems, message),
};
