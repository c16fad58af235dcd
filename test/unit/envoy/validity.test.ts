/**
 * Envoy-validity of what fsm hands Envoy, checked as Envoy would: the sidecar bootstrap (with its
 * mTLS transport socket on the ADS cluster), the SDS Secret resources and the SDS files of the
 * bootstrap credential, and every builder resource. Each is (1) encoded strictly through the
 * upstream protos (unknown fields and wrong shapes throw, pkg/envoy/protos.ts), (2) decoded back
 * unchanged, and (3) checked against the protoc-gen-validate rules of the upstream protos
 * (test/support/pgv.ts), which is what Envoy enforces when it loads a config.
 */
import type { Root, Type } from 'protobufjs';
import { checkMessage, encodeMessage, envoyRoot, loadProtoRoot } from '../../../pkg/envoy/protos.js';
import { SECRET_TYPE_URL, CLUSTER_TYPE_URL, LISTENER_TYPE_URL } from '../../../pkg/envoy/type-urls.js';
import {
  adsTransportSocket,
  sdsFile,
  tlsCertificateSecret,
  validationContextSecret,
} from '../../../pkg/envoy/builders/secrets.js';
import { buildProxyResources } from '../../../pkg/envoy/builders/index.js';
import { envoyBootstrap } from '../../../pkg/injector/index.js';
import { fromProto3Json } from '../../support/envoy-json.js';
import { PgvViolation, pgvChecker } from '../../support/pgv.js';

const BOOTSTRAP = 'envoy.config.bootstrap.v3.Bootstrap';
let root: Root;
let bootstrapType: Type;
beforeAll(() => {
  root = loadProtoRoot([
    'envoy/config/bootstrap/v3/bootstrap.proto',
    'envoy/extensions/transport_sockets/tls/v3/secret.proto',
    'envoy/extensions/transport_sockets/tls/v3/tls.proto',
    'envoy/extensions/upstreams/http/v3/http_protocol_options.proto',
    'envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.proto',
    'envoy/extensions/filters/http/router/v3/router.proto',
    'envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy.proto',
    'envoy/extensions/filters/listener/tls_inspector/v3/tls_inspector.proto',
    'envoy/extensions/access_loggers/stream/v3/stream.proto',
  ]);
  bootstrapType = root.lookupType(BOOTSTRAP);
});

const READ = { enums: String, longs: Number, json: true } as const;

/** Strict encode, decode, compare, PGV: the whole check for one message of `root`. */
function envoyValid(r: Root, typeName: string, obj: Record<string, unknown>): void {
  const type = r.lookupType(typeName);
  checkMessage(type, obj);
  const bytes = type.encode(type.fromObject(obj)).finish();
  const decoded = type.decode(bytes);
  expect(type.toObject(decoded, READ)).toEqual(
    JSON.parse(JSON.stringify(type.toObject(type.fromObject(obj), READ))),
  );
  pgvChecker(r).check(typeName, decoded);
}

const boot = {
  proxyUuid: '6f1c2a9e-1d2b-4c3d-8e4f-0123456789ab',
  namespace: 'bookstore',
  serviceAccount: 'bookbuyer',
  fsmNamespace: 'fsm-system',
};

describe('the sidecar bootstrap', () => {
  it('is a valid envoy.config.bootstrap.v3.Bootstrap (strict encoding, round trip, PGV rules)', () => {
    const json = envoyBootstrap(boot);
    envoyValid(root, BOOTSTRAP, fromProto3Json(root, bootstrapType, json));
  });

  it('its ADS cluster speaks mTLS: bootstrap certificate and bundle over file SDS, controller SAN matched', () => {
    const b = envoyBootstrap(boot) as any;
    const ts = b.static_resources.clusters[0].transport_socket;
    expect(ts.name).toBe('envoy.transport_sockets.tls');
    const tls = ts.typed_config;
    expect(tls['@type']).toBe(
      'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext',
    );
    expect(tls.sni).toBe('fsm-controller.fsm-system.svc');
    const ctx = tls.common_tls_context;
    expect(ctx.tls_certificate_sds_secret_configs).toEqual([
      {
        name: 'fsm-bootstrap-cert',
        sds_config: {
          path_config_source: {
            path: '/etc/fsm/bootstrap/sds-cert.json',
            watched_directory: { path: '/etc/fsm/bootstrap' },
          },
          resource_api_version: 'V3',
        },
      },
    ]);
    expect(ctx.combined_validation_context.default_validation_context.match_typed_subject_alt_names).toEqual([
      { san_type: 'DNS', matcher: { exact: 'fsm-controller.fsm-system.svc' } },
    ]);
    expect(
      ctx.combined_validation_context.validation_context_sds_secret_config.sds_config.path_config_source.path,
    ).toBe('/etc/fsm/bootstrap/sds-ca.json');
  });
});

