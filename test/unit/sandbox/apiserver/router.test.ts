/** The API server's path router: method + URL → route or rejection, as a table. */
import { customResource, RESOURCES } from '../../../../pkg/sandbox/apiserver/resources.js';
import {
  isPublic,
  routeRequest,
  type Route,
  type RoutingTable,
} from '../../../../pkg/sandbox/apiserver/router.js';

const TABLE: RoutingTable = {
  resources: [
    ...RESOURCES,
    customResource('cert-manager.io', 'v1', 'Certificate'),
    customResource('cert-manager.io', 'v1', 'ClusterIssuer', { namespaced: false }),
  ],
  connect: [
    { resource: 'services', subresource: 'proxy', subpath: true },
    { resource: 'pods', subresource: 'log', subpath: false },
    { resource: 'pods', subresource: 'portforward', subpath: false },
  ],
};

/** The route without the ResourceInfo object and with the query as a plain object. */
function summary(route: Route): Record<string, unknown> {
  switch (route.kind) {
    case 'resource': {
      const { info, query, kind: _kind, method: _method, ...rest } = route;
      void _kind;
      void _method;
      const out: Record<string, unknown> = { ...rest, kind: info.kind };
      if ([...query.keys()].length > 0) out['query'] = Object.fromEntries(query);
      for (const k of Object.keys(out)) if (out[k] === undefined) delete out[k];
      if (out['search'] === '') delete out['search'];
      return out;
    }
    case 'reject':
      return { reject: route.code, message: route.message };
    case 'discovery':
      return { discovery: route.doc };
    case 'controls':
      return { controls: route.method };
    case 'health':
      return { health: true };
  }
}

const NF = { reject: 404, message: 'the server could not find the requested resource' };
const pods = { group: '', version: 'v1', resource: 'pods', key: 'pods', kind: 'Pod' };
const ns = { group: '', version: 'v1', resource: 'namespaces', key: 'namespaces', kind: 'Namespace' };
const deploys = {
  group: 'apps',
  version: 'v1',
  resource: 'deployments',
  key: 'apps/deployments',
  kind: 'Deployment',
};
const svcs = { group: '', version: 'v1', resource: 'services', key: 'services', kind: 'Service' };
const notAllowed = (m: string): Record<string, unknown> => ({
  reject: 405,
  message: `the server does not allow this method on the requested resource: ${m}`,
});

