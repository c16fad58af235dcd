/**
 * The xDS probe agent: the part of a sidecar that probes need, standing in for Envoy in the
 * sandbox. It subscribes to Clusters and Listeners (and the RouteConfigurations its listeners name
 * over RDS) on the controller's ADS with the pod's proxy UUID as node.id, and serves the probe
 * listeners on the pod address. A configuration it cannot serve is NACKed and the last good one
 * keeps serving — also while the controller is away.
 *
 * With `tls` (the pod's bootstrap credential, as the node agent mounts it) it connects over mTLS,
 * checking the controller's name, and subscribes to its SDS secrets (its workload certificate and
 * the mesh trust bundle), checking each (certificate parses, key matches, bundle parses) and
 * NACKing otherwise. The credential files are read again for every connection.
 */
import { readFileSync } from 'node:fs';
import net from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { contentVersion } from '../../ads/index.js';
import {
  CLUSTER_LOAD_ASSIGNMENT_TYPE_URL,
  CLUSTER_TYPE_URL,
  LISTENER_TYPE_URL,
  ROUTE_CONFIGURATION_TYPE_URL,
  SECRET_TYPE_URL,
  shortTypeName,
} from '../../envoy/index.js';
import { SDS_TRUST_BUNDLE_NAME, SDS_WORKLOAD_CERT_NAME } from '../../constants/index.js';
import { silentLogger, type Logger } from '../../logger/index.js';
import { AdsClient, type AdsClientStatus, type NodeIdentity, type XdsResource } from './ads-client.js';
import type { BackoffOptions } from '../../backoff/index.js';
import { ListenerSet, type ListenerStatus } from './listeners.js';
import type { OriginalDestinationOf } from './original-destination.js';
import type { ClusterModel, Endpoint, RouteConfigModel, SecretModel } from './model.js';
import { EndpointPicker, type DataPlaneContext } from './upstream.js';
import { ConfigError, acceptResponse, isAgentTypeUrl } from './xds-config.js';

export interface ProbeAgentOptions {
  /** host:port of the controller's ADS. */
  adsAddress: string;
  /** The pod's proxy UUID (node.id). */
  nodeId: string;
  /** node.cluster; default '' (the injected bootstrap uses `<serviceAccount>.<namespace>`). */
  nodeCluster?: string;
  locality?: NodeIdentity['locality'];
  /** The pod's own loopback address (127.x.y.z): every listener binds it instead of 0.0.0.0. */
  podAddress: string;
  logger?: Logger;
  /**
   * Configured listener port → port actually bound; 0 binds any free port (tests run in parallel
   * and 1590x may be taken). Ports not listed bind as configured.
   */
  portMap?: Readonly<Record<number, number>>;
  /**
   * Cluster endpoint host → host actually dialed. Envoy dials 127.0.0.1:<port> inside the pod's
   * network namespace; in the sandbox the app listens on the pod address, so the sandbox passes
   * `{ '127.0.0.1': podAddress }`. Empty by default: endpoints are dialed as configured.
   */
  endpointHostMap?: Readonly<Record<string, string>>;
  /** Reconnect backoff of the ADS stream. */
  backoff?: BackoffOptions;
  /** Jitter source of the backoff (tests). */
  random?: () => number;
  /** mTLS with the pod's bootstrap credential (files, read for every connection). */
  tls?: AgentTls;
  /**
   * How a captured connection's original destination is learned. Given (namespace mode:
   * SO_ORIGINAL_DST), the capture listeners (use_original_dst) are bound and hand connections off by
   * original destination; absent (loopback mode), nothing redirects to them and they stay unbound.
   * The loopback mesh implementation (proxyProtocolOriginalDestination) binds them too and reads
   * a PROXY header off each connection first.
   */
  originalDestination?: OriginalDestinationOf;
  /** Where access log lines go (default: the logger, at info, as `access`). */
  accessLog?: (line: string) => void;
}