describe('SDS resources', () => {
  const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
  it.each([
    [
      'workload certificate',
      tlsCertificateSecret(
        'fsm-workload-cert',
        pem,
        '-----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----\n',
      ),
    ],
    ['trust bundle', validationContextSecret('fsm-trust-bundle', pem + pem)],
  ])('%s: a valid Secret in fsm’s proto root (what the ADS pushes)', (_n, secret) => {
    const obj = secret as unknown as Record<string, unknown>;
    expect(encodeMessage(SECRET_TYPE_URL, obj).length).toBeGreaterThan(0);
    envoyValid(envoyRoot(), SECRET_TYPE_URL.slice(20), obj);
  });

  it('the SDS files of the bootstrap credential hold one valid Secret each', () => {
    for (const secret of [
      tlsCertificateSecret('fsm-bootstrap-cert', pem, 'k'),
      validationContextSecret('fsm-bootstrap-ca', pem),
    ]) {
      const doc = JSON.parse(sdsFile(secret)) as { resources: Record<string, unknown>[] };
      expect(doc.resources).toHaveLength(1);
      const { '@type': t, ...fields } = doc.resources[0]!;
      expect(t).toBe(SECRET_TYPE_URL);
      envoyValid(root, SECRET_TYPE_URL.slice(20), fields);
    }
  });

  it('the transport socket builder alone is a valid TransportSocket', () => {
    const ts = adsTransportSocket({
      certSecretName: 'c',
      certFile: '/x/c.json',
      caSecretName: 'a',
      caFile: '/x/a.json',
      directory: '/x',
      serverName: 'fsm-controller.fsm-system.svc',
    });
    envoyValid(root, 'envoy.config.core.v3.TransportSocket', ts as unknown as Record<string, unknown>);
  });
});

describe('the builders pass the PGV rules too', () => {
  const built = buildProxyResources({
    probes: [
      {
        type: 'liveness',
        http: [
          {
            container: 'app',
            matchPath: '/fsm-liveness-probe',
            originalPath: '/healthz',
            port: 8080,
            headers: [{ name: 'X-Probe', value: 'kubelet' }],
            timeoutSeconds: 1,
          },
        ],
        https: { container: 'web', port: 8443, timeoutSeconds: 2 },
      },
    ],
    inboundPorts: [{ container: 'app', port: 8080 }],
  });
  it.each([
    ...built.listeners.map((l) => [l.name, LISTENER_TYPE_URL, l] as const),
    ...built.clusters.map((c) => [c.name, CLUSTER_TYPE_URL, c] as const),
  ])('%s', (_n, url, resource) => {
    // Encoded by fsm's root; decoded and checked with the wider test root (it has the TLS inspector).
    const type = root.lookupType(url.slice(20));
    pgvChecker(root).check(
      url,
      type.decode(encodeMessage(url, resource as unknown as Record<string, unknown>)),
    );
  });
});

describe('the PGV checker catches what Envoy would refuse', () => {
  const base = (): any => fromProto3Json(root, bootstrapType, envoyBootstrap(boot));
  it.each<[string, (b: any) => void, RegExp]>([
    [
      'port above 65535',
      (b) =>
        (b.static_resources.clusters[0].load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address.port_value = 70000),
      /port_value: 70000 must be <= 65535/,
    ],
    [
      'SAN matcher without a type',
      (b) =>
        (b.static_resources.clusters[0].transport_socket.typed_config.common_tls_context.combined_validation_context.default_validation_context.match_typed_subject_alt_names[0].san_type =
          'SAN_TYPE_UNSPECIFIED'),
      /san_type: 0 is excluded/,
    ],
    [
      'zero connect timeout',
      (b) => (b.static_resources.clusters[0].connect_timeout = { seconds: 0 }),
      /connect_timeout: duration must be > 0 ns/,
    ],
    [
      'empty SDS path',
      (b) =>
        (b.static_resources.clusters[0].transport_socket.typed_config.common_tls_context.tls_certificate_sds_secret_configs[0].sds_config.path_config_source.path =
          ''),
      /path: length 0 < min_len 1/,
    ],
  ])('%s', (_n, edit, err) => {
    const b = base();
    edit(b);
    const type = root.lookupType(BOOTSTRAP);
    const decoded = type.decode(type.encode(type.fromObject(b)).finish());
    expect(() => pgvChecker(root).check(BOOTSTRAP, decoded)).toThrow(PgvViolation);
    expect(() => pgvChecker(root).check(BOOTSTRAP, decoded)).toThrow(err);
  });
});
