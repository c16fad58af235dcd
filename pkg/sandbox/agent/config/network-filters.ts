/**
 * The network filters a filter chain may run, by the type URL of their typed_config: the HTTP
 * connection manager (router only, routes inline or over ADS-delivered RDS) and tcp_proxy. A new
 * network filter is a parser here and one entry in NETWORK_FILTERS.
 */
import {
  HTTP_CONNECTION_MANAGER_TYPE_URL,
  ROUTER_TYPE_URL,
  TCP_PROXY_TYPE_URL,
  messageNameOf,
} from '../../../envoy/index.js';
import { ROUTER_FILTER } from '../../../envoy/builders/index.js';
import type { HttpHandlerModel, TcpHandlerModel } from '../model.js';
import { durationMs, isObj, list, obj, optObj, refuse, show, str, type Obj } from './fields.js';
import type { Problems } from './problems.js';
import { parseRouteConfiguration } from './route.js';
import { parseAccessLogs } from './access-log.js';

/** Envoy's default tcp_proxy idle timeout (1 h). */
export const DEFAULT_TCP_IDLE_TIMEOUT_MS = 3_600_000;

export type NetworkHandler = HttpHandlerModel | TcpHandlerModel;

/** Parses a decoded filter configuration; `path` names the filter and its message type. */
export type NetworkFilterParser = (p: Problems, cfg: Obj, path: string) => NetworkHandler | undefined;

function parseHttpFilters(p: Problems, cfg: Obj, path: string): void {
  const filters = list(p, cfg.http_filters, `${path}.http_filters`);
  if (!filters) return;
  if (filters.length === 0) {
    p.add(`${path}.http_filters`, `must end with the router filter (${ROUTER_FILTER})`);
    return;
  }
  filters.forEach((f, i) => {
    const fp = `${path}.http_filters[${i}]`;
    const fo = obj(p, f, fp);
    if (!fo) return;
    const name = str(p, fo.name, `${fp}.name`, '');
    const typeUrl = isObj(fo.typed_config)
      ? str(p, fo.typed_config.type_url, `${fp}.typed_config.type_url`, '')
      : '';
    const isRouter = typeUrl === ROUTER_TYPE_URL || (typeUrl === '' && name === ROUTER_FILTER);
    if (!isRouter) {
      p.add(
        fp,
        `unknown HTTP filter ${show(name)} (${show(typeUrl || 'no typed_config')}): only the router is supported`,
      );
    } else if (i !== filters.length - 1) {
      p.add(fp, 'the router filter must be the last HTTP filter');
    }
  });
}

function parseHttpConnectionManager(p: Problems, cfg: Obj, path: string): HttpHandlerModel | undefined {
  const codec = str(p, cfg.codec_type, `${path}.codec_type`, 'AUTO');
  if (codec !== 'AUTO' && codec !== 'HTTP1') {
    p.add(`${path}.codec_type`, `only AUTO and HTTP1 are supported, got ${show(codec)}`);
  }
  refuse(p, cfg, ['scoped_routes', 'upgrade_configs'], path);
  parseHttpFilters(p, cfg, path);
  const statPrefix = str(p, cfg.stat_prefix, `${path}.stat_prefix`, '');
  const accessLogs = parseAccessLogs(p, cfg.access_log, `${path}.access_log`);
  const fcc = str(p, cfg.forward_client_cert_details, `${path}.forward_client_cert_details`, 'SANITIZE');
  if (fcc !== 'SANITIZE' && fcc !== 'SANITIZE_SET') {
    p.add(
      `${path}.forward_client_cert_details`,
      `only SANITIZE and SANITIZE_SET are supported, got ${show(fcc)}`,
    );
  }
  const details = optObj(p, cfg.set_current_client_cert_details, `${path}.set_current_client_cert_details`);
  if (details) {
    refuse(p, details, ['subject', 'cert', 'chain', 'dns'], `${path}.set_current_client_cert_details`);
  }
  const common = {
    kind: 'http' as const,
    statPrefix,
    forwardClientCert: fcc === 'SANITIZE_SET' ? ('SANITIZE_SET' as const) : ('SANITIZE' as const),
    clientCertUri: details?.uri === true,
    accessLogs,
  };
  if (isObj(cfg.route_config)) {
    const inline = parseRouteConfiguration(p, cfg.route_config, `${path}.route_config`);
    return inline && { ...common, routes: { inline } };
  }
  if (isObj(cfg.rds)) {
    const rp = `${path}.rds`;
    const rdsName = str(p, cfg.rds.route_config_name, `${rp}.route_config_name`, '');
    if (!rdsName) p.add(`${rp}.route_config_name`, 'must not be empty');
    const src = optObj(p, cfg.rds.config_source, `${rp}.config_source`);
    if (src && !isObj(src.ads)) {
      p.add(`${rp}.config_source`, 'only ads config sources are supported (the agent has one ADS stream)');
    }
    return { ...common, routes: { rds: rdsName } };
  }
  return p.add(path, 'needs route_config or rds');
}

function parseTcpProxy(p: Problems, cfg: Obj, path: string): TcpHandlerModel {
  const weighted = refuse(p, cfg, ['weighted_clusters'], path);
  refuse(p, cfg, ['on_demand', 'tunneling_config'], path);
  const cluster = str(p, cfg.cluster, `${path}.cluster`, '');
  // Clusters named through weighted_clusters were already reported as such.
  if (!cluster && !weighted) p.add(`${path}.cluster`, 'must name a cluster');
  return {
    kind: 'tcp',
    statPrefix: str(p, cfg.stat_prefix, `${path}.stat_prefix`, ''),
    cluster,
    idleTimeoutMs: durationMs(p, cfg.idle_timeout, `${path}.idle_timeout`, DEFAULT_TCP_IDLE_TIMEOUT_MS),
    accessLogs: parseAccessLogs(p, cfg.access_log, `${path}.access_log`),
  };
}

/** typed_config type URL → parser. */
export const NETWORK_FILTERS: ReadonlyMap<string, NetworkFilterParser> = new Map<string, NetworkFilterParser>(
  [
    [HTTP_CONNECTION_MANAGER_TYPE_URL, parseHttpConnectionManager],
    [TCP_PROXY_TYPE_URL, parseTcpProxy],
  ],
);

/** How a filter's configuration is named in problem paths: `filters[0]<HttpConnectionManager>`. */
export function filterConfigPath(filterPath: string, typeUrl: string): string {
  const message = messageNameOf(typeUrl);
  return `${filterPath}<${message.substring(message.lastIndexOf('.') + 1)}>`;
}