const rows: [string, string, Record<string, unknown>][] = [
  // health and discovery
  ['GET', '/healthz', { health: true }],
  ['POST', '/livez/', { health: true }],
  ['GET', '/readyz', { health: true }],
  ['GET', '/version', { discovery: { type: 'version' } }],
  ['GET', '/version/', { discovery: { type: 'version' } }],
  ['GET', '/api', { discovery: { type: 'api-versions' } }],
  ['GET', '/apis', { discovery: { type: 'api-groups' } }],
  ['GET', '/apis/apps', { discovery: { type: 'api-group', group: 'apps' } }],
  ['GET', '/apis/cert-manager.io', { discovery: { type: 'api-group', group: 'cert-manager.io' } }],
  ['GET', '/apis/nope.io', NF],
  ['GET', '/apis/nope.io/v1/widgets', NF],
  ['GET', '/api/v1', { discovery: { type: 'api-resources', group: '', version: 'v1' } }],
  ['GET', '/api/v2', NF],
  ['GET', '/apis/apps/v1', { discovery: { type: 'api-resources', group: 'apps', version: 'v1' } }],
  ['GET', '/apis/apps/v2', NF],
  ['GET', '/openapi/v3', { discovery: { type: 'openapi-index' } }],
  ['GET', '/openapi/v3/api/v1', { discovery: { type: 'openapi', group: '', version: 'v1' } }],
  ['GET', '/openapi/v3/apis/apps/v1', { discovery: { type: 'openapi', group: 'apps', version: 'v1' } }],
  ['GET', '/openapi/v3/apis/nope.io/v1', NF],
  ['GET', '/openapi/v3/api/v2', NF],
  ['GET', '/openapi/v2', NF],
  ['GET', '/', NF],
  ['GET', '/metrics', NF],
  // test controls
  ['GET', '/fsm-sandbox/faults', { controls: 'GET' }],
  ['POST', '/fsm-sandbox/faults/', { controls: 'POST' }],
  ['DELETE', '/fsm-sandbox/faults', { reject: 405, message: '/fsm-sandbox/faults accepts GET and POST' }],
  // core group, namespaced kind: collections
  ['GET', '/api/v1/pods', { ...pods, verb: 'list' }],
  ['GET', '/api/v1/namespaces/default/pods', { ...pods, verb: 'list', namespace: 'default' }],
  [
    'GET',
    '/api/v1/namespaces/default/pods?labelSelector=app%3Dweb&limit=5',
    {
      ...pods,
      verb: 'list',
      namespace: 'default',
      query: { labelSelector: 'app=web', limit: '5' },
      search: '?labelSelector=app%3Dweb&limit=5',
    },
  ],
  [
    'GET',
    '/api/v1/namespaces/default/pods?watch=true',
    { ...pods, verb: 'watch', namespace: 'default', query: { watch: 'true' }, search: '?watch=true' },
  ],
  [
    'GET',
    '/api/v1/pods?watch=1&resourceVersion=10',
    {
      ...pods,
      verb: 'watch',
      query: { watch: '1', resourceVersion: '10' },
      search: '?watch=1&resourceVersion=10',
    },
  ],
  [
    'GET',
    '/api/v1/pods?watch=false',
    { ...pods, verb: 'list', query: { watch: 'false' }, search: '?watch=false' },
  ],
  ['GET', '/api/v1/watch/namespaces/default/pods', { ...pods, verb: 'watch', namespace: 'default' }],
  ['GET', '/api/v1/watch/pods', { ...pods, verb: 'watch' }],
  ['POST', '/api/v1/namespaces/default/pods', { ...pods, verb: 'create', namespace: 'default' }],
  ['POST', '/api/v1/pods', { reject: 405, message: 'POST on pods requires a namespace in the path' }],
  ['DELETE', '/api/v1/namespaces/default/pods', { ...pods, verb: 'deletecollection', namespace: 'default' }],
  ['PUT', '/api/v1/namespaces/default/pods', notAllowed('PUT')],
  ['HEAD', '/api/v1/pods', notAllowed('HEAD')],
  // core group, namespaced kind: one object
  ['GET', '/api/v1/namespaces/default/pods/p1', { ...pods, verb: 'get', namespace: 'default', name: 'p1' }],
  ['GET', '/api/v1/namespaces/default/pods/p1/', { ...pods, verb: 'get', namespace: 'default', name: 'p1' }],
  [
    'PUT',
    '/api/v1/namespaces/default/pods/p1',
    { ...pods, verb: 'update', namespace: 'default', name: 'p1' },
  ],
  [
    'PATCH',
    '/api/v1/namespaces/default/pods/p1',
    { ...pods, verb: 'patch', namespace: 'default', name: 'p1' },
  ],
  [
    'DELETE',
    '/api/v1/namespaces/default/pods/p1',
    { ...pods, verb: 'delete', namespace: 'default', name: 'p1' },
  ],
  ['POST', '/api/v1/namespaces/default/pods/p1', notAllowed('POST')],
  [
    'GET',
    '/api/v1/watch/namespaces/default/pods/p1',
    { ...pods, verb: 'watch', namespace: 'default', name: 'p1' },
  ],
  [
    'GET',
    '/api/v1/namespaces/default/pods/a%2Fb',
    { ...pods, verb: 'get', namespace: 'default', name: 'a/b' },
  ],
  ['GET', '/api/v1/pods/p1', NF],
  // the status subresource
  [
    'GET',
    '/api/v1/namespaces/default/pods/p1/status',
    { ...pods, verb: 'get', namespace: 'default', name: 'p1', subresource: 'status' },
  ],
  [
    'PUT',
    '/api/v1/namespaces/default/pods/p1/status',
    { ...pods, verb: 'update', namespace: 'default', name: 'p1', subresource: 'status' },
  ],
  [
    'PATCH',
    '/api/v1/namespaces/default/pods/p1/status',
    { ...pods, verb: 'patch', namespace: 'default', name: 'p1', subresource: 'status' },
  ],
  ['GET', '/api/v1/namespaces/default/pods/p1/exec', NF],
  ['GET', '/api/v1/namespaces/default/pods/p1/status/extra', NF],
  ['GET', '/api/v1/namespaces/default/secrets/s1/status', NF],
  // cluster-scoped kinds
  ['GET', '/api/v1/namespaces', { ...ns, verb: 'list' }],
  ['POST', '/api/v1/namespaces', { ...ns, verb: 'create' }],
  ['GET', '/api/v1/namespaces/kube-system', { ...ns, verb: 'get', name: 'kube-system' }],
  [
    'PUT',
    '/api/v1/namespaces/kube-system/status',
    { ...ns, verb: 'update', name: 'kube-system', subresource: 'status' },
  ],
  ['GET', '/api/v1/namespaces/kube-system/namespaces', NF],
  [
    'GET',
    '/apis/rbac.authorization.k8s.io/v1/clusterroles/admin',
    {
      group: 'rbac.authorization.k8s.io',
      version: 'v1',
      resource: 'clusterroles',
      key: 'rbac.authorization.k8s.io/clusterroles',
      kind: 'ClusterRole',
      verb: 'get',
      name: 'admin',
    },
  ],
  ['GET', '/apis/rbac.authorization.k8s.io/v1/namespaces/default/clusterroles', NF],
  // named groups and custom resources
  ['GET', '/apis/apps/v1/deployments', { ...deploys, verb: 'list' }],
  [
    'GET',
    '/apis/apps/v1/namespaces/default/deployments/web',
    { ...deploys, verb: 'get', namespace: 'default', name: 'web' },
  ],
  [
    'PATCH',
    '/apis/apps/v1/namespaces/default/deployments/web/status',
    { ...deploys, verb: 'patch', namespace: 'default', name: 'web', subresource: 'status' },
  ],
  ['GET', '/apis/apps/v2/deployments', NF],
  ['GET', '/api/v1/deployments', NF],
  [
    'GET',
    '/apis/cert-manager.io/v1/namespaces/x/certificates/c',
    {
      group: 'cert-manager.io',
      version: 'v1',
      resource: 'certificates',
      key: 'cert-manager.io/certificates',
      kind: 'Certificate',
      verb: 'get',
      namespace: 'x',
      name: 'c',
    },
  ],
  [
    'GET',
    '/apis/cert-manager.io/v1/clusterissuers/ca',
    {
      group: 'cert-manager.io',
      version: 'v1',
      resource: 'clusterissuers',
      key: 'cert-manager.io/clusterissuers',
      kind: 'ClusterIssuer',
      verb: 'get',
      name: 'ca',
    },
  ],
  // connect subresources
  [
    'GET',
    '/api/v1/namespaces/fsm/services/ctl:9091/proxy/debug/x?y=1',
    {
      ...svcs,
      verb: 'connect',
      namespace: 'fsm',
      name: 'ctl',
      port: '9091',
      subresource: 'proxy',
      subpath: '/debug/x',
      query: { y: '1' },
      search: '?y=1',
    },
  ],
  [
    'POST',
    '/api/v1/namespaces/a/services/b/proxy',
    { ...svcs, verb: 'connect', namespace: 'a', name: 'b', port: '', subresource: 'proxy', subpath: '/' },
  ],
  [
    'DELETE',
    '/api/v1/namespaces/a/services/b:http/proxy/x//y%20z',
    {
      ...svcs,
      verb: 'connect',
      namespace: 'a',
      name: 'b',
      port: 'http',
      subresource: 'proxy',
      subpath: '/x//y%20z',
    },
  ],
  [
    'GET',
    '/api/v1/namespaces/a/services/b/proxy/%E0',
    { ...svcs, verb: 'connect', namespace: 'a', name: 'b', port: '', subresource: 'proxy', subpath: '/%E0' },
  ],
  ['GET', '/api/v1/services/b/proxy', NF],
  ['GET', '/api/v1/watch/namespaces/a/services/b/proxy', NF],
  ['GET', '/api/v1/namespaces/a/services/b:/proxy', NF],
  ['GET', '/api/v1/namespaces/a/services/:80/proxy', NF],
  [
    'GET',
    '/api/v1/namespaces/default/pods/p1/log?container=c&follow=true',
    {
      ...pods,
      verb: 'connect',
      namespace: 'default',
      name: 'p1',
      port: '',
      subresource: 'log',
      query: { container: 'c', follow: 'true' },
      search: '?container=c&follow=true',
    },
  ],
  ['GET', '/api/v1/namespaces/default/pods/p1/log/extra', NF],
  [
    'POST',
    '/api/v1/namespaces/default/pods/p1/portforward?ports=8080',
    {
      ...pods,
      verb: 'connect',
      namespace: 'default',
      name: 'p1',
      port: '',
      subresource: 'portforward',
      query: { ports: '8080' },
      search: '?ports=8080',
    },
  ],
  ['GET', '/api/v1/namespaces/default/pods/p1/proxy/x', NF],
  // bad paths
  [
    'GET',
    '/api/v1/namespaces/%E0%A4%A',
    { reject: 400, message: 'the request path is not valid percent-encoding: "/api/v1/namespaces/%E0%A4%A"' },
  ],
  ['GET', '/foo/%E0', { reject: 400, message: 'the request path is not valid percent-encoding: "/foo/%E0"' }],
  [
    'GET',
    '/api/v1/namespaces/a/services/b%E0/proxy',
    {
      reject: 400,
      message: 'the request path is not valid percent-encoding: "/api/v1/namespaces/a/services/b%E0/proxy"',
    },
  ],
  ['GET', '/api/v1/widgets', NF],
  ['GET', '/api/v1/namespaces/default/widgets', NF],
  ['GET', '/api/v1/watch', NF],
  ['GET', '/api//v1//pods/', { ...pods, verb: 'list' }],
  ['GET', '//api/v1/pods', NF],
  ['GET', 'http://[', { reject: 400, message: 'the request URL is not valid: "http://["' }],
];

