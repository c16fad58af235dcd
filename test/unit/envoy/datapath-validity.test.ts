/**
 * Envoy-validity of every resource kind the data path adds (issue 15), checked as the builder
 * round-trip and validity tests check the others: (1) strict encoding through fsm's proto root
 * (unknown fields and wrong shapes throw), (2) decoded back unchanged, (3) the protoc-gen-validate
 * rules of the upstream protos (what Envoy enforces when it loads a resource), through a root that
 * also knows the packed TLS inspector.
 */
import type { Root } from 'protobufjs';
import { decodeMessage, encodeMessage, loadProtoRoot } from '../../../pkg/envoy/protos.js';
import {
  CLUSTER_LOAD_ASSIGNMENT_TYPE_URL,
  CLUSTER_TYPE_URL,
  LISTENER_TYPE_URL,
} from '../../../pkg/envoy/type-urls.js';
import {
  buildMeshServiceResources,
  buildOutboundBase,
  buildProxyResources,
  type MeshServiceInput,
} from '../../../pkg/envoy/builders/index.js';
import { PgvViolation, pgvChecker } from '../../support/pgv.js';

let root: Root;
beforeAll(() => {
  root = loadProtoRoot([
    'envoy/config/listener/v3/listener.proto',
    'envoy/config/cluster/v3/cluster.proto',
    'envoy/config/endpoint/v3/endpoint.proto',
    'envoy/extensions/transport_sockets/tls/v3/tls.proto',
    'envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.proto',
    'envoy/extensions/filters/http/router/v3/router.proto',
    'envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy.proto',
    'envoy/extensions/filters/listener/tls_inspector/v3/tls_inspector.proto',
    'envoy/extensions/access_loggers/stream/v3/stream.proto',
  ]);
});

const READ = { enums: String, longs: Number, json: true } as const;

/**
 * What the decoder gives for what we built: a packed Any of a type outside the root keeps its bytes,
 * an empty repeated field is not on the wire.
 */
function asDecoded(v: unknown): unknown {
  if (v instanceof Uint8Array) return Buffer.from(v);
  if (Array.isArray(v)) return v.map(asDecoded);
  if (v !== null && typeof v === 'object') {
    return Object.fromEntries(
      Object.entries(v)
        .filter(([, x]) => !(Array.isArray(x) && x.length === 0))
        .map(([k, x]) => [k, asDecoded(x)]),
    );
  }
  return v;
}

function envoyValid(typeUrl: string, resource: object): void {
  const bytes = encodeMessage(typeUrl, resource as Record<string, unknown>);
  expect(decodeMessage(typeUrl, bytes, READ)).toEqual(asDecoded(resource));
  const type = root.lookupType(typeUrl.slice(typeUrl.lastIndexOf('/') + 1));
  pgvChecker(root).check(typeUrl, type.decode(bytes));
}

const mesh: MeshServiceInput = {
  namespace: 'bookstore',
  name: 'bookstore-v1',
  clusterIP: '10.96.0.20',
  ports: [
    { port: 14001, endpoints: [{ address: '10.244.0.7', port: 14001 }] },
    { port: 9000, endpoints: [] },
  ],
  server: {
    spiffeIds: ['spiffe://cluster.local/ns/bookstore/sa/bookstore'],
    namespacePrefix: 'spiffe://cluster.local/ns/bookstore/sa/',
  },
};

const inbound = (mode: 'strict' | 'permissive') =>
  buildProxyResources({
    probes: [],
    inboundPorts: [
      { container: 'web', port: 14001, protocol: 'http' },
      { container: 'db', port: 5432, protocol: 'tcp' },
    ],
    inbound: { mode, trustDomain: 'cluster.local' },
  });

const cases: [string, string, object][] = [
  ...(['strict', 'permissive'] as const).flatMap((mode) =>
    inbound(mode).listeners.map((l): [string, string, object] => [`${mode} ${l.name}`, LISTENER_TYPE_URL, l]),
  ),
  ...buildOutboundBase().listeners.map((l): [string, string, object] => [l.name, LISTENER_TYPE_URL, l]),
  ...buildOutboundBase().clusters.map((c): [string, string, object] => [c.name, CLUSTER_TYPE_URL, c]),
  ...buildMeshServiceResources(mesh).listeners.map((l): [string, string, object] => [
    l.name,
    LISTENER_TYPE_URL,
    l,
  ]),
  ...buildMeshServiceResources(mesh).clusters.map((c): [string, string, object] => [
    `cluster ${c.name}`,
    CLUSTER_TYPE_URL,
    c,
  ]),
  ...buildMeshServiceResources(mesh).loadAssignments.map((a): [string, string, object] => [
    `assignment ${a.cluster_name}`,
    CLUSTER_LOAD_ASSIGNMENT_TYPE_URL,
    a,
  ]),
  [
    'cluster with no service account known yet (namespace prefix)',
    CLUSTER_TYPE_URL,
    buildMeshServiceResources({ ...mesh, server: { ...mesh.server, spiffeIds: [] } }).clusters[0]!,
  ],
];

it.each(cases)('%s: strict encoding, round trip, PGV rules', (_n, typeUrl, resource) => {
  envoyValid(typeUrl, resource);
});

describe('the checks see what Envoy would refuse in the new kinds', () => {
  const encodeDecode = (typeUrl: string, o: object) =>
    root.lookupType(typeUrl.slice(typeUrl.lastIndexOf('/') + 1)).decode(encodeMessage(typeUrl, o as any));
  it.each<[string, string, () => object, RegExp]>([
    [
      'a SAN matcher without a type',
      CLUSTER_TYPE_URL,
      () => {
        const c = structuredClone(buildMeshServiceResources(mesh).clusters[0]!) as any;
        c.transport_socket.typed_config.common_tls_context.combined_validation_context.default_validation_context.match_typed_subject_alt_names[0].san_type =
          'SAN_TYPE_UNSPECIFIED';
        return c;
      },
      /san_type: 0 is excluded/,
    ],
    [
      'an SDS secret config without a name',
      LISTENER_TYPE_URL,
      () => {
        const l = structuredClone(inbound('strict').listeners.find((x) => x.name === 'inbound_5432')!) as any;
        l.filter_chains[0].transport_socket.typed_config.common_tls_context.tls_certificate_sds_secret_configs[0].name =
          '';
        return l;
      },
      /name/,
    ],
    [
      'an endpoint port above 65535',
      CLUSTER_LOAD_ASSIGNMENT_TYPE_URL,
      () => {
        const a = structuredClone(
          buildMeshServiceResources(mesh).loadAssignments.find((x) => x.endpoints.length > 0)!,
        ) as any;
        a.endpoints[0].lb_endpoints[0].endpoint.address.socket_address.port_value = 70000;
        return a;
      },
      /port_value: 70000 must be <= 65535/,
    ],
  ])('%s', (_n, typeUrl, make, err) => {
    const decoded = encodeDecode(typeUrl, make());
    expect(() => pgvChecker(root).check(typeUrl, decoded)).toThrow(PgvViolation);
    expect(() => pgvChecker(root).check(typeUrl, decoded)).toThrow(err);
  });
});