export interface AgentTls {
  certFile: string;
  keyFile: string;
  /** The mesh trust bundle the controller's certificate is checked against. */
  caFile: string;
  /** The name the controller's certificate must carry (fsm-controller.<fsm-namespace>.svc). */
  serverName: string;
}

/** A secret as status() reports it (no key material). */
export interface SecretStatus {
  name: string;
  kind: SecretModel['kind'];
  /** tls_certificate: the URI SANs (SPIFFE ID), serial and expiry; validation_context: the number of roots. */
  uris?: string[];
  serial?: string;
  notAfter?: string;
  roots?: number;
}

export interface ProbeAgentStatus {
  nodeId: string;
  podAddress: string;
  /** The ADS stream is open and the controller has answered on it (headers or a response). */
  connected: boolean;
  /** ADS streams opened so far (1 + reconnects). */
  streams: number;
  lastDisconnect?: string;
  /** Last ACKed version_info per type ('LDS', 'CDS', 'RDS'); '' before the first ACK. */
  versions: Record<string, string>;
  /** The last NACK per type since the last ACK of that type. */
  nacks: Record<string, { version: string; message: string }>;
  listeners: ListenerStatus[];
  clusters: string[];
  routeConfigs: string[];
  /** EDS: each load assignment held and its endpoints (host:port). */
  endpoints: Record<string, string[]>;
  /** SDS secrets held (with tls only). */
  secrets: SecretStatus[];
}

export interface ProbeAgent {
  /** Closes the ADS stream and every listener. Idempotent. */
  stop(): Promise<void>;
  status(): ProbeAgentStatus;
  /** The port a listener is bound on (useful with port-0 maps), undefined when not bound. */
  boundPort(listenerName: string): number | undefined;
  /** Resolves once a Cluster and a Listener configuration have both been applied. */
  configured(): Promise<void>;
  /** Calls `fn` after every change of status (connect, disconnect, ACK, NACK); returns the unsubscribe. */
  onChange(fn: () => void): () => void;
}

function validateOptions(o: ProbeAgentOptions): void {
  if (typeof o.nodeId !== 'string' || o.nodeId === '') {
    throw new Error(`nodeId: must be a non-empty string, got ${JSON.stringify(o.nodeId)}`);
  }
  if (typeof o.podAddress !== 'string' || net.isIP(o.podAddress) === 0) {
    throw new Error(`podAddress: must be an IP address, got ${JSON.stringify(o.podAddress)}`);
  }
  if (typeof o.adsAddress !== 'string' || !/^.+:\d+$/.test(o.adsAddress)) {
    throw new Error(`adsAddress: must be host:port, got ${JSON.stringify(o.adsAddress)}`);
  }
  for (const [from, to] of Object.entries(o.portMap ?? {})) {
    const f = Number(from);
    if (!Number.isInteger(f) || f < 1 || f > 65535 || !Number.isInteger(to) || to < 0 || to > 65535) {
      throw new Error(`portMap: invalid entry ${from} → ${String(to)}`);
    }
  }
  for (const [from, to] of Object.entries(o.endpointHostMap ?? {})) {
    if (net.isIP(from) === 0 || net.isIP(to) === 0) {
      throw new Error(`endpointHostMap: entries must map an IP to an IP, got ${from} → ${String(to)}`);
    }
  }
}