describe('routeRequest', () => {
  it.each(rows)('%s %s', (method, url, want) => {
    expect(summary(routeRequest(method, url, TABLE))).toEqual(want);
  });

  it('connect subresources exist only when registered', () => {
    const bare: RoutingTable = { resources: RESOURCES };
    expect(summary(routeRequest('GET', '/api/v1/namespaces/default/pods/p1/log', bare))).toEqual(NF);
    expect(summary(routeRequest('GET', '/api/v1/namespaces/a/services/b/proxy/x', bare))).toEqual(NF);
  });

  it('only kinds in the served table are routed', () => {
    const withoutApps: RoutingTable = { resources: RESOURCES.filter((r) => r.group !== 'apps') };
    expect(summary(routeRequest('GET', '/apis/apps/v1/deployments', withoutApps))).toEqual(NF);
    expect(summary(routeRequest('GET', '/apis/apps', withoutApps))).toEqual(NF);
    expect(
      summary(routeRequest('GET', '/apis/cert-manager.io/v1/clusterissuers', { resources: RESOURCES })),
    ).toEqual(NF);
  });
});

describe('isPublic', () => {
  it.each([
    ['/healthz', true],
    ['/livez', true],
    ['/readyz', true],
    ['/version', true],
    ['/api', false],
    ['/apis', false],
    ['/openapi/v3', false],
    ['/fsm-sandbox/faults', false],
    ['/api/v1/pods', false],
    ['/nope', false],
  ])('%s → %s', (path, want) => {
    expect(isPublic(routeRequest('GET', path, TABLE))).toBe(want);
  });
});