/** Starts the agent: the ADS stream opens at once; listeners are bound when configuration arrives. */
export async function startProbeAgent(options: ProbeAgentOptions): Promise<ProbeAgent> {
  validateOptions(options);
  const logger = (options.logger ?? silentLogger()).child({ component: 'probe-agent', node: options.nodeId });
  let clusters = new Map<string, ClusterModel>();
  const routes = new Map<string, RouteConfigModel>();
  const secrets = new Map<string, SecretModel>();
  const assignments = new Map<string, Endpoint[]>();
  let rdsSubscribed = false;
  let edsSubscribed = false;
  const picker = new EndpointPicker(options.endpointHostMap ?? {}, (name) => assignments.get(name));
  const announceTo = options.originalDestination?.announceTo;
  const context: DataPlaneContext = {
    logger,
    cluster: (name) => clusters.get(name),
    routeConfig: (name) => routes.get(name),
    pickEndpoint: (c) => picker.pick(c),
    secret: (name) => secrets.get(name),
    podAddress: options.podAddress,
    ...(announceTo ? { announceTo } : {}),
    accessLog: options.accessLog ?? ((line) => logger.info('access', { line })),
  };
  const listenerSet = new ListenerSet({
    podAddress: options.podAddress,
    portMap: options.portMap ?? {},
    context,
    logger,
    ...(options.originalDestination ? { originalDestination: options.originalDestination } : {}),
  });
  const watchers = new Set<() => void>();
  const notify = (): void => {
    for (const w of [...watchers]) {
      try {
        w();
      } catch (err) {
        logger.warn('onChange callback failed', { error: String(err) });
      }
    }
  };
  let applied = { cds: false, lds: false };
  let resolveConfigured: () => void = () => undefined;
  const configuredPromise = new Promise<void>((r) => (resolveConfigured = r));

  const messages = (resources: XdsResource[]): unknown[] => resources.map((r) => r.message);

  const applyClusters = (resources: XdsResource[]): void => {
    clusters = new Map(acceptResponse(CLUSTER_TYPE_URL, messages(resources)).map((c) => [c.name, c]));
    applied.cds = true;
    // EDS clusters: subscribe to exactly their load assignments (as Envoy does after CDS).
    const eds = [
      ...new Set([...clusters.values()].flatMap((c) => (c.kind === 'eds' ? [c.edsName ?? c.name] : []))),
    ].sort();
    if (eds.length > 0 || edsSubscribed) {
      edsSubscribed = true;
      for (const name of [...assignments.keys()]) if (!eds.includes(name)) assignments.delete(name);
      client.subscribe(CLUSTER_LOAD_ASSIGNMENT_TYPE_URL, eds);
    }
  };

  const applyLoadAssignments = (resources: XdsResource[]): void => {
    // EDS responses may carry only what changed: merge (all or nothing).
    for (const la of acceptResponse(CLUSTER_LOAD_ASSIGNMENT_TYPE_URL, messages(resources))) {
      assignments.set(la.name, la.endpoints);
    }
  };

  const applyListeners = async (resources: XdsResource[]): Promise<void> => {
    const models = acceptResponse(LISTENER_TYPE_URL, messages(resources));
    // Accepted: one model per resource, in order.
    models.forEach((m, i) => (m.fingerprint = contentVersion(resources[i]!.bytes)));
    await listenerSet.update(models);
    applied.lds = true;
    const rds = [...new Set(models.flatMap((m) => m.rdsNames))].sort();
    if (rds.length > 0 || rdsSubscribed) {
      rdsSubscribed = true;
      for (const name of [...routes.keys()]) if (!rds.includes(name)) routes.delete(name);
      client.subscribe(ROUTE_CONFIGURATION_TYPE_URL, rds);
    }
  };

  const applyRoutes = (resources: XdsResource[]): void => {
    // RDS responses carry only what changed: merge (all or nothing).
    for (const rc of acceptResponse(ROUTE_CONFIGURATION_TYPE_URL, messages(resources))) {
      routes.set(rc.name, rc);
    }
  };

  const applySecrets = (resources: XdsResource[]): void => {
    // SotW SDS responses carry only what changed: merge (all or nothing).
    for (const sm of acceptResponse(SECRET_TYPE_URL, messages(resources))) secrets.set(sm.name, sm);
  };

  const tls = options.tls;
  const client = new AdsClient({
    ...(tls
      ? {
          credentials: () =>
            grpc.credentials.createSsl(
              readFileSync(tls.caFile),
              readFileSync(tls.keyFile),
              readFileSync(tls.certFile),
            ),
          channelOptions: {
            'grpc.ssl_target_name_override': tls.serverName,
            'grpc.default_authority': tls.serverName,
          },
        }
      : {}),
    address: options.adsAddress,
    node: { id: options.nodeId, cluster: options.nodeCluster, locality: options.locality },
    logger,
    backoff: options.backoff,
    random: options.random,
    apply: async (typeUrl, resources) => {
      if (!isAgentTypeUrl(typeUrl)) {
        throw new ConfigError(`type ${typeUrl} is not handled by the probe agent`);
      }
      switch (typeUrl) {
        case CLUSTER_TYPE_URL:
          applyClusters(resources);
          break;
        case CLUSTER_LOAD_ASSIGNMENT_TYPE_URL:
          applyLoadAssignments(resources);
          break;
        case LISTENER_TYPE_URL:
          await applyListeners(resources);
          break;
        case ROUTE_CONFIGURATION_TYPE_URL:
          applyRoutes(resources);
          break;
        case SECRET_TYPE_URL:
          applySecrets(resources);
          break;
        default: {
          // Every type of RESOURCE_TYPES is applied: a new one fails to compile here until it is.
          const unhandled: never = typeUrl;
          throw new ConfigError(`type ${String(unhandled)} is not handled by the probe agent`);
        }
      }
    },
    onChange: () => {
      // After the ACK is recorded, so status() already shows the versions.
      if (applied.cds && applied.lds) resolveConfigured();
      notify();
    },
  });
  client.subscribe(CLUSTER_TYPE_URL);
  client.subscribe(LISTENER_TYPE_URL);
  if (tls) client.subscribe(SECRET_TYPE_URL, [SDS_WORKLOAD_CERT_NAME, SDS_TRUST_BUNDLE_NAME]);
  client.start();
  logger.info('probe agent started', { ads: options.adsAddress, podAddress: options.podAddress });

  let stopping: Promise<void> | undefined;
  return {
    stop: () => {
      stopping ??= (async () => {
        await client.stop();
        await listenerSet.closeAll();
        applied = { cds: false, lds: false };
        logger.info('probe agent stopped');
      })();
      return stopping;
    },
    status: () => {
      const s: AdsClientStatus = client.status();
      const versions: Record<string, string> = {};
      const nacks: Record<string, { version: string; message: string }> = {};
      for (const [typeUrl, t] of Object.entries(s.types)) {
        const short = shortTypeName(typeUrl);
        versions[short] = t.version;
        if (t.lastNack) nacks[short] = t.lastNack;
      }
      return {
        nodeId: options.nodeId,
        podAddress: options.podAddress,
        connected: s.connected,
        streams: s.streams,
        ...(s.lastDisconnect !== undefined ? { lastDisconnect: s.lastDisconnect } : {}),
        versions,
        nacks,
        listeners: listenerSet.status(),
        clusters: [...clusters.keys()].sort(),
        routeConfigs: [...routes.keys()].sort(),
        endpoints: Object.fromEntries(
          [...assignments.entries()]
            .sort(([a], [b]) => (a < b ? -1 : 1))
            .map(([name, eps]) => [name, eps.map((e) => `${e.host}:${e.port}`)]),
        ),
        secrets: [...secrets.values()]
          .sort((a, b) => (a.name < b.name ? -1 : 1))
          .map((sm) =>
            sm.kind === 'tls_certificate'
              ? {
                  name: sm.name,
                  kind: sm.kind,
                  uris: sm.uris,
                  serial: sm.serial,
                  notAfter: new Date(sm.notAfter).toISOString(),
                }
              : { name: sm.name, kind: sm.kind, roots: sm.roots },
          ),
      };
    },
    boundPort: (name) => listenerSet.boundPort(name),
    configured: () => configuredPromise,
    onChange: (fn) => {
      watchers.add(fn);
      return () => watchers.delete(fn);
    },
  };
}
